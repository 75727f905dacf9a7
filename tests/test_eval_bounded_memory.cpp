// Evaluation in bounded memory (issue 24): `squint eval` of a BF16 checkpoint whose float32 copy would not fit
// under the address-space limit set for the run (ulimit -v) succeeds, with the window NLLs of the float32 path
// (every weight converted on load, as eval ran before) within 1e-6 nats; the same limit refuses an F32
// checkpoint of the same shapes (negative control: a float32 copy of this model does not fit).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "eval/evaluate.h"
#include "eval_model.h"
#include "file_source.h"
#include "model/mlx_source.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;

namespace {

// 110 M parameters, most in the untied embedding and LM head (48000 × 1024 each): 211 MB in BF16, 422 MB
// as float32. Measured on 2 threads: eval needs 270 MB of address space now, 600–700 MB on the float32 path.
std::string bounded_synth(const TempDir& d, const std::string& name, const std::string& dtype) {
  const std::string dir = d.str(name);
  const std::string cmd = cli() + " -q synth " + dir +
                          " --preset llama3-8b --layers 1 --hidden 1024 --intermediate 2816 --heads 8 --kv-heads 4 "
                          "--vocab 48000 --dtype " + dtype;
  std::string out;
  REQUIRE(run(cmd, &out) == 0);
  return dir;
}

constexpr int kBoundedLimitMb = 420;

int bounded_eval(const std::string& model, const std::string& json, std::string* out) {
  return run("bash -c 'ulimit -v " + std::to_string(kBoundedLimitMb * 1024) + "; " + cli() + " -q -j 2 eval " + model +
                 " --text " + eval_text() + " --seq-len 32 --samples 2 --tokenizer " + stories() + " -o " + json + "'",
             out);
}

}  // namespace

TEST_CASE("eval of a BF16 model whose float32 copy exceeds the memory limit: runs, same NLLs as the float32 path",
          "[eval][bounded_memory][slow]") {
  TempDir d;
  const std::string bf16 = bounded_synth(d, "bf16", "bfloat16");
  std::string out;
  REQUIRE(bounded_eval(bf16, d.str("bf16.json"), &out) == 0);
  const auto j = nlohmann::json::parse(read_text_file(d.str("bf16.json")));
  const auto& got = j.at("windows");
  REQUIRE(got.size() == 2);

  // The float32 path, in this (unlimited) process: every weight dequantized on load into a DenseLinear.
  DirProvider dp(bf16);
  const MlxModel m = open_mlx_model(dp);
  const Model dense(load_model_hparams(bf16), weights_from(m));
  const EvalWindows w = load_eval_windows(eval_text(), stories(), 32, 2, 42);
  const EvalResult r = evaluate(dense, w, serial());
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(got[k].at("index").get<std::size_t>() == r.windows[k].index);
    CHECK(std::abs(got[k].at("nll").get<double>() - r.windows[k].nll) <= 1e-6);
  }

  // Negative control: the same shapes stored as F32 (their float32 copy) do not fit under the limit.
  const std::string f32 = bounded_synth(d, "f32", "float32");
  CHECK(bounded_eval(f32, d.str("f32.json"), &out) != 0);
  CHECK(out.find("out of memory") != std::string::npos);
  CHECK_FALSE(path_exists(d.str("f32.json")));
}
