// --imatrix on analyze/plan/quantize: the analysis measures the GGUF types quantized with the importance weights,
// the analysis and the plan record which imatrix (hash, chunks, datasets), quantize refuses another one (or none),
// another model's imatrix is refused, a legacy .dat and a GGUF imatrix of the same statistic give the same file,
// and squint's GGUF tensors are byte-identical to llama_model_quantize's with the same types and imatrix.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "file_source.h"
#include "io/gguf.h"
#include "io/imatrix.h"
#include "llama_quantize.h"
#include "gguf_tensor_pins.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;
using nlohmann::json;

namespace {
std::string imcli_model(const std::string& m) { return shared_dir() + "/models/" + m; }
std::string imcli_train() { return shared_dir() + "/data/tinystories/train.txt"; }
std::string imcli_libllama() {
  return std::string(SQUINT_SOURCE_DIR) + "/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama.v0.4.0.so";
}
json imcli_json(const std::string& p) { return json::parse(read_all_text(FileSource(p))); }
std::vector<uint8_t> imcli_bytes(const std::string& p) {
  FileSource f(p);
  std::vector<uint8_t> b(f.size());
  f.read(0, b.size(), b.data());
  return b;
}
// Shared across the test cases of this file (made once: the forward pass is the slow part).
struct ImcliMade {
  TempDir d;
  ImcliMade() {
    const std::string M = imcli_model("stories260K");
    std::string log;
    // 4 windows: ncall = 4 in the .dat, a power of two, so its means are the GGUF's to the bit.
    for (const char* f : {"im.gguf", "im.dat"})
      REQUIRE(run(cli() + " -q imatrix " + M + " --text " + imcli_train() + " --samples 4 --seq-len 64 -o " + d.str(f),
                  &log) == 0);
    REQUIRE(run(cli() + " -q imatrix " + M + " --text " + imcli_train() + " --samples 4 --seq-len 64 --seed 7 -o " +
                    d.str("other.gguf"),
                &log) == 0);
  }
};
const ImcliMade& imcli_made() {
  static ImcliMade m;
  return m;
}
}  // namespace

