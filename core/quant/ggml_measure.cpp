#include "quant/ggml_measure.h"

#include <algorithm>
#include <vector>

#include "quant/ggml_impl.h"

namespace squint {

void ggml_measure_rows(const float* w, const float* ref, std::size_t rows, std::size_t cols, const QConfig* configs,
                       std::size_t nconfigs, double* err_out, const float* imatrix) {
  // Row by row, every config on the row while it is in cache; each config's Σ err² still runs element by
  // element in row-major order. IQ4_NL and IQ4_XS quantize with the same per-32-block scale search, so
  // when both are measured it runs once per block for the two.
  std::vector<std::vector<uint8_t>> q(nconfigs);
  std::vector<float> deq(nconfigs * cols), iq4_scales(cols / 32 + 1);
  bool has_nl = false, has_xs = false;
  for (std::size_t ci = 0; ci < nconfigs; ++ci) {
    q[ci].resize(static_cast<std::size_t>(ggml_row_bytes(configs[ci].type, cols)));
    err_out[ci] = 0.0;
    has_nl = has_nl || configs[ci].type == GgmlType::IQ4_NL;
    has_xs = has_xs || configs[ci].type == GgmlType::IQ4_XS;
  }
  // With importance weights the IQ4 types search their scales with them: no shared search.
  const bool share = has_nl && has_xs && !imatrix;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = w + r * cols;
    const float* x = ref + r * cols;
    if (share) ggml::iq4_block_scales(xr, iq4_scales.data(), static_cast<int64_t>(cols));
    for (std::size_t ci = 0; ci < nconfigs; ++ci) {
      const GgmlType t = configs[ci].type;
      uint8_t* qd = q[ci].data();
      if (share && t == GgmlType::IQ4_NL)
        ggml::quantize_row_iq4_nl_scaled(xr, iq4_scales.data(), reinterpret_cast<ggml::block_iq4_nl*>(qd), static_cast<int64_t>(cols));
      else if (share && t == GgmlType::IQ4_XS)
        ggml::quantize_row_iq4_xs_scaled(xr, iq4_scales.data(), reinterpret_cast<ggml::block_iq4_xs*>(qd), static_cast<int64_t>(cols));
      else
        ggml_quantize_rows(t, xr, 1, cols, qd, imatrix);
      ggml_dequantize_rows(t, qd, 1, cols, deq.data() + ci * cols);
    }
    // Σ err² of four configs per pass: four independent chains instead of one latency-bound chain, each
    // still summed element by element in row-major order.
    for (std::size_t c0 = 0; c0 < nconfigs; c0 += 4) {
      const std::size_t nc = std::min<std::size_t>(4, nconfigs - c0);
      double e[4] = {err_out[c0], nc > 1 ? err_out[c0 + 1] : 0.0, nc > 2 ? err_out[c0 + 2] : 0.0, nc > 3 ? err_out[c0 + 3] : 0.0};
      const float* d0 = deq.data() + c0 * cols;
      const float* d1 = nc > 1 ? d0 + cols : d0;
      const float* d2 = nc > 2 ? d0 + 2 * cols : d0;
      const float* d3 = nc > 3 ? d0 + 3 * cols : d0;
      for (std::size_t j = 0; j < cols; ++j) {
        const double xj = static_cast<double>(x[j]);
        const double a = xj - static_cast<double>(d0[j]), b = xj - static_cast<double>(d1[j]);
        const double c = xj - static_cast<double>(d2[j]), d = xj - static_cast<double>(d3[j]);
        e[0] += a * a;
        e[1] += b * b;
        e[2] += c * c;
        e[3] += d * d;
      }
      for (std::size_t k = 0; k < nc; ++k) err_out[c0 + k] = e[k];
    }
  }
}

}  // namespace squint
