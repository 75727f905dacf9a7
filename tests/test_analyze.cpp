// The analysis stage on real and synthetic checkpoints.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>

#include "analysis/analysis_json.h"
#include "analysis/analysis_run.h"
#include "file_source.h"
#include "parallel.h"
#include "test_util.h"
#include "util/error.h"

using namespace squint;
using namespace squint::test;

namespace {
Analysis analyze_path(const std::string& path, ParallelFor pf = serial()) {
  Checkpoint ck = open_model(path);
  AnalyzeOptions o;
  o.parallel = std::move(pf);
  return analyze_checkpoint(ck, o);
}
}  // namespace

TEST_CASE("sharded and single-file stories260K give identical analyses", "[analyze]") {
  Analysis a = analyze_path(stories());
  Analysis b = analyze_path(shared_dir() + "/models/stories260K-sharded");
  CHECK(a.fingerprint == b.fingerprint);
  REQUIRE(a.tensors.size() == b.tensors.size());
  auto ja = analysis_to_json(a), jb = analysis_to_json(b);
  // Tensor order follows the files; compare by name.
  std::map<std::string, nlohmann::json> ma, mb;
  for (auto& t : ja["tensors"]) ma[t["name"]] = t;
  for (auto& t : jb["tensors"]) mb[t["name"]] = t;
  CHECK(ma == mb);
}

TEST_CASE("results do not depend on the thread count", "[analyze]") {
  TempDir d;
  REQUIRE(run(cli() + " -q synth " + d.str("m") + " --preset tiny --seed 3") == 0);
  Analysis a = analyze_path(d.str("m"), serial());
  Analysis b = analyze_path(d.str("m"), make_thread_pool(3));
  a.location = b.location;
  CHECK(analysis_to_json(a).dump() == analysis_to_json(b).dump());
}

TEST_CASE("AnalysisRun: tensors stepped in any order, by threads or by two runs, assemble to the same bytes", "[analyze]") {
  TempDir d;
  REQUIRE(run(cli() + " -q synth " + d.str("m") + " --preset tiny --seed 5") == 0);
  Checkpoint ck = open_model(d.str("m"));
  const std::string ref = serialize_analysis(analyze_checkpoint(ck, AnalyzeOptions{}));
  REQUIRE(ck.tensors.size() > 3);

  // The CLI's shape of use: one run, its tensors stepped concurrently (distinct i), last to first.
  AnalysisRun threaded(ck, AnalyzeOptions{});
  const std::size_t n = threaded.size();
  make_thread_pool(3)(n, [&](std::size_t k) { threaded.step(n - 1 - k); });
  CHECK(serialize_analysis(threaded.finish()) == ref);

  // The page's shape: two workers' runs each measure half; a third run assembles what they send.
  AnalysisRun w1(ck, AnalyzeOptions{}), w2(ck, AnalyzeOptions{}), planner(ck, AnalyzeOptions{});
  CHECK(planner.header().tensors.empty());
  CHECK(planner.header().total_bytes == ck.total_bytes());
  for (std::size_t i = 0; i < n; ++i) planner.put(i, (i % 2 ? w1 : w2).measure(i));
  CHECK(serialize_analysis(planner.finish()) == ref);

  // A result filed under the wrong tensor, or a tensor never measured, is an error, not a silent gap.
  AnalysisRun bad(ck, AnalyzeOptions{});
  CHECK_THROWS_WITH(bad.put(0, bad.measure(1)), Catch::Contains("given as tensor 0"));
  for (std::size_t i = 1; i < n; ++i) bad.step(i);
  CHECK_THROWS_WITH(bad.finish(), Catch::Contains("was not measured"));
  CHECK_THROWS_WITH(bad.measure(n), Catch::Contains("out of range"));
}

TEST_CASE("stories260K analysis: roles, validity and the golden SQNR table", "[analyze]") {
  Analysis a = analyze_path(stories());
  CHECK(a.tied_embeddings);
  CHECK(a.num_layers == 5);
  std::size_t measured = 0;
  for (const auto& t : a.tensors) {
    if (t.shape.size() == 1) CHECK_FALSE(t.measured);
    if (t.name.find("down_proj") != std::string::npos) {
      // in = 172 is divisible by none of 32/64/128: listed with reasons, kept.
      CHECK_FALSE(t.measured);
      CHECK(t.invalid.size() == 18);
    }
    if (t.measured) {
      ++measured;
      CHECK(t.out_dtype == DType::F16);  // F32 source written as float16 by default
      CHECK(t.results.size() == 12);     // g = 128 does not divide 64
      for (const auto& r : t.results) CHECK(std::abs(r.sqnr_db + 20 * std::log10(r.nrmse)) < 1e-4);
    }
  }
  CHECK(measured == 31);  // embedding + 5 layers x (q, k, v, o, gate, up)
  // Regression baseline: per-config medians recorded when the quantizer was validated against the MLX
  // oracle (test_core_quant.cpp). A change here means the measured numbers moved.
  std::ifstream f(std::string(SQUINT_SOURCE_DIR) + "/tests/golden/stories260K-sqnr-table.json");
  REQUIRE(f);
  nlohmann::json golden = nlohmann::json::parse(f);
  auto now = sqnr_table_json(sqnr_table(a));
  REQUIRE(now.size() == golden.size());
  for (std::size_t i = 0; i < now.size(); ++i)
    for (const char* k : {"min", "median", "max", "p5", "p95"})
      CHECK(now[i][k].get<double>() == Approx(golden[i][k].get<double>()).margin(1e-6));
}

