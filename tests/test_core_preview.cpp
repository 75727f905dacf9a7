// The plan preview (core/plan/preview.h) that both the CLI summary and the page show: its numbers add up,
// every matrix is shown exactly once, and the verdict follows `squint gate --plan`'s rule.
#include <catch2/catch.hpp>
#include <set>

#include "analysis/analysis_json.h"
#include "io/checkpoint.h"
#include "plan/options.h"
#include "plan/preview.h"
#include "plan/planner.h"
#include "synth/synth.h"

using namespace squint;

namespace {
Analysis tiny_analysis(const std::string& preset) {
  Checkpoint ck = synth_in_memory(synth_preset(preset));
  return analyze_checkpoint(ck, AnalyzeOptions{});
}
}  // namespace

TEST_CASE("plan preview: mix, map and verdict of a real plan", "[preview]") {
  const Analysis a = tiny_analysis("tiny");
  PlanSettings st;
  st.bpw = 4.5;
  Plan p = make_plan(a, plan_options_from(st, true));
  PlanPreview v = plan_preview(p, a);

  CHECK(v.total_bytes == p.total_bytes);
  uint64_t mixed = 0;
  double pct = 0;
  for (const auto& m : v.mix) mixed += m.params, pct += m.percent;
  CHECK(mixed == p.total_params);
  CHECK(pct == Approx(100.0));

  // Every 2-D tensor appears once: in a map cell or among the others; 1-D tensors nowhere.
  std::multiset<std::size_t> shown(v.others.begin(), v.others.end());
  REQUIRE_FALSE(v.rows.empty());
  CHECK(v.columns == std::vector<std::string>{"q", "k", "v", "o", "gate", "up", "down"});
  for (const auto& r : v.rows) {
    REQUIRE(r.cells.size() == v.columns.size());
    for (const auto& c : r.cells) {
      REQUIRE(c.tensors.size() == 1);  // one tensor per (layer, projection) in a dense Llama
      CHECK(c.label == choice_label(p.tensors[c.tensors[0]]));
      shown.insert(c.tensors.begin(), c.tensors.end());
    }
  }
  std::size_t matrices = 0;
  for (const auto& t : a.tensors) matrices += t.shape.size() >= 2;
  CHECK(shown.size() == matrices);
  CHECK(std::set<std::size_t>(shown.begin(), shown.end()).size() == matrices);

  // The planner never picks a config under the floor, so the plan passes; push one tensor under it and
  // the verdict flips, naming exactly that tensor (kept tensors are not gated).
  CHECK(v.pass());
  CHECK(v.quantized + v.kept == p.tensors.size());
  std::size_t victim = p.tensors.size();
  for (std::size_t i = 0; i < p.tensors.size(); ++i)
    if (!p.tensors[i].keep()) victim = i;
  REQUIRE(victim < p.tensors.size());
  p.tensors[victim].sqnr_db = p.options.floor_db - 0.01;
  for (auto& t : p.tensors)
    if (t.keep()) t.sqnr_db = 0;
  v = plan_preview(p, a);
  CHECK_FALSE(v.pass());
  CHECK(v.below_floor == std::vector<std::size_t>{victim});
  const auto j = preview_to_json(v, p);
  CHECK(j["gate"]["pass"] == false);
  CHECK(j["gate"]["below_floor"][0]["name"] == p.tensors[victim].name);
  CHECK(j["rows"][0]["cells"][0]["tensors"][0].contains("sqnr_db"));
}

TEST_CASE("plan preview: MoE experts are one column per projection, every expert of it in one cell", "[preview]") {
  PlanSettings st;
  st.bpw = 4;
  // Mixtral names its projections w1/w3/w2; Qwen2-MoE has a shared expert (gate/up/down) and a shared-expert gate.
  struct Case {
    const char* preset;
    std::size_t experts;
    std::vector<std::string> cols;
  };
  const std::vector<Case> cases = {
      {"moe", 4, {"q", "k", "v", "o", "experts.gate", "experts.up", "experts.down", "router"}},
      {"qwen2-moe",
       4,
       {"q", "k", "v", "o", "experts.gate", "experts.up", "experts.down", "shared.gate", "shared.up", "shared.down",
        "router"}}};
  for (const auto& [preset, experts, cols] : cases) {
    CAPTURE(preset);
    const Analysis a = tiny_analysis(preset);
    const Plan p = make_plan(a, plan_options_from(st, true));
    const PlanPreview v = plan_preview(p, a);
    CHECK(v.columns == cols);
    REQUIRE(v.rows.size() == 2);  // one row per layer
    for (const auto& r : v.rows)
      for (std::size_t c = 0; c < cols.size(); ++c) {
        const std::size_t want = cols[c].starts_with("experts.")          ? experts
                                 : cols[c] == "router" && cols.size() > 8 ? 2
                                                                          : 1;
        CHECK(r.cells[c].tensors.size() == want);  // all experts of a projection; router + shared-expert gate
        CHECK(r.cells[c].label.find(',') == std::string::npos);  // experts of a projection share one config
      }
  }
}
