#pragma once
// Measured selection (issue 14): with calibration text, the planner evaluates its best few candidate plans
// at the budget — the optimum under each objective/prior setting and the largest uniform configs that fit —
// quantized in memory, against the float model on the text, and keeps the one with the lowest mean KL.
// So the selected plan is never worse than the uniform configs it tried on that text (by construction);
// on other text it is what docs/quality.md measures. Not data-free: it reads text and runs the model.
#include <string>
#include <vector>

#include "analysis/importance.h"
#include "eval/evaluate.h"
#include "model/model.h"
#include "io/checkpoint.h"
#include "plan/plan.h"

namespace squint {

struct SelectionCandidate {
  std::string name;         // "params-mse/flat", "uniform 4/64", ...
  std::string note;         // "same plan as ..." or "infeasible: ..."
  uint64_t bytes = 0;
  double kl_mean = -1;      // -1: not evaluated (infeasible or a duplicate)
  double median_ppl = 0;
};

struct Selection {
  std::vector<SelectionCandidate> candidates;
  std::size_t chosen = 0;   // index into candidates
  Plan plan;                // the chosen plan, with plan.selection filled
};

// `opt` gives the budget, floor, allowed configs and --prior overrides; the objective and prior set are
// replaced per candidate. Identical plans are evaluated once; ties keep the earlier candidate (the default
// setting comes first). `progress` is first called once every candidate is solved, before the float model
// runs, so that a caller can time the solves apart from the evaluations.
// An analysis made with an imatrix needs that `imatrix` (GGUF plans are quantized with it).
Selection select_plan(const Checkpoint& ck, const Analysis& a, const ModelHparams& cfg, const EvalWindows& w,
                      const PlanOptions& opt, const ParallelFor& pf, const std::string& text_name,
                      const std::function<void(std::size_t, std::size_t, const std::string&)>& progress = {},
                      const ModelImatrix* imatrix = nullptr);

}  // namespace squint
