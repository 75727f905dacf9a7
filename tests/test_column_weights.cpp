// Column-weighted errors (analysis/column_weights.h, eval/calibrate.h): the analysis kernel against a direct
// computation, unit weights against the plain NRMSE, γ² and calibration moments against values computed
// from the checkpoint by hand, and the CLI (analyze --norm-weights / --calibrate, plan --objective).
#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "analysis/analysis.h"
#include "analysis/analysis_json.h"
#include "eval/calibrate.h"
#include "eval_model.h"
#include "file_source.h"
#include "plan/problem.h"
#include "plan/solver.h"
#include "quant/ggml_quants.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;

namespace {

// A one-layer checkpoint with a q_proj [rows, cols] of heavy-ish tailed values and its input norm.
Checkpoint one_linear(const TempDir& d, int rows, int cols) {
  std::vector<float> w = randn(static_cast<std::size_t>(rows) * cols, 5);
  for (std::size_t i = 0; i < w.size(); i += 97) w[i] *= 8;  // outliers, so groups differ
  const std::vector<float> g = randn(static_cast<std::size_t>(cols), 6);
  write_bytes(d.path / "model.safetensors",
              make_safetensors({{"model.layers.0.input_layernorm.weight", DType::F32, {cols}, g},
                                {"model.layers.0.self_attn.q_proj.weight", DType::F32, {rows, cols}, w}}));
  return open_model(d.str());
}

// Σ c_j (W − Ŵ)² / Σ c_j W² over the whole tensor, quantizing the float16-rounded weights as the analysis does.
double direct_weighted_nrmse(const std::vector<float>& w, int rows, int cols, QConfig q, const std::vector<float>& c) {
  std::vector<float> wc(w.size()), deq(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) wc[i] = round_to_dtype(w[i], DType::F16);
  if (q.gguf()) {
    std::vector<uint8_t> b(static_cast<std::size_t>(rows) * ggml_row_bytes(q.type, cols));
    ggml_quantize_rows(q.type, wc.data(), rows, cols, b.data());
    ggml_dequantize_rows(q.type, b.data(), rows, cols, deq.data());
  } else {
    std::vector<uint8_t> p(w.size() * q.bits / 8);
    std::vector<float> s(w.size() / q.group), bi(s.size());
    quantize_rows(wc.data(), rows, cols, q, DType::F16, p.data(), s.data(), bi.data());
    dequantize_rows(p.data(), s.data(), bi.data(), rows, cols, q, deq.data());
  }
  double num = 0, den = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double cj = c[i % cols], d = static_cast<double>(w[i]) - deq[i];
    num += cj * d * d;
    den += cj * static_cast<double>(w[i]) * w[i];
  }
  return std::sqrt(num / den);
}
}  // namespace

TEST_CASE("weighted error: the kernel equals a direct computation, unit weights give the plain NRMSE", "[analyze][weights]") {
  TempDir d;
  const int rows = 48, cols = 256;
  Checkpoint ck = one_linear(d, rows, cols);
  const TensorInfo& t = *ck.find("model.layers.0.self_attn.q_proj.weight");
  std::vector<float> w(t.numel());
  std::vector<uint8_t> scratch;
  REQUIRE(read_tensor_f32(ck, t, w.data(), scratch));

  for (QFormat f : {QFormat::Mlx, QFormat::Gguf}) {
    AnalyzeOptions opt;
    opt.format = f;
    opt.configs = f == QFormat::Gguf ? all_gguf_configs() : all_configs();
    ColumnWeights cw;
    cw.kind = "norm";
    std::vector<float> c = randn(cols, 9);
    for (float& x : c) x = x * x + 0.01f;
    cw.sites[{InputSite::AttnIn, 0}] = c;
    opt.column_weights = &cw;
    const TensorAnalysis ta = analyze_tensor(ck, t, opt);
    REQUIRE(ta.results.size() == opt.configs.size());
    for (const auto& r : ta.results) {
      INFO(config_name(r.config));
      CHECK(r.weighted_nrmse == Approx(direct_weighted_nrmse(w, rows, cols, r.config, c)).epsilon(1e-9));
      CHECK(std::abs(r.weighted_nrmse - r.nrmse) > 1e-6 * r.nrmse);  // the weights do change the number
    }
    cw.sites[{InputSite::AttnIn, 0}] = std::vector<float>(cols, 1.0f);
    const TensorAnalysis unit = analyze_tensor(ck, t, opt);
    // Not bit-equal: the plain kernel sums group by group with its own ŵ arithmetic; equal to ~1e-8.
    for (const auto& r : unit.results) CHECK(r.weighted_nrmse == Approx(r.nrmse).epsilon(1e-7));
  }
}

