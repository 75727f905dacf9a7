#include "eval/select.h"

#include <algorithm>

#include "convert/quantized_weights.h"
#include "model/stored_linear.h"
#include "plan/plan_twins.h"
#include "plan/planner.h"
#include "plan/uniform.h"
#include "util/error.h"

namespace squint {

Selection select_plan(const Checkpoint& ck, const Analysis& a, const ModelHparams& cfg, const EvalWindows& w,
                      const PlanOptions& opt, const ParallelFor& pf, const std::string& text_name,
                      const std::function<void(std::size_t, std::size_t, const std::string&)>& progress,
                      const ModelImatrix* imatrix) {
  if (a.fingerprint != ck.fingerprint) fail("the analysis was made for a different model than " + ck.location);
  // The settings tried, the default first: data-free ones, the published one, and the analysis's weighted
  // objective when it has column weights.
  std::vector<std::pair<std::string, std::string>> settings = {
      {"params-mse", "flat"}, {"mse", "flat"}, {"params-mse", "roles"}, {"mse", "roles"}, {"nrmse", "roles"},
      {"residual", "flat"}};
  if (a.column_weighting == "norm") settings.emplace_back("norm", "flat");
  if (a.column_weighting == "calibrated") settings.emplace_back("calibrated", "flat");

  std::vector<SelectionCandidate> cands;
  std::vector<Plan> plans;           // by candidate; empty tensors = none
  PlanTwins twins;  // candidates with the same plan as an earlier one
  uint64_t budget = opt.budget_bytes;
  auto add = [&](const std::string& name, std::optional<Plan> p, const std::string& why) {
    SelectionCandidate c;
    c.name = name;
    c.note = why;
    if (p) {
      c.bytes = p->total_bytes;
      if (const auto twin = twins.add(*p, cands.size())) c.note = "same plan as " + cands[*twin].name;
    }
    cands.push_back(c);
    plans.push_back(p ? std::move(*p) : Plan{});
  };
  for (const auto& [obj, ps] : settings) {
    PlanOptions o = opt;
    o.objective = obj;
    o.prior_set = ps;
    try {
      Plan p = make_plan(a, o);
      if (!budget) budget = p.budget_bytes;  // --bpw / --min-safe resolve to bytes in the planner
      add(obj + "/" + ps, std::move(p), "");
    } catch (const InfeasibleError& e) {
      add(obj + "/" + ps, std::nullopt, std::string("infeasible: ") + e.what());
    }
  }
  // The largest uniform configs that fit (up to three), so the kept plan is never worse than them on the text.
  std::vector<std::pair<uint64_t, QConfig>> uni;
  for (QConfig c : a.configs)
    if (uniform_config_valid(a, c) && opt.allows(c)) {
      const uint64_t b = uniform_plan(a, c).total_bytes;
      if (b <= budget) uni.emplace_back(b, c);
    }
  std::stable_sort(uni.begin(), uni.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  for (std::size_t i = 0; i < uni.size() && i < 3; ++i) add("uniform " + config_name(uni[i].second), uniform_plan(a, uni[i].second), "");

  if (progress) progress(0, cands.size(), "float model");  // the solves are done (select.h)
  // F16/BF16 matrices in their stored precision; each candidate's model shares the ones its plan leaves alone.
  Model base_model(cfg, float_weights(ck), stored_linears(ck, pf));
  EvalBase base(base_model, w, pf);
  std::size_t best = cands.size();
  for (std::size_t i = 0; i < cands.size(); ++i) {
    if (progress) progress(i, cands.size(), cands[i].name);
    if (!cands[i].note.empty()) continue;  // infeasible or a duplicate
    Model m(cfg, quantized_weights(ck, plans[i], pf, imatrix),
            shared_linears(base_model.weights(), plan_changed_tensors(ck, plans[i])));
    const EvalResult r = evaluate(m, w, pf, {}, &base);
    cands[i].kl_mean = r.kl.mean;
    cands[i].median_ppl = r.ppl.median_ppl;
    if (best == cands.size() || r.kl.mean < cands[best].kl_mean) best = i;
  }
  if (progress) progress(cands.size(), cands.size(), "");
  if (best == cands.size()) fail("measured selection: no candidate plan fits the budget");
  // Duplicates share their twin's numbers (for the record).
  for (const auto& [d, t] : twins.duplicates()) {
    cands[d].kl_mean = cands[t].kl_mean;
    cands[d].median_ppl = cands[t].median_ppl;
  }
  Selection s;
  s.candidates = cands;
  s.chosen = best;
  s.plan = plans[best];
  PlanSelectionRecord rec;
  rec.text = text_name;
  rec.chosen = cands[best].name;
  for (const auto& c : cands) rec.candidates.push_back({c.name, c.bytes, c.kl_mean, c.note});
  s.plan.selection = std::move(rec);
  return s;
}

}  // namespace squint