TEST_CASE("imatrix option: the analysis and the plan record the imatrix, and the calibrated objective reads it",
          "[imatrix][cli]") {
  const TempDir& d = imcli_made().d;
  const std::string M = imcli_model("stories260K");
  std::string log;
  REQUIRE(run(cli() + " -q analyze " + M + " --format gguf --imatrix " + d.str("im.gguf") + " -o " + d.str("a.json"),
              &log) == 0);
  INFO(log);
  const json a = imcli_json(d.str("a.json"));
  REQUIRE(a.contains("imatrix"));
  CHECK(a["imatrix"]["hash"] == content_hash(FileSource(d.str("im.gguf"))));
  CHECK(a["imatrix"]["chunk_count"] == 4);
  CHECK(a["imatrix"]["chunk_size"] == 64);
  CHECK(a["imatrix"]["format"] == "gguf");
  CHECK(a["imatrix"]["datasets"] == json::array({imcli_train()}));
  CHECK(a["column_weighting"]["kind"] == "calibrated");
  CHECK_THAT(a["column_weighting"]["source"].get<std::string>(), Catch::Contains("imatrix"));
  REQUIRE(run(cli() + " -q plan " + d.str("a.json") + " --bpw 8 --objective calibrated -o " + d.str("p.json"), &log) ==
          0);
  CHECK(imcli_json(d.str("p.json"))["imatrix"] == a["imatrix"]);
  // An analysis file is measured once: --imatrix applies only to a model.
  CHECK(run(cli() + " -q plan " + d.str("a.json") + " --bpw 8 --imatrix " + d.str("im.gguf"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("--imatrix applies only when the input is a model"));
  // Without --imatrix: no record (and the plan JSON has no "imatrix" key).
  REQUIRE(run(cli() + " -q analyze " + M + " --format gguf -o " + d.str("a0.json"), &log) == 0);
  CHECK_FALSE(imcli_json(d.str("a0.json")).contains("imatrix"));
}

TEST_CASE("imatrix option: the GGUF types are measured with the importance weights (Q4_0..IQ4_XS change, Q8_0 does not)",
          "[imatrix][cli]") {
  const TempDir& d = imcli_made().d;
  const std::string M = imcli_model("stories260K");
  std::string log;
  REQUIRE(run(cli() + " -q analyze " + M + " --format gguf --imatrix " + d.str("im.gguf") + " -o " + d.str("ma.json"),
              &log) == 0);
  REQUIRE(run(cli() + " -q analyze " + M + " --format gguf -o " + d.str("m0.json"), &log) == 0);
  const json a = imcli_json(d.str("ma.json")), b = imcli_json(d.str("m0.json"));
  std::map<std::string, int> changed;  // type -> tensors whose SQNR differs
  for (std::size_t i = 0; i < a["tensors"].size(); ++i)
    for (std::size_t k = 0; k < a["tensors"][i]["configs"].size(); ++k) {
      const json& x = a["tensors"][i]["configs"][k];
      const json& y = b["tensors"][i]["configs"][k];
      REQUIRE(x["type"] == y["type"]);
      if (x["sqnr_db"] != y["sqnr_db"]) ++changed[x["type"].get<std::string>()];
    }
  CHECK(changed["Q4_0"] > 0);
  CHECK(changed["IQ4_NL"] > 0);
  CHECK(changed["Q8_0"] == 0);  // ggml's Q8_0 takes no importance weights
}

TEST_CASE("imatrix option: quantize refuses another imatrix or none, and a plan made without one given one",
          "[imatrix][cli]") {
  const TempDir& d = imcli_made().d;
  const std::string M = imcli_model("stories260K");
  std::string log;
  REQUIRE(run(cli() + " -q analyze " + M + " --format gguf --imatrix " + d.str("im.gguf") + " -o " + d.str("qa.json"),
              &log) == 0);
  REQUIRE(run(cli() + " -q plan " + d.str("qa.json") + " --bpw 8 -o " + d.str("qp.json"), &log) == 0);
  const std::string q =
      cli() + " -q quantize " + M + " --format gguf --plan " + d.str("qp.json") + " --force -o " + d.str("q.gguf");
  CHECK(run(q, &log) == 2);
  CHECK_THAT(log,
             Catch::Contains("qp.json was made with imatrix") && Catch::Contains("pass the same file with --imatrix"));
  CHECK(run(q + " --imatrix " + d.str("other.gguf"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("not " + d.str("other.gguf")));
  CHECK_FALSE(std::filesystem::exists(d.path / "q.gguf"));
  REQUIRE(run(q + " --imatrix " + d.str("im.gguf"), &log) == 0);
  // A plan made without one, given one.
  REQUIRE(run(cli() + " -q plan " + M + " --format gguf --bpw 8 -o " + d.str("p0.json"), &log) == 0);
  CHECK(run(cli() + " -q quantize " + M + " --format gguf --plan " + d.str("p0.json") + " --imatrix " +
                d.str("im.gguf") + " -o " + d.str("q0.gguf"),
            &log) == 2);
  CHECK_THAT(log, Catch::Contains("made without an imatrix"));
  // MLX quantization takes no importance weights.
  REQUIRE(run(cli() + " -q plan " + M + " --bpw 8 -o " + d.str("mp.json"), &log) == 0);
  CHECK(run(cli() + " -q quantize " + M + " --plan " + d.str("mp.json") + " --imatrix " + d.str("im.gguf") + " -o " +
                d.str("mlx"),
            &log) == 2);
  CHECK_THAT(log, Catch::Contains("MLX quantization takes no importance weights"));
}

TEST_CASE("imatrix option: an imatrix for another model is refused naming the entry, nothing written", "[imatrix][cli]") {
  TempDir d;
  std::string log;
  REQUIRE(run(cli() + " -q imatrix " + imcli_model("tinystories-3M") + " --text " + imcli_train() +
                  " --samples 1 --seq-len 32 -o " + d.str("ts.gguf"),
              &log) == 0);
  CHECK(run(cli() + " -q analyze " + imcli_model("stories260K") + " --format gguf --imatrix " + d.str("ts.gguf") +
                " -o " + d.str("a.json"),
            &log) == 2);
  CHECK_THAT(log, Catch::Contains(d.str("ts.gguf") + ": entry 'blk.0.attn_k.weight' has 1 x 256 values") &&
                      Catch::Contains("another model"));
  CHECK_FALSE(std::filesystem::exists(d.path / "a.json"));
  CHECK(run(cli() + " -q quantize " + imcli_model("stories260K") + " --format gguf --type Q4_0 --imatrix " +
                d.str("ts.gguf") + " -o " + d.str("q.gguf"),
            &log) == 2);
  CHECK_FALSE(std::filesystem::exists(d.path / "q.gguf"));
  // A file that is no imatrix at all.
  write_text(d.path / "x.dat", "hello");
  CHECK(run(cli() + " -q analyze " + imcli_model("stories260K") + " --format gguf --imatrix " + d.str("x.dat"), &log) ==
        2);
  CHECK_THAT(log, Catch::Contains("x.dat: not a valid imatrix file"));
}

TEST_CASE("imatrix option: a legacy .dat and a GGUF imatrix of the same statistic give byte-identical GGUF files",
          "[imatrix][cli]") {
  const TempDir& d = imcli_made().d;
  std::string log;
  // stories260K's 64-wide rows cannot hold Q4_K: use Q4_0, whose quantizer takes importance weights.
  const std::string q4 = cli() + " -q quantize " + imcli_model("stories260K") + " --format gguf --type Q4_0 --force ";
  REQUIRE(run(q4 + "--imatrix " + d.str("im.gguf") + " -o " + d.str("g.gguf"), &log) == 0);
  REQUIRE(run(q4 + "--imatrix " + d.str("im.dat") + " -o " + d.str("l.gguf"), &log) == 0);
  REQUIRE(run(q4 + "--imatrix " + d.str("other.gguf") + " -o " + d.str("o.gguf"), &log) == 0);
  REQUIRE(run(q4 + "-o " + d.str("n.gguf"), &log) == 0);
  CHECK(imcli_bytes(d.str("g.gguf")) == imcli_bytes(d.str("l.gguf")));
  // Negative controls: another statistic, and none, give other bytes.
  CHECK(imcli_bytes(d.str("g.gguf")) != imcli_bytes(d.str("o.gguf")));
  CHECK(imcli_bytes(d.str("g.gguf")) != imcli_bytes(d.str("n.gguf")));
}

TEST_CASE(
    "imatrix option: squint's GGUF tensors are byte-identical to llama_model_quantize's with the same types and imatrix",
    "[imatrix][cli][llama][slow]") {
  TempDir d;
  std::string log;
  const std::string M = imcli_model("tinystories-3M");  // 256-wide rows: K and IQ types
  REQUIRE(
      run(cli() + " -q imatrix " + M + " --text " + imcli_train() + " --samples 2 --seq-len 64 -o " + d.str("im.gguf"),
          &log) == 0);
  REQUIRE(run(cli() + " -q quantize " + M + " --format gguf --type F32 -o " + d.str("f32.gguf"), &log) == 0);
  FileSource imf(d.str("im.gguf"));
  const auto weights = imatrix_quant_weights(read_imatrix(imf));
  // A mixed plan with the imatrix: several types across the tensors.
  REQUIRE(run(cli() + " -q plan " + M + " --format gguf --imatrix " + d.str("im.gguf") +
                  " --bpw 4.6 --types Q2_K,Q3_K,Q4_K,Q5_K,Q6_K,IQ4_NL,IQ4_XS,Q4_0,Q5_1 --floor 0 -o " + d.str("p.json"),
              &log) == 0);
  REQUIRE(run(cli() + " -q quantize " + M + " --format gguf --plan " + d.str("p.json") + " --imatrix " +
                  d.str("im.gguf") + " -o " + d.str("squint.gguf"),
              &log) == 0);
  const auto ours = gguf_tensor_data(d.str("squint.gguf"));
  // llama.cpp: the same type per tensor through --tensor-type overrides (anchored names), --pure, the same weights.
  LlamaQuantizeRequest r;
  r.lib = imcli_libllama();
  r.in = d.str("f32.gguf");
  r.out = d.str("llama.gguf");
  r.ftype = llama_ftype_from_name("Q8_0");
  r.pure = true;
  r.imatrix = &weights;
  const std::set<std::string> types = pin_tensor_types(r, ours);
  CHECK(types.size() >= 3);
  llama_quantize_file(r);
  const auto ref = gguf_tensor_data(d.str("llama.gguf"));
  std::size_t same = 0;
  for (const auto& [name, t] : ours) {
    if (gguf_type_size(t.first).block <= 1) continue;
    INFO(name << " " << gguf_type_size(t.first).name);
    REQUIRE(ref.count(name));
    CHECK(ref.at(name).first == t.first);
    CHECK(ref.at(name).second == t.second);
    same += ref.at(name).second == t.second;
  }
  CHECK(same == r.tensor_types.size());
  // Negative control: llama.cpp without the imatrix writes other bytes for the imatrix-sensitive types.
  r.imatrix = nullptr;
  r.out = d.str("llama0.gguf");
  llama_quantize_file(r);
  const auto ref0 = gguf_tensor_data(d.str("llama0.gguf"));
  std::size_t differ = 0;
  for (const auto& [name, t] : ours)
    if (gguf_type_size(t.first).block > 1 && gguf_type_size(t.first).name != std::string("Q8_0"))
      differ += ref0.at(name).second != t.second;
  CHECK(differ > 0);
}

TEST_CASE(
    "imatrix option: a Mixtral's per-expert imatrix (n_mat = 4) quantizes each expert with its own slice, "
    "byte-identical to llama_model_quantize's",
    "[imatrix][cli][llama][moe]") {
  TempDir d;
  std::string log;
  // A synthetic Mixtral (4 experts, 128/256-wide rows) with stories260K's tokenizer, and its F32 GGUF.
  const std::string M = d.str("mixtral");
  REQUIRE(run(cli() + " -q synth " + M + " --preset mixtral", &log) == 0);
  for (const char* f : {"tokenizer.model", "tokenizer_config.json"})
    std::filesystem::copy_file(imcli_model("stories260K") + "/" + f, M + "/" + f);
  REQUIRE(run(cli() + " -q quantize " + M + " --format gguf --type F32 -o " + d.str("f32.gguf"), &log) == 0);
  // A synthetic imatrix for every matrix but the embedding and the routers: each expert its own sums and token
  // count, and one expert that saw no token (its weights are 1, as llama.cpp's loader gives an idle expert).
  Imatrix im;
  im.chunk_count = 1;
  im.chunk_size = 64;
  im.datasets = {"synthetic"};
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<float>((state >> 40) % 1000 + 1) / 100.0f;
  };
  std::size_t stacks = 0;
  FileSource f32(d.str("f32.gguf"));
  const GgufFile g32 = read_gguf(f32);
  for (const auto& tt : g32.tensors) {
    const GgufTensorInfo* ti = &tt;
    const std::string& name = tt.name;
    if (ti->ne.size() < 2 || name == "token_embd.weight" || name.find("ffn_gate_inp") != std::string::npos) continue;
    const uint64_t cols = ti->ne[0], mats = ti->ne.size() >= 3 ? ti->ne[2] : 1;
    stacks += mats > 1;
    ImatrixEntry e;
    for (uint64_t m = 0; m < mats; ++m) {
      const bool idle = mats > 1 && m == 2 && name.find("blk.0.") == 0;
      e.counts.push_back(idle ? 0 : static_cast<int64_t>(8 + 5 * m));
      for (uint64_t j = 0; j < cols; ++j) e.sums.push_back(idle ? 0.0f : next() * (j % 7 == 0 ? 40.0f : 1.0f));
    }
    im.entries[name] = std::move(e);
  }
  REQUIRE(stacks == 6);  // 2 layers x gate/up/down
  write_bytes(d.path / "im.gguf", write_imatrix_gguf(im));
  REQUIRE(run(cli() + " -q quantize " + M + " --format gguf --type Q4_0 --imatrix " + d.str("im.gguf") + " -o " +
                  d.str("squint.gguf"),
              &log) == 0);
  const auto ours = gguf_tensor_data(d.str("squint.gguf"));
  const auto weights = imatrix_quant_weights(im);
  LlamaQuantizeRequest r;
  r.lib = imcli_libllama();
  r.in = d.str("f32.gguf");
  r.out = d.str("llama.gguf");
  r.ftype = llama_ftype_from_name("Q4_0");
  r.pure = true;
  r.imatrix = &weights;
  llama_quantize_file(r);
  const auto ref = gguf_tensor_data(d.str("llama.gguf"));
  std::size_t same_stacks = 0;
  for (const auto& [name, t] : ours) {
    if (gguf_type_size(t.first).block <= 1) continue;
    INFO(name);
    REQUIRE(ref.count(name));
    CHECK(ref.at(name).first == t.first);
    CHECK(ref.at(name).second == t.second);
    same_stacks += name.find("_exps.") != std::string::npos && ref.at(name).second == t.second;
  }
  CHECK(same_stacks == 6);
  // Negative control: the experts' slices rotated (expert m gets m+1's weights) give llama.cpp other bytes.
  auto rotated = weights;
  for (auto& [name, w] : rotated)
    if (name.find("_exps.") != std::string::npos)
      std::rotate(w.begin(), w.begin() + static_cast<long>(w.size() / 4), w.end());
  r.imatrix = &rotated;
  r.out = d.str("rot.gguf");
  llama_quantize_file(r);
  const auto rot = gguf_tensor_data(d.str("rot.gguf"));
  std::size_t differ = 0;
  for (const auto& [name, t] : ours)
    differ += name.find("_exps.") != std::string::npos && rot.at(name).second != t.second;
  CHECK(differ == 6);
  // A budget with the imatrix: the per-expert tensors are measured with their slices; the plan records it.
  REQUIRE(run(cli() + " -q quantize " + M + " --format gguf --bpw 5 --imatrix " + d.str("im.gguf") + " --save-plan " +
                  d.str("p.json") + " -o " + d.str("b.gguf"),
              &log) == 0);
  CHECK(imcli_json(d.str("p.json"))["imatrix"]["hash"] == content_hash(FileSource(d.str("im.gguf"))));
  // An imatrix whose stack has another expert count is another model's.
  im.entries["blk.1.ffn_up_exps.weight"].counts.pop_back();
  im.entries["blk.1.ffn_up_exps.weight"].sums.resize(3 * 128);
  write_bytes(d.path / "bad.gguf", write_imatrix_gguf(im));
  CHECK(run(cli() + " -q quantize " + M + " --format gguf --type Q4_0 --imatrix " + d.str("bad.gguf") + " -o " +
                d.str("x.gguf"),
            &log) == 2);
  CHECK_THAT(log, Catch::Contains("entry 'blk.1.ffn_up_exps.weight' has 3 x 128 values") &&
                      Catch::Contains("4 x 128 columns"));
}