TEST_CASE("norm weights: γ² of the feeding norm by site, o_proj/down_proj have none", "[analyze][weights]") {
  Checkpoint ck = open_model(stories());
  const ColumnWeights cw = norm_column_weights(ck);
  CHECK(cw.kind == "norm");
  std::vector<float> g(64);
  std::vector<uint8_t> scratch;
  REQUIRE(read_tensor_f32(ck, *ck.find("model.layers.3.post_attention_layernorm.weight"), g.data(), scratch));
  const auto& v = cw.sites.at({InputSite::MlpIn, 3});
  for (int j = 0; j < 64; ++j) CHECK(v[j] == g[j] * g[j]);
  CHECK(cw.sites.count({InputSite::Head, -1}) == 1);
  TensorRole r;
  r.role = Role::AttnO;
  r.layer = 2;
  CHECK(cw.for_tensor(r, false, 64) == nullptr);
  r.role = Role::AttnK;
  CHECK(cw.for_tensor(r, false, 64) != nullptr);
  CHECK(cw.for_tensor(r, false, 65) == nullptr);  // a length mismatch is no weights, not a wrong read
}

TEST_CASE("features: each block linear records the norm that feeds it (the sites --norm-weights uses)", "[cli][weights]") {
  Checkpoint ck = open_model(stories());
  const auto norms = norm_tensors_by_site(ck);
  CHECK(norms.at({InputSite::AttnIn, 3}) == "model.layers.3.input_layernorm.weight");
  CHECK(norms.at({InputSite::MlpIn, 3}) == "model.layers.3.post_attention_layernorm.weight");
  CHECK(norms.at({InputSite::Head, -1}) == "model.norm.weight");
  TempDir d;
  REQUIRE(run(cli() + " -q analyze " + stories() + " --features -o " + d.str("a.json")) == 0);
  const nlohmann::json a = nlohmann::json::parse(read_text_file(d.str("a.json")));
  std::size_t with_norm = 0;
  for (const auto& t : a["tensors"]) {
    const std::string name = t["name"];
    if (!t.contains("features") || !t["features"].contains("spectral")) continue;
    const auto l = name.find("layers.");
    const std::string layer = l == std::string::npos ? "" : name.substr(0, name.find('.', l + 7) + 1);
    std::string want;  // q/k/v ← input_layernorm, gate/up ← post_attention_layernorm; o/down and the embedding: none
    if (name.find("_proj.") != std::string::npos && (name.find(".q_") != std::string::npos || name.find(".k_") != std::string::npos ||
                                                     name.find(".v_") != std::string::npos))
      want = layer + "input_layernorm.weight";
    if (name.find(".gate_proj.") != std::string::npos || name.find(".up_proj.") != std::string::npos)
      want = layer + "post_attention_layernorm.weight";
    INFO(name);
    CHECK(t["features"].value("norm", std::string()) == want);
    with_norm += !want.empty();
  }
  CHECK(with_norm == 5 * 5);  // stories260K: 5 layers × (q, k, v, gate, up)
}

