// End-to-end: GGUF types as analysis/plan candidates (`analyze --format gguf`, `plan` on the result) on the
// shared checkpoints, and the reproduction of an analysis number from the ggml port alone.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <set>

#include "analysis/analysis_json.h"
#include "io/checkpoint.h"
#include "plan/plan.h"
#include "plan/preview.h"
#include "file_source.h"
#include "quant/ggml_measure.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;

namespace {

const TensorAnalysis& tensor(const Analysis& a, const std::string& name) {
  for (const auto& t : a.tensors)
    if (t.name == name) return t;
  FAIL("no tensor " << name);
  return a.tensors.front();
}

std::set<std::string> names(const TensorAnalysis& t) {
  std::set<std::string> s;
  for (const auto& r : t.results) s.insert(config_name(r.config));
  return s;
}

}  // namespace

// stories260K: 64-wide rows admit only the 32-block types; the 172-wide down_proj admits none and is kept.
TEST_CASE("analyze --format gguf on stories260K: 32-block types only, down_proj kept with the reason", "[gguf][cli]") {
  TempDir d;
  const std::string model = shared_dir() + "/models/stories260K";
  const std::string ana = d.str("analysis.json");
  REQUIRE(run(cli() + " analyze " + model + " --format gguf -q -o " + ana) == 0);
  const Analysis a = parse_analysis(read_text_file(ana), ana);
  CHECK(a.format == QFormat::Gguf);
  CHECK(a.configs.size() == 13);  // the 12 + IQ3_S (all_gguf_configs without an imatrix)

  const auto& q = tensor(a, "model.layers.0.self_attn.q_proj.weight");
  REQUIRE(q.measured);
  CHECK(names(q) == std::set<std::string>{"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL"});
  REQUIRE(q.invalid.size() == 7);  // the 256-block types, IQ3_S among them
  bool saw_k = false;
  for (const auto& iv : q.invalid)
    if (iv.config.type == GgmlType::Q4_K) {
      saw_k = true;
      CHECK(iv.reason == "row length 64 is not a multiple of the block size 256");
    }
  CHECK(saw_k);
  const ConfigResult* q40 = q.find(gguf_config(GgmlType::Q4_0));
  REQUIRE(q40);
  CHECK(q40->bytes == q.params / 32 * 18);
  // More bits, less error (per family).
  CHECK(q.find(gguf_config(GgmlType::Q8_0))->nrmse < q.find(gguf_config(GgmlType::Q5_0))->nrmse);
  CHECK(q.find(gguf_config(GgmlType::Q5_0))->nrmse < q40->nrmse);

  // The analysis number is reproducible from the port alone (one chunk: Σ err² / Σ ref²).
  Checkpoint ck = open_model(model);
  const TensorInfo* ti = ck.find(q.name);
  REQUIRE(ti);
  std::vector<float> ref(ti->numel());
  std::vector<uint8_t> scratch;
  REQUIRE(read_tensor_f32(ck, *ti, ref.data(), scratch));
  std::vector<float> w(ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) w[i] = round_to_dtype(ref[i], q.out_dtype);  // F32 written as F16
  const QConfig c = gguf_config(GgmlType::Q8_0);
  double err = 0, sig = 0;
  ggml_measure_rows(w.data(), ref.data(), ti->rows(), ti->cols(), &c, 1, &err);
  for (float v : ref) sig += static_cast<double>(v) * v;
  CHECK(std::abs(q.find(c)->nrmse - std::sqrt(err / sig)) <= 1e-9 * std::sqrt(err / sig));

  const auto& down = tensor(a, "model.layers.0.mlp.down_proj.weight");
  CHECK_FALSE(down.measured);
  CHECK(down.reason.find("no candidate GGUF type") != std::string::npos);
  CHECK(down.invalid.size() == 13);

  // A plan: only GGUF types, printed by name; the MLX writer refuses it.
  const std::string pj = d.str("plan.json");
  std::string out;
  REQUIRE(run(cli() + " plan " + ana + " --bpw 7.5 -o " + pj, &out) == 0);
  CHECK(out.find("types:") != std::string::npos);
  const Plan p = parse_plan(read_text_file(pj), pj);
  CHECK(p.format == QFormat::Gguf);
  std::size_t quantized = 0;
  for (const auto& t : p.tensors) {
    if (t.keep()) continue;
    ++quantized;
    CHECK(ggml_type_from_name(t.type) != nullptr);
    CHECK(t.group_size == 32);
  }
  CHECK(quantized > 0);
  for (const auto& c2 : p.options.configs) CHECK(c2.gguf());
  // The type mix is core's preview (the page shows the same): it covers every parameter and the CLI's
  // "types:" line prints it.
  const PlanPreview v = plan_preview(p, a);
  REQUIRE(!v.type_mix.empty());
  double pct = 0;
  uint64_t params = 0;
  for (const auto& m : v.type_mix) {
    pct += m.percent;
    params += m.params;
    CHECK(out.find(m.type + ": ") != std::string::npos);
  }
  CHECK(params == p.total_params);
  CHECK(std::abs(pct - 100.0) < 1e-9);
  // Kept tensors under the float type the file holds them in, in ggml id order (F32 0, F16 1): GGUF terms.
  CHECK(v.type_mix.front().type == "F32");  // the 1-D norms
  CHECK(v.type_mix[1].type == "F16");       // down_proj, kept: F32 written as F16
  CHECK(out.find("16 = kept") == std::string::npos);
  CHECK(out.find("bits:") == std::string::npos);
  CHECK(preview_to_json(v, p)["type_mix"].size() == v.type_mix.size());
  REQUIRE(run(cli() + " quantize " + model + " --plan " + pj + " -o " + d.str("out"), &out) == 2);
  CHECK(out.find("GGUF plan") != std::string::npos);
}

