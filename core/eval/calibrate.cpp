#include "eval/calibrate.h"

#include <atomic>

#include "util/error.h"

namespace squint {

ColumnWeights column_weights_from_moments(const InputMoments& m, const std::string& source) {
  if (m.tokens == 0) fail("calibration: no tokens were seen");
  ColumnWeights w;
  w.kind = "calibrated";
  w.source = source;
  const double inv = 1.0 / static_cast<double>(m.tokens);
  auto put = [&](InputSite s, int layer, const Eigen::VectorXd& v) {
    if (!v.size()) return;
    std::vector<float> c(static_cast<std::size_t>(v.size()));
    for (Eigen::Index j = 0; j < v.size(); ++j) c[static_cast<std::size_t>(j)] = static_cast<float>(v[j] * inv);
    w.sites[{s, layer}] = std::move(c);
  };
  for (std::size_t l = 0; l < m.attn_in.size(); ++l) {
    const int li = static_cast<int>(l);
    put(InputSite::AttnIn, li, m.attn_in[l]);
    if (l < m.attn_out.size()) put(InputSite::AttnOut, li, m.attn_out[l]);
    if (l < m.mlp_in.size()) put(InputSite::MlpIn, li, m.mlp_in[l]);
    if (l < m.mlp_down.size()) put(InputSite::MlpDown, li, m.mlp_down[l]);
  }
  put(InputSite::Head, -1, m.head);
  return w;
}

InputMoments collect_input_moments(const Model& model, const EvalWindows& windows, const ParallelFor& pf,
                                   const std::function<void(std::size_t, std::size_t)>& progress) {
  const std::size_t n = windows.chosen.size();
  if (n == 0) fail("calibration: the text gives no window");
  std::vector<InputMoments> per(n);
  std::atomic<std::size_t> done{0};
  pf(n, [&](std::size_t k) {
    model.accumulate_input_moments(windows.tokens(k), &per[k]);
    if (progress) progress(++done, n);
  });
  InputMoments sum;
  for (const auto& m : per) sum.add(m);
  return sum;
}

ColumnWeights calibrate_column_weights(const Model& model, const EvalWindows& windows, const ParallelFor& pf,
                                       const std::string& source) {
  return column_weights_from_moments(collect_input_moments(model, windows, pf), source);
}

}  // namespace squint