TEST_CASE("calibration: layer 0's attention-input moments equal RMSNorm(embedding)² computed by hand", "[eval][weights]") {
  auto m = load_model(stories());
  const EvalWindows w = load_eval_windows(eval_text(), stories(), 32, 3, 11);
  const ColumnWeights cw = calibrate_column_weights(*m, w, serial(), "test");
  CHECK(cw.kind == "calibrated");
  Checkpoint ck = open_model(stories());
  std::vector<float> emb(512 * 64), g(64);
  std::vector<uint8_t> scratch;
  REQUIRE(read_tensor_f32(ck, *ck.find("model.embed_tokens.weight"), emb.data(), scratch));
  REQUIRE(read_tensor_f32(ck, *ck.find("model.layers.0.input_layernorm.weight"), g.data(), scratch));
  const float eps = m->config().eps;
  std::vector<double> want(64, 0.0);
  std::size_t ntok = 0;
  for (std::size_t k = 0; k < w.chosen.size(); ++k)
    for (int id : w.tokens(k)) {
      double ss = 0;
      for (int j = 0; j < 64; ++j) ss += static_cast<double>(emb[id * 64 + j]) * emb[id * 64 + j];
      const double r = 1.0 / std::sqrt(ss / 64 + eps);
      for (int j = 0; j < 64; ++j) want[j] += std::pow(emb[id * 64 + j] * r * g[j], 2);
      ++ntok;
    }
  const auto& got = cw.sites.at({InputSite::AttnIn, 0});
  for (int j = 0; j < 64; ++j) CHECK(got[j] == Approx(want[j] / static_cast<double>(ntok)).epsilon(1e-4));
  // Every linear of every layer has weights, and the thread count does not change them.
  for (int l = 0; l < 5; ++l)
    for (InputSite s : {InputSite::AttnIn, InputSite::AttnOut, InputSite::MlpIn, InputSite::MlpDown})
      CHECK(cw.sites.count({s, l}) == 1);
  auto pool = [](std::size_t n, const std::function<void(std::size_t)>& body) {
    for (std::size_t i = n; i-- > 0;) body(i);  // another order, as threads would give
  };
  CHECK(calibrate_column_weights(*m, w, pool, "test").sites == cw.sites);
}

TEST_CASE("CLI: analyze --norm-weights / --calibrate, plan --objective norm|calibrated, and the clear errors", "[cli][weights]") {
  TempDir d;
  std::string out;
  REQUIRE(run(cli() + " -q analyze " + stories() + " --norm-weights -o " + d.str("norm.json"), &out) == 0);
  const auto nj = nlohmann::json::parse(read_text_file(d.str("norm.json")));
  CHECK(nj["column_weighting"]["kind"] == "norm");
  CHECK(nj["tensors"][2]["configs"][0].contains("weighted_nrmse"));
  REQUIRE(run(cli() + " -q plan " + d.str("norm.json") + " --bpw 7 --objective norm -o " + d.str("p.json"), &out) == 0);
  CHECK(nlohmann::json::parse(read_text_file(d.str("p.json")))["options"]["objective"] == "norm");

  REQUIRE(run(cli() + " -q --threads 2 analyze " + stories() + " --calibrate " + eval_text() +
                  " --calibrate-samples 4 --calibrate-seq-len 64 -o " + d.str("cal.json"), &out) == 0);
  REQUIRE(run(cli() + " -q --threads 1 analyze " + stories() + " --calibrate " + eval_text() +
                  " --calibrate-samples 4 --calibrate-seq-len 64 -o " + d.str("cal1.json"), &out) == 0);
  CHECK(read_text_file(d.str("cal.json")) == read_text_file(d.str("cal1.json")));  // threads 1 vs N
  const auto cj = nlohmann::json::parse(read_text_file(d.str("cal.json")));
  CHECK(cj["column_weighting"]["kind"] == "calibrated");
  CHECK(cj["column_weighting"]["source"].get<std::string>().find("eval.txt: 4 windows of 64 tokens") != std::string::npos);
  REQUIRE(run(cli() + " -q plan " + d.str("cal.json") + " --bpw 7 --objective calibrated -o " + d.str("pc.json"), &out) == 0);

  // The wrong analysis for an objective is a one-line error, exit 2, and no plan written.
  CHECK(run(cli() + " -q plan " + d.str("norm.json") + " --bpw 7 --objective calibrated -o " + d.str("bad.json"), &out) == 2);
  CHECK(out.find("needs an analysis made with `analyze --calibrate TEXT`") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(d.str("bad.json")));
  CHECK(run(cli() + " -q plan " + stories() + " --bpw 7 --objective norm", &out) == 2);
  CHECK(run(cli() + " -q analyze " + stories() + " --norm-weights --calibrate " + eval_text(), &out) != 0);
  // An analysis file with a weighting squint does not know is refused when read.
  auto bad = nj;
  bad["column_weighting"]["kind"] = "magic";
  write_text(d.path / "magic.json", bad.dump());
  CHECK(run(cli() + " -q plan " + d.str("magic.json") + " --bpw 7", &out) == 2);
  CHECK(out.find("unknown column_weighting") != std::string::npos);
}

