#pragma once
// The allocation problem as a multiple-choice knapsack: one item per tensor (or per MoE group of experts
// that must share a config), each with its allowed options (configs above the SQNR floor, plus keep).
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/analysis.h"
#include "plan/plan.h"

namespace squint {

struct PlanOption {
  int bits = kKeepBits;  // 16 = keep
  int group = 0;
  uint64_t bytes = 0;
  double d = 0;        // distortion: parameter-weighted D (NRMSE or NRMSE², see objective_distortion)
  double sqnr_db = 0;  // minimum over the item's tensors
  double cost = 0;     // π · w · d, what the solver minimises
  // Last, so that aggregate initialisers of the MLX fields above stay valid.
  QFormat format = QFormat::Mlx;
  GgmlType type = GgmlType::F32;  // GGUF options only
  QConfig config() const { return {bits, group, format, type}; }
};

struct PlanItem {
  std::string key;                   // tensor name, or the MoE group key
  std::vector<std::size_t> tensors;  // indices into Analysis::tensors
  uint64_t params = 0;
  double prior = 1;
  double weight = 1;
  bool fixed = false;                // a single forced option (1-D, unmeasured, prior inf, nothing valid)
  std::string fixed_reason;
  std::vector<PlanOption> options;   // Pareto-efficient options: bytes ascending, cost strictly descending
  std::size_t dropped_by_floor = 0;
};

// One step along an item's lower convex hull (from option `from` to the next hull option `to`).
struct HullSegment {
  std::size_t item;
  std::size_t from, to;
  double eff;   // cost saved per extra byte
  uint64_t db;  // extra bytes
};

struct PlanProblem {
  std::vector<PlanItem> items;
  uint64_t total_params = 0;
  uint64_t min_bytes = 0;  // every item at its smallest safe option
  uint64_t max_bytes = 0;  // every item at its lowest-cost option (more budget cannot help)
  double floor_db = 9;
  // Every item's hull steps, sorted by efficiency (ties: item, then step): budget-independent, so a
  // sweep or a live re-plan reuses them.
  std::vector<HullSegment> segments;
};

// Objective weight w for a tensor: "nrmse" (published, w = 1), "params" (share of the model's parameters,
// times the item count so weights average ~1; a tied embedding counts its parameters twice, once per use:
// embedding and lm_head), "output" (feature-informed: the 4-bit output-noise
// amplification f_out / NRMSE(4-bit), from `analyze --features`; w = 1 where features are absent).
// "mse" and "params-mse" weight like "nrmse" and "params" but measure D = NRMSE² (relative noise power),
// which is additive over tensors when their errors are independent (issue 14; docs/objectives.md).
// "norm" and "calibrated" weight like "params-mse" and measure D = wNRMSE², the column-weighted error of an
// analysis made with `--norm-weights` (γ² of the feeding RMSNorm, data-free) or `--calibrate TEXT`
// (activation second moments: not data-free); see analysis/column_weights.h.
// "residual" (data-free) measures NRMSE² with w = 1 inside the model, 2L + 1 for the lm_head and 2L + 2 for a
// tied embedding (L layers): the relative noise each reaches the logits with (docs/objectives.md).
// What the weights read from the whole analysis, gathered once per planning problem rather than by a pass
// over every tensor for each tensor (quadratic in the tensor count: per-expert MoE analyses have tens of
// thousands).
struct ObjectiveContext {
  std::size_t measured = 0;  // measured tensors
  int layers = 0;            // 1 + the largest layer index
};
ObjectiveContext objective_context(const Analysis& a);
double objective_weight(const std::string& objective, const TensorAnalysis& t, const Analysis& a, const ObjectiveContext& c);
double objective_weight(const std::string& objective, const TensorAnalysis& t, const Analysis& a);  // context made here
// The per-tensor distortion D an objective measures: NRMSE, or NRMSE² for the noise-power objectives.
double objective_distortion(const std::string& objective, double nrmse);
std::vector<std::string> objective_names();
// Fails with the list of objective_names() unless name is one of them ("--objective: unknown objective ...").
void check_objective(const std::string& name, const std::string& flag = "");
// The column weighting an objective needs ("norm", "calibrated"), or nullptr.
const char* objective_column_weighting(const std::string& objective);

PlanProblem build_problem(const Analysis& a, const PlanOptions& opt);
// Fills min/max bytes and the sorted hull segments from the items (build_problem calls it).
void finish_problem(PlanProblem& p);

}  // namespace squint
