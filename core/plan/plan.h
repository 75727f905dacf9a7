#pragma once
// A plan: one choice per tensor (a (bits, group size) or keep) that fits a budget. Produced by the
// planner (plan/solver.h), written as plan.json (docs/plan-schema.md), read by quantize/gate and the page.
// plan.json must be byte-identical for the same analysis and options on every platform.
#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analysis/analysis.h"

namespace squint {

constexpr const char* kPlanFormat = "squint.plan";
constexpr int kPlanVersion = 1;
constexpr int kKeepBits = 16;  // "bits": 16 in plan.json means the tensor is kept in float

struct PlanOptions {
  // Exactly one budget form: bytes, bits per weight, or the smallest safe size.
  std::string budget_spec;   // as the user wrote it ("24GB", "3.5 bpw", "min-safe"), recorded in plan.json
  uint64_t budget_bytes = 0; // resolved budget (filled by the planner for --bpw / --min-safe)
  double bpw = 0;            // > 0: budget given as average bits per weight over all parameters
  bool min_safe = false;
  double floor_db = 9.0;
  // Defaults chosen by measurement (docs/quality.md): Σ params·NRMSE² with flat priors was never worse than
  // uniform at the same size on either real model; the published nrmse + role priors lost at 6 of 8 sizes
  // on stories260K. `--objective nrmse --prior-set roles` is the published method.
  std::string objective = "params-mse";  // nrmse | params | mse | params-mse | output (see docs/objectives.md)
  std::string prior_set = "flat";        // flat | roles: the base priors before the overrides below
  std::vector<QConfig> configs;     // allowed configs (empty: every config in the analysis)
  bool allows(QConfig c) const { return configs.empty() || std::find(configs.begin(), configs.end(), c) != configs.end(); }
  std::vector<std::pair<std::string, double>> priors;  // --prior PATTERN=VALUE overrides, in order
  std::string solver = "exact";     // exact | greedy
};

struct PlanTensor {
  std::string name;
  int bits = kKeepBits;  // 16 = keep (GGUF: the type's nominal bits)
  int group_size = 0;    // 0 when kept (GGUF: the type's block size)
  std::string type;      // GGUF plans: the ggml type name ("Q4_K") of a quantized tensor; empty otherwise
  uint64_t bytes = 0;
  uint64_t params = 0;
  double nrmse = 0;
  double sqnr_db = 0;
  double prior = 1;      // +inf is written as the string "inf"
  std::string reason;
  bool keep() const { return bits == kKeepBits; }
  QConfig config() const;  // the chosen candidate (meaningless when kept)
};

// How a plan was chosen by measured selection (eval/select.h); absent for a plain `plan`.
struct PlanSelectionRecord {
  std::string text;             // the calibration text's file name, windows and length
  std::string chosen;           // the candidate kept
  struct Candidate {
    std::string name;
    uint64_t bytes = 0;
    double kl_mean = -1;        // -1: not evaluated (infeasible or the same plan as another)
    std::string note;
  };
  std::vector<Candidate> candidates;
};

struct Plan {
  QFormat format = QFormat::Mlx;  // of the analysis it was made from; MLX writers reject GGUF plans
  std::string fingerprint;
  DType f32_out_dtype = DType::F16;
  PlanOptions options;
  uint64_t budget_bytes = 0;
  uint64_t total_bytes = 0;
  uint64_t total_params = 0;
  double bpw_nominal = 0;    // Σ bits·params / params over quantized tensors + 16 for kept (see docs)
  double bpw_effective = 0;  // 8·total_bytes / total_params
  double objective = 0;
  double bound = 0;
  double gap = 0;
  std::string solver;
  std::vector<PlanTensor> tensors;  // analysis order
  std::optional<PlanSelectionRecord> selection;
  // The importance matrix of the analysis (empty: none): `quantize` must be given the same file.
  ImatrixRef imatrix;

  const PlanTensor* find(const std::string& name) const {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
};

nlohmann::json plan_to_json(const Plan& p);
Plan plan_from_json(const nlohmann::json& j, const std::string& source);  // throws squint::Error
Plan parse_plan(const std::string& text, const std::string& source);
// The exact bytes of plan.json (deterministic: same plan, same bytes, everywhere).
std::string serialize_plan(const Plan& p);

}  // namespace squint