// tinystories-3M (256-wide rows): the K-quants are candidates, and a plan is proven optimal within budget.
TEST_CASE("analyze --format gguf on tinystories-3M: K-quants valid, plan optimal within budget", "[gguf][cli]") {
  TempDir d;
  const std::string model = shared_dir() + "/models/tinystories-3M";
  const std::string ana = d.str("analysis.json");
  REQUIRE(run(cli() + " analyze " + model + " --format gguf -q -o " + ana) == 0);
  const Analysis a = parse_analysis(read_text_file(ana), ana);
  const auto& up = tensor(a, "model.layers.0.mlp.up_proj.weight");
  REQUIRE(up.measured);
  CHECK(up.results.size() == 13);
  const ConfigResult* q4k = up.find(gguf_config(GgmlType::Q4_K));
  REQUIRE(q4k);
  CHECK(q4k->bytes == up.params / 256 * 144);
  CHECK(up.find(gguf_config(GgmlType::Q6_K))->nrmse < q4k->nrmse);
  CHECK(q4k->nrmse < up.find(gguf_config(GgmlType::Q2_K))->nrmse);

  const std::string pj = d.str("plan.json");
  std::string out;
  REQUIRE(run(cli() + " plan " + ana + " --bpw 5 --types Q2_K,Q3_K,Q4_K,Q5_K,Q6_K,Q8_0 -o " + pj, &out) == 0);
  const Plan p = parse_plan(read_text_file(pj), pj);
  CHECK(p.solver == "exact");
  CHECK(p.gap == 0);
  CHECK(p.total_bytes <= p.budget_bytes);
  std::set<std::string> used;
  for (const auto& t : p.tensors)
    if (!t.keep()) used.insert(t.type);
  CHECK(!used.empty());
  for (const auto& u : used) CHECK((u == "Q2_K" || u == "Q3_K" || u == "Q4_K" || u == "Q5_K" || u == "Q6_K" || u == "Q8_0"));
  CHECK(p.options.configs.size() == 6);
}
