#pragma once
// Data-free drift measures of one checkpoint (docs/drift.md): per config the SQNR summary, the grid
// alignment of the weights under MLX's RTN grid, and weight kurtosis. `squint drift` computes one of these
// per training checkpoint and compares them along the series.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/analysis.h"

namespace squint {

// Where weights sit inside their RTN cells. For an element w of a group with MLX parameters (s, b), let
// x = (w − b)/s (float32, exactly the value MLX rounds), q its code (rint, clamped to [0, 2^bits − 1]) and
// a = 0.5 − |x − q|. For every unclamped element a = |frac(x) − 0.5|: 0.5 on a grid point, 0 on a rounding
// boundary. MLX's zero-exact edge can stretch a group's grid by up to half a step, so its far extreme may be
// clamped with |x − q| > 0.5 and a < 0 — counting it this way keeps mean(a) = 0.5 − mean rounding error in
// grid units exactly, which ties the measure to the SQNR. Weights spread without regard to the grid give
// E[a] ≈ 0.25. `near` counts elements with |a| < band (a small nudge flips their code; chance: 2·band).
struct GridAlignment {
  double sum = 0;          // Σ a (per group in float order, summed in double)
  uint64_t near = 0;       // elements with a < band
  uint64_t elements = 0;
  double mean() const { return elements ? sum / static_cast<double>(elements) : 0.0; }
  double near_share() const { return elements ? static_cast<double>(near) / static_cast<double>(elements) : 0.0; }
  void merge(const GridAlignment& o) {
    sum += o.sum;
    near += o.near;
    elements += o.elements;
  }
};

// Accumulates the alignment of a [rows, cols] row-major block (the quantizer input, already in the output
// dtype) under config c; c.group must divide cols.
void accumulate_grid_alignment(const float* w, std::size_t rows, std::size_t cols, QConfig c, double band,
                               GridAlignment* acc);

struct ConfigDrift {
  QConfig config;
  std::size_t tensors = 0;            // tensors measured under this config
  double sqnr_min = 0, sqnr_median = 0;
  std::size_t below_floor = 0;        // tensors below the 9 dB floor
  GridAlignment alignment;            // over every element of those tensors
};

struct DriftMeasures {
  std::vector<ConfigDrift> configs;
  double kurtosis = 0;            // params-weighted mean of each measured tensor's excess kurtosis
  double group_kurtosis_p90 = 0;  // P90 of the excess kurtosis of all groups of kurtosis_group elements
  int kurtosis_group = 128;
  uint64_t params = 0;            // elements of the measured tensors
  std::size_t tensors = 0;
};

struct DriftOptions {
  std::vector<QConfig> configs = {{4, 64}, {8, 64}};
  DType f32_out_dtype = DType::F16;  // as analyze: what F32 tensors are written as
  double band = 0.05;                // half-width of the boundary band, in grid units
  int kurtosis_group = 128;          // as analyze --features
  double floor_db = 9.0;
  ParallelFor parallel = serial();
  std::function<void(const AnalyzeProgress&)> progress;
};

// Reads the checkpoint tensor by tensor (memory: one tensor): the analysis restricted to opt.configs, then
// alignment and kurtosis of every measured tensor.
// analysis_out (optional) receives that analysis (e.g. for uniform_plan).
DriftMeasures measure_drift(const Checkpoint& ck, const DriftOptions& opt, Analysis* analysis_out = nullptr);

nlohmann::json drift_measures_json(const DriftMeasures& m, double band);

// Excess kurtosis m4/m2² − 3 of n values (0 when constant).
double excess_kurtosis(const float* w, std::size_t n);

}  // namespace squint

namespace squint {

// The training step in a checkpoint's folder name: the last run of digits of its last path component
// ("ckpts/step-000461" → 461, "run3/global_step1200/" → 1200), or -1 when there is none.
int64_t step_from_path(const std::string& path);

// The order rows are reported in: by step when every path has one (stable for equal steps), else as given.
std::vector<std::size_t> checkpoint_order(const std::vector<std::string>& paths);

}  // namespace squint
