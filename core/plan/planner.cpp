#include "plan/planner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "util/error.h"
#include "util/units.h"

namespace squint {

uint64_t resolve_budget(const PlanProblem& p, const PlanOptions& opt) {
  uint64_t budget;
  std::string unit = "B";
  if (opt.min_safe) {
    budget = p.min_bytes;
  } else if (opt.bpw > 0) {
    budget = static_cast<uint64_t>(std::floor(opt.bpw * static_cast<double>(p.total_params) / 8.0));
  } else {
    budget = opt.budget_bytes;
    unit = size_unit_of(opt.budget_spec);
  }
  if (budget < p.min_bytes) {
    std::string need, have;
    if (opt.bpw > 0) {
      char b[64];
      std::snprintf(b, sizeof b, "%.4f bpw", static_cast<double>(p.min_bytes) * 8.0 / static_cast<double>(p.total_params));
      need = b;
      std::snprintf(b, sizeof b, "%.4f bpw", opt.bpw);
      have = b;
    } else {
      need = format_size(p.min_bytes, unit == "B" ? "B" : unit) + " (" + std::to_string(p.min_bytes) + " bytes)";
      have = format_size(budget, unit == "B" ? "B" : unit);
    }
    char fl[32];
    std::snprintf(fl, sizeof fl, "%g", p.floor_db);
    throw InfeasibleError("budget " + have + " is below the smallest safe size " + need + ": every tensor at its cheapest config above the " + fl + " dB floor");
  }
  return budget;
}

Plan plan_from_solution(const Analysis& a, const PlanProblem& p, const PlanOptions& opt, uint64_t budget,
                        const Solution& s) {
  Plan plan;
  plan.format = a.format;
  plan.fingerprint = a.fingerprint;
  plan.imatrix = a.imatrix;
  plan.f32_out_dtype = a.f32_out_dtype;
  plan.options = opt;
  if (plan.options.configs.empty()) plan.options.configs = a.configs;
  // The options may list both formats' candidates; the plan records those of its analysis. GGUF options list
  // all 19 types, an analysis without an importance matrix measured 13 (all_gguf_configs): those it has.
  std::erase_if(plan.options.configs, [&](QConfig c) {
    return c.format != a.format || (c.gguf() && std::find(a.configs.begin(), a.configs.end(), c) == a.configs.end());
  });
  plan.budget_bytes = budget;
  plan.solver = s.solver;
  plan.objective = s.objective;
  plan.bound = s.bound;
  plan.gap = s.proven ? 0.0 : std::max(0.0, s.objective - s.bound);
  plan.tensors.resize(a.tensors.size());
  double bit_params = 0;
  for (std::size_t i = 0; i < p.items.size(); ++i) {
    const auto& item = p.items[i];
    const PlanOption& o = item.options[s.choice[i]];
    for (std::size_t ti : item.tensors) {
      const auto& t = a.tensors[ti];
      PlanTensor pt;
      pt.name = t.name;
      pt.params = t.params;
      pt.prior = item.prior;
      if (o.bits == kKeepBits) {
        pt.bits = kKeepBits;
        pt.group_size = 0;
        pt.bytes = t.keep_bytes;
        pt.nrmse = t.keep_nrmse;
        pt.sqnr_db = t.keep_sqnr_db;
        pt.reason = item.fixed ? item.fixed_reason : "kept: the budget allows it and it lowers the objective";
      } else {
        const ConfigResult* r = t.find(o.config());
        pt.bits = o.bits;
        pt.group_size = o.group;
        if (o.format == QFormat::Gguf) pt.type = ggml_type_info(o.type)->name;
        pt.bytes = r->bytes;
        pt.nrmse = r->nrmse;
        pt.sqnr_db = r->sqnr_db;
        pt.reason = s.proven ? "optimal under the budget" : "best found under the budget";
      }
      if (item.tensors.size() > 1) pt.reason += " (shares one config with " + std::to_string(item.tensors.size() - 1) + " other experts of " + item.key + ")";
      plan.total_bytes += pt.bytes;
      plan.total_params += pt.params;
      bit_params += static_cast<double>(pt.bits) * static_cast<double>(pt.params);
      plan.tensors[ti] = std::move(pt);
    }
  }
  if (plan.total_params) {
    plan.bpw_nominal = bit_params / static_cast<double>(plan.total_params);
    plan.bpw_effective = static_cast<double>(plan.total_bytes) * 8.0 / static_cast<double>(plan.total_params);
  }
  return plan;
}

Plan make_plan(const Analysis& a, const PlanOptions& opt) { return make_plan(a, build_problem(a, opt), opt); }

Plan make_plan(const Analysis& a, const PlanProblem& p, const PlanOptions& opt) {
  const uint64_t budget = resolve_budget(p, opt);
  PlanOptions o = opt;
  if (o.budget_spec.empty()) {
    char b[64];
    if (opt.min_safe) std::snprintf(b, sizeof b, "min-safe");
    else if (opt.bpw > 0) std::snprintf(b, sizeof b, "%g bpw", opt.bpw);
    else std::snprintf(b, sizeof b, "%llu", static_cast<unsigned long long>(opt.budget_bytes));
    o.budget_spec = b;
  }
  o.budget_bytes = budget;
  const Solution s = opt.solver == "greedy" ? solve_greedy(p, budget) : solve_exact(p, budget);
  return plan_from_solution(a, p, o, budget, s);
}

std::vector<CurvePoint> budget_curve(const Analysis& a, const PlanOptions& opt, uint64_t from, uint64_t to, int points) {
  return budget_curve(build_problem(a, opt), opt, from, to, points);
}

std::vector<CurvePoint> budget_curve(const PlanProblem& p, const PlanOptions& opt, uint64_t from, uint64_t to, int points) {
  std::vector<CurvePoint> out;
  if (points < 1) return out;
  from = std::max(from, p.min_bytes);
  if (to < from) to = from;
  for (int k = 0; k < points; ++k) {
    const uint64_t b = points == 1 ? to : from + static_cast<uint64_t>((static_cast<double>(to - from) * k) / (points - 1));
    const Solution s = opt.solver == "greedy" ? solve_greedy(p, b) : solve_exact(p, b, 1u << 12, false);
    CurvePoint c;
    c.budget = b;
    c.bytes = s.bytes;
    c.objective = s.objective;
    c.bound = s.bound;
    c.bpw_effective = p.total_params ? static_cast<double>(s.bytes) * 8.0 / static_cast<double>(p.total_params) : 0;
    std::map<int, uint64_t> mix;
    for (std::size_t i = 0; i < p.items.size(); ++i) mix[p.items[i].options[s.choice[i]].bits] += p.items[i].params;
    for (const auto& [bits, n] : mix)
      c.bit_mix.emplace_back(bits, static_cast<double>(n) / static_cast<double>(p.total_params));
    out.push_back(std::move(c));
  }
  return out;
}

std::string plan_choice_key(const Plan& p) {
  std::string k;
  for (const auto& t : p.tensors) k += std::to_string(t.bits) + ":" + std::to_string(t.group_size) + ":" + t.type + ",";
  return k;
}

}  // namespace squint
