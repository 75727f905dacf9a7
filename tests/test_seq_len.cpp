// Windows that fit the model (issue 26): every verb that windows text defaults to the model's context length
// capped at 2048 (core/eval/seq_len.h), reads that context from config.json or the GGUF's metadata, and refuses
// a longer window in one line naming both numbers.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "eval/seq_len.h"
#include "file_source.h"
#include "test_util.h"
#include "util/error.h"

using namespace squint;
using namespace squint::test;
using json = nlohmann::json;

TEST_CASE("seq-len: the default is the model's context capped at 2048, longer is refused naming both",
          "[eval][seq-len]") {
  CHECK(default_seq_len(256) == 256);
  CHECK(default_seq_len(512) == 512);
  CHECK(default_seq_len(4096) == 2048);
  CHECK(default_seq_len(0) == 2048);  // a config that does not say
  CHECK(resolve_seq_len(0, 256, "--seq-len", "m") == 256);
  CHECK(resolve_seq_len(128, 256, "--seq-len", "m") == 128);
  CHECK(resolve_seq_len(256, 256, "--seq-len", "m") == 256);
  CHECK(resolve_seq_len(4096, 0, "--seq-len", "m") == 4096);  // unknown context: the user's word
  CHECK_THROWS_WITH(resolve_seq_len(257, 256, "--seq-len", "m"),
                    Catch::Contains("--seq-len 257 is longer than the context of m (256 tokens)"));
}

TEST_CASE("seq-len: eval without --seq-len windows like --seq-len <context>, for safetensors and GGUF",
          "[eval][seq-len][slow]") {
  TempDir d;
  for (const auto& [name, ctx] :
       std::vector<std::pair<std::string, int>>{{"stories260K", 512}, {"tinystories-3M", 256}}) {
    const std::string gguf = d.str(name + ".gguf");
    REQUIRE(run(cli() + " -q quantize " + shared_model(name) + " -o " + gguf) == 0);  // float GGUF: -o NAME.gguf
    for (const std::string& m : {shared_model(name), gguf}) {
      INFO(m);
      const std::string base = cli() + " -q eval " + m + " --text " + eval_text() + " --samples 3";
      REQUIRE(run(base + " -o " + d.str("def.json")) == 0);
      REQUIRE(run(base + " --seq-len " + std::to_string(ctx) + " -o " + d.str("ctx.json")) == 0);
      REQUIRE(run(base + " --seq-len " + std::to_string(ctx / 2) + " -o " + d.str("half.json")) == 0);
      const json def = json::parse(read_text_file(d.str("def.json")));
      const json at_ctx = json::parse(read_text_file(d.str("ctx.json")));
      const json half = json::parse(read_text_file(d.str("half.json")));
      CHECK(def["seq_len"] == ctx);
      CHECK(def["windows"] == at_ctx["windows"]);
      CHECK(def["median_ppl"] == at_ctx["median_ppl"]);
      // Negative control: other windows give other numbers, so the equality above could fail.
      CHECK(half["windows"] != def["windows"]);
      std::string out;
      CHECK(run(base + " --seq-len " + std::to_string(ctx + 1), &out) == 2);
      CHECK(out == "squint: error: eval: --seq-len " + std::to_string(ctx + 1) + " is longer than the context of " + m +
                       " (" + std::to_string(ctx) + " tokens); give at most " + std::to_string(ctx) +
                       ", or leave --seq-len out for " + std::to_string(ctx) + "\n");
    }
  }
}

TEST_CASE("seq-len: drift, sweep, plan --select-text and analyze --calibrate share eval's default",
          "[eval][seq-len][slow]") {
  TempDir d;
  const std::string m = shared_model("stories260K");  // context 512: neither the old 256 nor the cap
  std::string out;
  REQUIRE(run(cli() + " -q drift " + m + " --text " + eval_text() + " --samples 2 --configs 8/64 -o " +
              d.str("drift.json")) == 0);
  CHECK(json::parse(read_text_file(d.str("drift.json")))["text"]["seq_len"] == 512);
  REQUIRE(run(cli() + " -q sweep " + m + " --text " + eval_text() +
              " --samples 2 --min-bpw 8 --max-bpw 8.5 --noise-seeds 0 --objectives params-mse --priors flat -o " +
              d.str("sweep.json")) == 0);
  CHECK(json::parse(read_text_file(d.str("sweep.json")))["seq_len"] == 512);
  REQUIRE(run(cli() + " analyze " + m + " --calibrate " + eval_text() + " --calibrate-samples 2 -o " + d.str("a.json"),
              &out) == 0);
  CHECK_THAT(out, Catch::Contains("2 windows of 512 tokens"));
  REQUIRE(
      run(cli() + " plan " + m + " --bpw 8 --select-text " + eval_text() + " --select-samples 2 -o " + d.str("p.json"),
          &out) == 0);
  CHECK_THAT(out, Catch::Contains("2 windows of 512 tokens"));
  // The solves and the evaluations are timed apart (issue 26: one figure hid that the evaluations are all of it).
  CHECK_THAT(out, Catch::Contains(" candidate plans over 47 items in "));
  CHECK_THAT(out, Catch::Contains(" ms; evaluated the float model and "));
  CHECK_THAT(out, Catch::Contains(" distinct candidates on 2 windows in "));
  // Each refuses a window beyond the context, naming its own flag.
  CHECK(run(cli() + " -q drift " + m + " --text " + eval_text() + " --seq-len 600", &out) == 2);
  CHECK_THAT(out, Catch::Contains("--seq-len 600 is longer than the context of " + m + " (512 tokens)"));
  CHECK(run(cli() + " -q plan " + m + " --bpw 8 --select-text " + eval_text() + " --select-seq-len 600", &out) == 2);
  CHECK_THAT(out, Catch::Contains("--select-seq-len 600 is longer than the context"));
  CHECK(run(cli() + " -q analyze " + m + " --calibrate " + eval_text() + " --calibrate-seq-len 600", &out) == 2);
  CHECK_THAT(out, Catch::Contains("--calibrate-seq-len 600 is longer than the context"));
}

TEST_CASE("seq-len: imatrix defaults to llama-imatrix's chunk of 512 capped at the model's context",
          "[eval][seq-len]") {
  TempDir d;
  const std::string m = shared_model("tinystories-3M");  // context 256: the chunk of 512 would not fit
  std::string out;
  REQUIRE(run(cli() + " imatrix " + m + " --text " + eval_text() + " --samples 2 -o " + d.str("im.gguf"), &out) == 0);
  CHECK_THAT(out, Catch::Contains("from 2 windows of 256 tokens"));
  REQUIRE(run(cli() + " imatrix " + shared_model("stories260K") + " --text " + eval_text() + " --samples 2 -o " +
                  d.str("im2.gguf"),
              &out) == 0);
  CHECK_THAT(out, Catch::Contains("from 2 windows of 512 tokens"));  // context 512: the chunk itself
  CHECK(run(cli() + " -q imatrix " + m + " --text " + eval_text() + " --seq-len 512 -o " + d.str("im3.gguf"), &out) ==
        2);
  CHECK_THAT(out, Catch::Contains("--seq-len 512 is longer than the context of " + m + " (256 tokens)"));
  CHECK(!path_exists(d.str("im3.gguf")));
}