TEST_CASE("plan --select-text: the kept plan has the lowest KL of its candidates, uniform ones among them", "[cli][select]") {
  TempDir d;
  std::string out;
  const std::string train = shared_dir() + "/data/tinystories/train.txt";
  REQUIRE(run(cli() + " -q plan " + stories() + " --bpw 7 --select-text " + train +
                  " --select-samples 4 --select-seq-len 64 -o " + d.str("sel.json"), &out) == 0);
  const auto j = nlohmann::json::parse(read_text_file(d.str("sel.json")));
  REQUIRE(j.contains("selection"));
  const auto& s = j["selection"];
  CHECK(s["text"].get<std::string>().find("train.txt: 4 windows of 64 tokens") != std::string::npos);
  double best = 1e30, chosen_kl = -1;
  int uniforms = 0;
  for (const auto& c : s["candidates"]) {
    const double kl = c["kl_mean"].get<double>();
    if (c["name"].get<std::string>().rfind("uniform ", 0) == 0) ++uniforms;
    if (kl >= 0) best = std::min(best, kl);
    if (c["name"] == s["chosen"]) chosen_kl = kl;
    if (kl >= 0) CHECK(c["bytes"].get<uint64_t>() <= j["budget_bytes"].get<uint64_t>());
  }
  CHECK(uniforms >= 1);
  CHECK(chosen_kl == best);
  // The kept plan is the chosen setting's own plan (same tensors as `plan --objective O --prior-set P`).
  const std::string chosen = s["chosen"].get<std::string>();
  if (chosen.rfind("uniform ", 0) != 0) {
    const auto slash = chosen.find('/');
    REQUIRE(run(cli() + " -q plan " + stories() + " --bpw 7 --objective " + chosen.substr(0, slash) + " --prior-set " +
                    chosen.substr(slash + 1) + " -o " + d.str("p.json"), &out) == 0);
    CHECK(nlohmann::json::parse(read_text_file(d.str("p.json")))["tensors"] == j["tensors"]);
  }
  // The record survives a round trip through the plan reader (quantize accepts the plan).
  REQUIRE(run(cli() + " -q quantize " + stories() + " --plan " + d.str("sel.json") + " -o " + d.str("q"), &out) == 0);
  // An analysis file cannot be run: a clear error.
  REQUIRE(run(cli() + " -q analyze " + stories() + " -o " + d.str("a.json"), &out) == 0);
  CHECK(run(cli() + " -q plan " + d.str("a.json") + " --bpw 7 --select-text " + train, &out) == 2);
  CHECK(out.find("--select-text applies only when the input is a model") != std::string::npos);
}