TEST_CASE("3-D expert stacks aggregate per expert, NaN tensors are kept with a reason", "[analyze]") {
  TempDir d;
  const int E = 3, out = 4, in = 64;
  std::vector<float> w(E * out * in);
  auto r = randn(w.size(), 11, 0.02f);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = r[i] * (1.0f + static_cast<float>(i / (out * in)) * 3.0f);
  std::vector<float> bad = randn(64 * 64, 12);
  bad[100] = NAN;
  write_bytes(d.path / "model.safetensors",
              make_safetensors({{"model.layers.0.mlp.experts.gate_proj.weight", DType::BF16, {E, out, in}, w},
                                {"model.layers.0.self_attn.q_proj.weight", DType::F32, {64, 64}, bad},
                                {"model.layers.0.rot.weight", DType::I8, {64, 64}, {}}}));
  Analysis a = analyze_path(d.str());
  REQUIRE(a.tensors.size() == 3);
  const auto& ex = a.tensors[0];
  REQUIRE(ex.measured);
  CHECK(ex.role.role == Role::MoeExpert);
  // Per-expert SQNR: experts differ only by scale, so their SQNRs are close; the min is reported.
  Checkpoint ck = open_model(d.str());
  std::vector<float> all(E * out * in);
  std::vector<uint8_t> scratch;
  read_tensor_f32(ck, ck.tensors[0], all.data(), scratch);
  QConfig c{4, 64};
  double min_db = 1e9, mean_nrmse = 0;
  for (int e = 0; e < E; ++e) {
    double err;
    double sig = measure_rows(all.data() + e * out * in, all.data() + e * out * in, out, in, &c, 1, DType::BF16, &err);
    min_db = std::min(min_db, 10 * std::log10(sig / err));
    mean_nrmse += std::sqrt(err / sig) / E;
  }
  CHECK(ex.find(c)->sqnr_db == Approx(min_db).margin(1e-5));
  CHECK(ex.find(c)->nrmse == Approx(mean_nrmse).epsilon(1e-8));
  CHECK_FALSE(a.tensors[1].measured);
  CHECK_THAT(a.tensors[1].reason, Catch::Contains("NaN"));
  CHECK_FALSE(a.tensors[2].measured);
  CHECK_THAT(a.tensors[2].reason, Catch::Contains("I8"));
}

TEST_CASE("analysis.json round-trips exactly", "[analyze]") {
  Analysis a = analyze_path(stories());
  std::string s1 = analysis_to_json(a).dump(1);
  Analysis b = parse_analysis(s1, "a.json");
  CHECK(analysis_to_json(b).dump(1) == s1);
}

TEST_CASE("roles of common families", "[analyze]") {
  ModelConfig cfg;
  cfg.num_layers = 32;
  auto role = [&](const std::string& n, std::vector<int64_t> shape = {64, 64}) {
    TensorInfo t;
    t.name = n;
    t.shape = shape;
    return classify_tensor(t, cfg);
  };
  CHECK(role("model.embed_tokens.weight").role == Role::Embedding);
  CHECK(role("lm_head.weight").role == Role::LmHead);
  CHECK(role("model.layers.0.self_attn.q_proj.weight").role == Role::AttnQ);
  CHECK(role("model.layers.0.self_attn.q_proj.weight").first_layer);
  CHECK(role("model.layers.31.mlp.down_proj.weight").last_layer);
  CHECK(role("model.layers.3.mlp.gate.weight").role == Role::Router);
  CHECK(role("model.layers.3.block_sparse_moe.gate.weight").role == Role::Router);
  auto e = role("model.layers.3.block_sparse_moe.experts.7.w1.weight");
  CHECK(e.role == Role::MoeExpert);
  CHECK(e.expert == 7);
  CHECK(e.group_key == role("model.layers.3.block_sparse_moe.experts.2.w1.weight").group_key);
  CHECK(e.group_key != role("model.layers.3.block_sparse_moe.experts.2.w2.weight").group_key);
  CHECK(role("model.layers.3.mlp.shared_expert.up_proj.weight").role == Role::SharedExpert);
  CHECK(role("gpt_neox.layers.2.attention.query_key_value.weight").role == Role::AttnQKV);
  CHECK(role("transformer.h.4.mlp.c_fc.weight").role == Role::MlpUp);
  CHECK(role("model.layers.0.self_attn.qkv_proj.weight").role == Role::AttnQKV);  // Phi-3
  CHECK(role("model.layers.0.mlp.gate_up_proj.weight").role == Role::MlpGateUp);
  CHECK(role("vision_tower.blocks.0.attn.qkv.weight").role == Role::Vision);
  CHECK(role("model.layers.0.input_layernorm.weight", {64}).role == Role::Norm);
}

TEST_CASE("CLI analyze writes analysis.json and prints the SQNR table", "[analyze][cli]") {
  TempDir d;
  std::string out;
  REQUIRE(run(cli() + " analyze " + stories() + " -o " + d.str("a.json") + " --sqnr-table", &out) == 0);
  CHECK_THAT(out, Catch::Contains("(4, 64)") && Catch::Contains("<9 dB"));
  Analysis a = parse_analysis(read_text_file(d.str("a.json")), "a.json");
  CHECK(a.tensors.size() == 47);
  CHECK(run(cli() + " -q analyze " + d.str("missing") + " -o " + d.str("b.json"), &out) == 2);
  CHECK_THAT(out, Catch::Contains("no such file"));
  CHECK_FALSE(path_exists(d.str("b.json")));
  CHECK(run(cli() + " -q analyze " + stories() + " -o /nonexistent-dir/a.json", &out) == 2);
  CHECK_THAT(out, Catch::Contains("does not exist"));
}
