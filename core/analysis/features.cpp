#include "analysis/features.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

#include "quant/affine.h"
#include "util/rng.h"

namespace squint {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double pos = p * static_cast<double>(v.size() - 1);
  std::size_t lo = static_cast<std::size_t>(pos);
  std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

namespace {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMat = Eigen::MatrixXf;

nlohmann::json spectral(const Eigen::Map<const Mat>& W, const FeatureOptions& opt, double frob2) {
  const int64_t m = W.rows(), n = W.cols();
  const int k = static_cast<int>(std::min<int64_t>({opt.max_rank, m, n}));
  const int l = static_cast<int>(std::min<int64_t>(k + 10, std::min(m, n)));
  SplitMix64 rng{opt.seed};
  CMat omega(n, l);
  for (int64_t i = 0; i < omega.size(); ++i) omega.data()[i] = static_cast<float>(rng.normal());
  // Range finder with power iterations (Halko et al.), re-orthonormalised each step for stability.
  CMat Y = W * omega;
  Eigen::HouseholderQR<CMat> qr(Y);
  CMat Q = qr.householderQ() * CMat::Identity(m, l);
  for (int it = 0; it < opt.power_iterations; ++it) {
    CMat Z = W.transpose() * Q;
    Eigen::HouseholderQR<CMat> qz(Z);
    CMat Qz = qz.householderQ() * CMat::Identity(n, l);
    Y = W * Qz;
    Eigen::HouseholderQR<CMat> qy(Y);
    Q = qy.householderQ() * CMat::Identity(m, l);
  }
  CMat B = Q.transpose() * W;  // l x n
  Eigen::JacobiSVD<CMat> svd(B * B.transpose());  // l x l, eigenvalues = σ²
  Eigen::VectorXf s2 = svd.singularValues();
  const double s1sq = std::max<double>(s2(0), 1e-30);
  const int top = (k + 9) / 10;
  double top_mass = 0;
  for (int i = 0; i < top && i < s2.size(); ++i) top_mass += s2(i);
  const double sk = std::sqrt(std::max<double>(s2(std::min<int>(k, static_cast<int>(s2.size())) - 1), 1e-30));
  return {{"rank", k},
          {"sigma_max", std::sqrt(s1sq)},
          {"stable_rank", frob2 / s1sq},
          {"tail_mass", std::max(0.0, 1.0 - top_mass / frob2)},
          {"log_spectral_spread", std::log(std::sqrt(s1sq) / sk)}};
}

nlohmann::json kurtosis(const float* w, uint64_t rows, uint64_t cols, int group) {
  const uint64_t g = std::min<uint64_t>(static_cast<uint64_t>(group), cols);
  uint64_t outlier_groups = 0;
  std::vector<double> kurt = group_excess_kurtosis(w, rows, cols, group, &outlier_groups);
  const double p50 = percentile(kurt, 0.5);
  const double mx = kurt.empty() ? 0 : *std::max_element(kurt.begin(), kurt.end());
  return {{"group", g},
          {"p90", percentile(kurt, 0.9)},
          {"p99_minus_p50", percentile(kurt, 0.99) - p50},
          {"outlier_group_fraction", kurt.empty() ? 0.0 : static_cast<double>(outlier_groups) / static_cast<double>(kurt.size())},
          {"max_minus_median", mx - p50}};
}

}  // namespace

std::vector<double> group_excess_kurtosis(const float* w, uint64_t rows, uint64_t cols, int group,
                                          uint64_t* outlier_groups) {
  const uint64_t g = std::min<uint64_t>(static_cast<uint64_t>(group), cols);
  const uint64_t gpr = cols / g;
  std::vector<double> kurt;
  kurt.reserve(rows * gpr);
  uint64_t outliers = 0;
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t k = 0; k < gpr; ++k) {
      const float* p = w + r * cols + k * g;
      double mean = 0;
      for (uint64_t j = 0; j < g; ++j) mean += p[j];
      mean /= static_cast<double>(g);
      double m2 = 0, m4 = 0, mx = 0;
      for (uint64_t j = 0; j < g; ++j) {
        double d = p[j] - mean, d2 = d * d;
        m2 += d2;
        m4 += d2 * d2;
        mx = std::max(mx, std::abs(d));
      }
      m2 /= static_cast<double>(g);
      m4 /= static_cast<double>(g);
      if (m2 <= 0) {
        kurt.push_back(0);
        continue;
      }
      kurt.push_back(m4 / (m2 * m2) - 3.0);
      outliers += mx > 3.0 * std::sqrt(m2);
    }
  if (outlier_groups) *outlier_groups = outliers;
  return kurt;
}

nlohmann::json compute_features(const float* w, uint64_t rows, uint64_t cols, const float* gamma, DType sdt,
                                const FeatureOptions& opt) {
  Eigen::Map<const Mat> W(w, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  double frob2 = 0;
  for (uint64_t i = 0; i < rows * cols; ++i) frob2 += static_cast<double>(w[i]) * w[i];
  nlohmann::json f;
  if (frob2 <= 0) return f;
  f["spectral"] = spectral(W, opt, frob2);
  f["kurtosis"] = kurtosis(w, rows, cols, opt.kurtosis_group);

  // Output-noise amplification of the 4-bit residual under inputs shaped like the feeding norm's output.
  const int g = cols % 64 == 0 ? 64 : (cols % 32 == 0 ? 32 : 0);
  if (g) {
    QConfig c{4, g};
    std::vector<uint8_t> packed(rows * cols * 4 / 8);
    std::vector<float> s(rows * cols / g), b(rows * cols / g), what(rows * cols);
    quantize_rows(w, rows, cols, c, sdt, packed.data(), s.data(), b.data());
    dequantize_rows(packed.data(), s.data(), b.data(), rows, cols, c, what.data());
    Eigen::Map<const Mat> WH(what.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
    SplitMix64 rng{opt.seed ^ 0x5eedull};
    CMat X(cols, opt.probes);
    for (uint64_t i = 0; i < cols; ++i)
      for (int p = 0; p < opt.probes; ++p) X(i, p) = static_cast<float>(rng.normal()) * (gamma ? gamma[i] : 1.0f);
    CMat WX = W * X;
    CMat DX = (W - WH) * X;
    double num = DX.squaredNorm(), den = WX.squaredNorm();
    f["output_noise"] = {{"f_out", den > 0 ? std::sqrt(num / den) : 0.0},
                         {"probes", opt.probes},
                         {"config", {{"bits", 4}, {"group_size", g}}},
                         {"norm_weighted", gamma != nullptr}};
  }
  return f;
}

}  // namespace squint
