#include "analysis/drift.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "analysis/analysis_json.h"
#include "analysis/features.h"

namespace squint {

void accumulate_grid_alignment(const float* w, std::size_t rows, std::size_t cols, QConfig c, double band,
                               GridAlignment* acc) {
  const std::size_t g = static_cast<std::size_t>(c.group);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k + g <= cols; k += g) {
      const float* p = w + r * cols + k;
      float lo = p[0], hi = p[0];
      for (std::size_t j = 1; j < g; ++j) {
        lo = std::fmin(lo, p[j]);
        hi = std::fmax(hi, p[j]);
      }
      const GroupParams gp = mlx_group_params(lo, hi, c.bits);
      const float n_bins = static_cast<float>((1 << c.bits) - 1);
      float gsum = 0;  // per-group float sum, then double: independent of how rows are split
      for (std::size_t j = 0; j < g; ++j) {
        const float x = (p[j] - gp.bias) / gp.scale;  // the value MLX rounds to a code
        const float q = std::min(std::max(rint_f(x), 0.0f), n_bins);
        const float a = 0.5f - std::fabs(x - q);      // = |frac(x) − 0.5| unless the code is clamped
        gsum += a;
        acc->near += std::fabs(a) < band;
      }
      acc->sum += gsum;
      acc->elements += g;
    }
}

double excess_kurtosis(const float* w, std::size_t n) {
  if (n == 0) return 0;
  double mean = 0;
  for (std::size_t i = 0; i < n; ++i) mean += w[i];
  mean /= static_cast<double>(n);
  double m2 = 0, m4 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = w[i] - mean, d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
  }
  m2 /= static_cast<double>(n);
  m4 /= static_cast<double>(n);
  return m2 > 0 ? m4 / (m2 * m2) - 3.0 : 0.0;
}

DriftMeasures measure_drift(const Checkpoint& ck, const DriftOptions& opt, Analysis* analysis_out) {
  DriftMeasures m;
  m.kurtosis_group = opt.kurtosis_group;
  std::vector<GridAlignment> align(opt.configs.size());
  std::vector<double> group_kurt;
  double kurt_weighted = 0;

  AnalyzeOptions ao;
  ao.configs = opt.configs;
  ao.f32_out_dtype = opt.f32_out_dtype;
  ao.parallel = opt.parallel;
  ao.progress = opt.progress;
  ao.per_tensor_hook = [&](const Checkpoint& c, const TensorInfo& t, TensorAnalysis& ta) {
    const std::size_t rows = t.rows(), cols = t.cols(), n = rows * cols;
    std::vector<float> w(n);
    std::vector<uint8_t> scratch;
    if (!read_tensor_f32(c, t, w.data(), scratch)) return;
    // The quantizer sees the weights in the output dtype (F32 sources are cast first, as in analyze).
    if (ta.out_dtype != t.dtype)
      for (float& x : w) x = round_to_dtype(x, ta.out_dtype);
    for (std::size_t ci = 0; ci < opt.configs.size(); ++ci) {
      if (!ta.find(opt.configs[ci])) continue;
      // Rows are split in fixed blocks so the double total does not depend on the thread count.
      const std::size_t block = 64, nb = (rows + block - 1) / block;
      std::vector<GridAlignment> parts(nb);
      opt.parallel(nb, [&](std::size_t b) {
        const std::size_t r0 = b * block, r1 = std::min(rows, r0 + block);
        accumulate_grid_alignment(w.data() + r0 * cols, r1 - r0, cols, opt.configs[ci], opt.band, &parts[b]);
      });
      for (const auto& p : parts) align[ci].merge(p);
    }
    kurt_weighted += excess_kurtosis(w.data(), n) * static_cast<double>(n);
    auto gk = group_excess_kurtosis(w.data(), rows, cols, opt.kurtosis_group);
    group_kurt.insert(group_kurt.end(), gk.begin(), gk.end());
    m.params += n;
    ++m.tensors;
  };
  Analysis a = analyze_checkpoint(ck, ao);

  const auto table = sqnr_table(a);
  for (std::size_t ci = 0; ci < opt.configs.size(); ++ci) {
    ConfigDrift cd;
    cd.config = opt.configs[ci];
    cd.alignment = align[ci];
    std::vector<double> v;
    for (const auto& t : a.tensors)
      if (auto* r = t.find(cd.config)) v.push_back(r->sqnr_db);
    cd.tensors = v.size();
    for (const auto& row : table)
      if (row.config == cd.config) {
        cd.sqnr_min = row.min;
        cd.sqnr_median = row.median;
      }
    for (double x : v) cd.below_floor += x < opt.floor_db;
    m.configs.push_back(cd);
  }
  m.kurtosis = m.params ? kurt_weighted / static_cast<double>(m.params) : 0.0;
  m.group_kurtosis_p90 = percentile(std::move(group_kurt), 0.9);
  if (analysis_out) *analysis_out = std::move(a);
  return m;
}

nlohmann::json drift_measures_json(const DriftMeasures& m, double band) {
  nlohmann::json cfgs = nlohmann::json::array();
  for (const auto& c : m.configs)
    cfgs.push_back({{"bits", c.config.bits},
                    {"group_size", c.config.group},
                    {"tensors", c.tensors},
                    {"sqnr_min_db", c.sqnr_min},
                    {"sqnr_median_db", c.sqnr_median},
                    {"tensors_below_floor", c.below_floor},
                    {"alignment_mean", c.alignment.mean()},
                    {"near_boundary_share", c.alignment.near_share()},
                    {"band", band}});
  return {{"configs", cfgs},
          {"kurtosis", m.kurtosis},
          {"group_kurtosis_p90", m.group_kurtosis_p90},
          {"kurtosis_group", m.kurtosis_group},
          {"tensors", m.tensors},
          {"params", m.params}};
}

}  // namespace squint

namespace squint {

int64_t step_from_path(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const auto slash = p.rfind('/');
  const std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
  std::size_t end = base.size();
  while (end > 0 && !(base[end - 1] >= '0' && base[end - 1] <= '9')) --end;
  if (end == 0) return -1;
  std::size_t start = end;
  while (start > 0 && base[start - 1] >= '0' && base[start - 1] <= '9') --start;
  if (end - start > 18) return -1;  // not a step, and would overflow
  return std::stoll(base.substr(start, end - start));
}

std::vector<std::size_t> checkpoint_order(const std::vector<std::string>& paths) {
  std::vector<std::size_t> idx(paths.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::vector<int64_t> steps;
  for (const auto& p : paths) steps.push_back(step_from_path(p));
  if (std::any_of(steps.begin(), steps.end(), [](int64_t s) { return s < 0; })) return idx;
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return steps[a] < steps[b]; });
  return idx;
}

}  // namespace squint
