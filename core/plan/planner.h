#pragma once
// The planning entry points shared by the CLI and the browser: budget resolution (and its user-facing
// message), analysis + options -> plan (problem, solver, plan assembly), and the sweep of budgets.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "analysis/analysis.h"
#include "plan/plan.h"
#include "plan/problem.h"
#include "plan/solver.h"

namespace squint {

// Budget in bytes from the options (bytes / bpw / min-safe). Throws InfeasibleError below min-safe, with
// the smallest safe size in the user's unit.
uint64_t resolve_budget(const PlanProblem& p, const PlanOptions& opt);

// analysis + options -> plan (deterministic; no timing inside).
Plan make_plan(const Analysis& a, const PlanOptions& opt);
// A key of a plan's per-tensor choices (bits, group, GGUF type): equal keys, identical quantized models, so
// the lab and measured selection evaluate such plans once.
std::string plan_choice_key(const Plan& p);
// The same over the problem already built from (a, opt) — build_problem does not depend on the budget — for
// faces that also need the problem (its min/max sizes) or plan several budgets: one build, not one per call.
Plan make_plan(const Analysis& a, const PlanProblem& p, const PlanOptions& opt);
Plan plan_from_solution(const Analysis& a, const PlanProblem& p, const PlanOptions& opt, uint64_t budget,
                        const Solution& s);

struct CurvePoint {
  uint64_t budget = 0;
  uint64_t bytes = 0;
  double objective = 0;
  double bound = 0;
  double bpw_effective = 0;
  std::vector<std::pair<int, double>> bit_mix;  // (bits, share of parameters); 16 = keep
};
// Sweep of `points` budgets evenly spaced from `from` to `to` (bytes), reusing one problem. Each point gets
// a smaller DP work limit than a single plan (a sweep is a preview); its bound is reported either way.
std::vector<CurvePoint> budget_curve(const Analysis& a, const PlanOptions& opt, uint64_t from, uint64_t to, int points);
// The same over a problem already built from (a, opt).
std::vector<CurvePoint> budget_curve(const PlanProblem& p, const PlanOptions& opt, uint64_t from, uint64_t to, int points);

}  // namespace squint
