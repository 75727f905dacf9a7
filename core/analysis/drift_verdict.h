#pragma once
// The phase-3 verdict of `squint drift` (docs/drift.md): along a checkpoint series, the first checkpoint
// where the low-bit PPL gap has risen clearly above its earlier minimum while the float PPL no longer
// improves, and the rise holds at every later checkpoint. "Clearly" = beyond a noise margin built from the
// bootstrap standard error of the gaps, never below an absolute and a relative floor.
#include <cstdint>
#include <string>
#include <vector>

#include "eval/perplexity.h"

namespace squint {

struct DriftPoint {
  double float_ppl = 0;   // median per-window PPL of the float checkpoint
  double gap_pct = 0;     // 100·(median PPL quantized / median PPL float − 1)
  double gap_se_pct = 0;  // its bootstrap standard error (0 = unknown)
};

struct VerdictOptions {
  double ppl_tolerance = 0.01;  // float PPL "no longer improves": within 1 % of its best so far
  double min_rise_pp = 1.0;     // a rise must exceed 1 percentage point ...
  double rel_rise = 0.10;       // ... and 10 % of the minimum gap ...
  double z = 2.0;               // ... and z·√(se_k² + se_min²)
};

struct DriftVerdict {
  bool divergence = false;
  std::size_t at = 0;        // row where the rise is first detected (valid when divergence)
  std::size_t gap_min = 0;   // row of the minimum gap before it (where the gap starts to grow)
  double rise_pp = 0, margin_pp = 0;
  bool confirmed = false;    // at least one later row also holds the rise (false when `at` is the last row)
  std::string reason;        // one line for people: why (or why not)
};

DriftVerdict drift_verdict(const std::vector<DriftPoint>& rows, const VerdictOptions& opt = {});

// The median-PPL gap of `quant` over `base` (same windows, matched by index) in %, with the standard error of
// a paired bootstrap over windows (seeded, portable).
struct GapEstimate {
  double gap_pct = 0, se_pct = 0;
};
GapEstimate median_gap(const std::vector<WindowResult>& base, const std::vector<WindowResult>& quant,
                       int resamples = 200, uint64_t seed = 42);

}  // namespace squint
