#pragma once
// The quality lab (`squint sweep`): at a set of sizes (the exact size of every valid uniform config, plus
// given budgets), the uniform model and squint's plan under each objective/prior setting, quantized in
// memory and evaluated against the float model on the same windows (KL, PPL); plus the matched-noise
// control's spread, so a reader knows which differences are real. docs/quality.md is made from it.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/analysis.h"
#include "eval/evaluate.h"
#include "io/checkpoint.h"
#include "plan/plan.h"

namespace squint {

struct SweepSetting {
  std::string objective = "params-mse";
  std::string priors = "flat";  // a prior set (plan/priors.h): flat | roles
  std::string name() const { return objective + "/" + priors; }
};

struct SweepOptions {
  std::vector<SweepSetting> settings = {{"params-mse", "flat"}, {"nrmse", "roles"}};
  std::vector<uint64_t> budgets;     // extra sizes (bytes)
  double min_bpw = 2.5, max_bpw = 8.5;  // uniform configs whose effective bpw is in range
  double floor_db = 9;
  int noise_seeds = 3;               // matched-noise control at one uniform config (0: none)
  QConfig noise_config{4, 64};       // falls back to the first valid uniform config in range
  ParallelFor parallel = serial();
  // (models done, models total, what): called between models from the caller's thread.
  std::function<void(std::size_t, std::size_t, const std::string&)> progress;
  // Per-window progress of the base model's evaluation.
  std::function<void(std::size_t, std::size_t)> base_progress;
};

struct SweepRow {
  std::string kind;           // uniform | squint | noise
  std::string size;           // what the size is: "uniform 4/64" or "budget"
  uint64_t target_bytes = 0;  // the size every row of this group is planned for
  QConfig config{0, 0};       // uniform / noise rows
  std::string setting;        // squint rows: objective/priors
  uint64_t seed = 0;          // noise rows
  uint64_t bytes = 0;         // the model's actual size
  double bpw = 0;             // 8·bytes / params
  std::string note;           // "infeasible: …", or "same plan as uniform 4/64"
  bool evaluated = false;
  PplStats ppl;
  KlStats kl;
};

// Whether the articles' natural gap between 2-bit and 3-bit SQNRs exists on this model.
struct FloorGap {
  bool has_2bit = false, has_3bit = false;
  double max_2bit_db = 0, min_3bit_db = 0;  // over measured tensors and group sizes
  bool separated = false;                   // every 2-bit config is below every 3-bit config
  double gap_lo = 0, gap_hi = 0;            // the largest empty interval between 2- and 3-bit SQNRs
  std::size_t above_floor_2bit = 0;         // 2-bit (tensor, config) pairs that clear the floor
};
FloorGap floor_gap(const Analysis& a, double floor_db);

struct SweepResult {
  PplStats base;                  // the float model
  std::size_t windows = 0, tokens = 0;
  std::vector<SweepRow> rows;     // by target size, then uniform, settings in order; noise rows last
  FloorGap gap;
  double noise_kl_spread = 0, noise_ppl_spread = 0;  // max − min over the noise seeds (KL mean, median PPL %)
};

// Plan options for a setting at a budget (the same plan `squint plan --budget B --objective O [--prior
// '*=1']` gives).
PlanOptions sweep_plan_options(const SweepSetting& s, uint64_t budget, double floor_db);

SweepResult run_sweep(const Checkpoint& ck, const Analysis& a, const ModelHparams& cfg, const EvalWindows& w,
                      const SweepOptions& opt);

nlohmann::json sweep_json(const SweepResult& r);
std::string sweep_csv(const SweepResult& r);

}  // namespace squint
