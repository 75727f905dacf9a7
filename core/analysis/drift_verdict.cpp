#include "analysis/drift_verdict.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/error.h"
#include "util/rng.h"

namespace squint {

namespace {

double margin_for(const DriftPoint& k, const DriftPoint& m, const VerdictOptions& o) {
  const double noise = o.z * std::sqrt(k.gap_se_pct * k.gap_se_pct + m.gap_se_pct * m.gap_se_pct);
  return std::max({o.min_rise_pp, o.rel_rise * std::fabs(m.gap_pct), noise});
}


}  // namespace

DriftVerdict drift_verdict(const std::vector<DriftPoint>& rows, const VerdictOptions& opt) {
  DriftVerdict v;
  if (rows.size() < 2) {
    v.reason = "fewer than two checkpoints: no trend";
    return v;
  }
  std::size_t m = 0;       // running argmin of the gap over rows [0, k)
  double best_ppl = rows[0].float_ppl;
  bool rose_while_improving = false;
  for (std::size_t k = 1; k < rows.size(); ++k) {
    const double margin = margin_for(rows[k], rows[m], opt);
    const double rise = rows[k].gap_pct - rows[m].gap_pct;
    const bool plateau = rows[k].float_ppl >= (1.0 - opt.ppl_tolerance) * best_ppl;
    if (rise > margin && !plateau) rose_while_improving = true;
    if (rise > margin && plateau) {
      bool sustained = true;
      for (std::size_t j = k + 1; j < rows.size() && sustained; ++j)
        sustained = rows[j].gap_pct - rows[m].gap_pct > margin_for(rows[j], rows[m], opt);
      if (sustained) {
        v.divergence = true;
        v.at = k;
        v.gap_min = m;
        v.rise_pp = rise;
        v.margin_pp = margin;
        v.confirmed = k + 1 < rows.size();
        char buf[256];
        std::snprintf(buf, sizeof buf,
                      "gap rose %.2f pp above its minimum (%.2f %%) beyond the %.2f pp margin while float PPL stayed "
                      "within %.0f %% of its best, and stayed up%s",
                      rise, rows[m].gap_pct, margin, 100 * opt.ppl_tolerance, v.confirmed ? "" : " (last checkpoint: unconfirmed)");
        v.reason = buf;
        return v;
      }
    }
    if (rows[k].gap_pct < rows[m].gap_pct) m = k;
    best_ppl = std::min(best_ppl, rows[k].float_ppl);
  }
  v.reason = rose_while_improving ? "the gap rose only while float PPL was still improving (not phase 3)"
                                  : "no sustained rise of the gap beyond the noise margin";
  return v;
}

GapEstimate median_gap(const std::vector<WindowResult>& base, const std::vector<WindowResult>& quant, int resamples,
                       uint64_t seed) {
  if (base.size() != quant.size() || base.empty()) fail("median_gap: the two runs must cover the same windows");
  const std::size_t n = base.size();
  for (std::size_t i = 0; i < n; ++i)
    if (base[i].index != quant[i].index) fail("median_gap: window order differs between the two runs");
  // The gap of the median per-window PPLs, exactly as ppl_stats defines them.
  auto gap = [](const std::vector<WindowResult>& b, const std::vector<WindowResult>& q) {
    return 100.0 * (ppl_stats(q).median_ppl / ppl_stats(b).median_ppl - 1.0);
  };
  GapEstimate e;
  e.gap_pct = gap(base, quant);
  if (resamples < 2 || n < 2) return e;
  SplitMix64 rng{seed};
  std::vector<WindowResult> b(n), q(n);
  std::vector<double> gaps;
  for (int r = 0; r < resamples; ++r) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = static_cast<std::size_t>(rng.next() % n);
      b[i] = base[j];
      q[i] = quant[j];
    }
    gaps.push_back(gap(b, q));
  }
  double mean = 0;
  for (double g : gaps) mean += g;
  mean /= static_cast<double>(gaps.size());
  double var = 0;
  for (double g : gaps) var += (g - mean) * (g - mean);
  e.se_pct = std::sqrt(var / static_cast<double>(gaps.size() - 1));
  return e;
}

}  // namespace squint
