#include "quant/ggml_measure.h"

#include <vector>

#include "quant/ggml_impl.h"

namespace squint {

void ggml_measure_rows(const float* w, const float* ref, std::size_t rows, std::size_t cols, const QConfig* configs,
                       std::size_t nconfigs, double* err_out) {
  // Row by row, every config on the row while it is in cache; each config's Σ err² still runs element by
  // element in row-major order. IQ4_NL and IQ4_XS quantize with the same per-32-block scale search, so
  // when both are measured it runs once per block for the two.
  std::vector<std::vector<uint8_t>> q(nconfigs);
  std::vector<float> deq(cols), iq4_scales(cols / 32 + 1);
  bool has_nl = false, has_xs = false;
  for (std::size_t ci = 0; ci < nconfigs; ++ci) {
    q[ci].resize(static_cast<std::size_t>(ggml_row_bytes(configs[ci].type, cols)));
    err_out[ci] = 0.0;
    has_nl = has_nl || configs[ci].type == GgmlType::IQ4_NL;
    has_xs = has_xs || configs[ci].type == GgmlType::IQ4_XS;
  }
  const bool share = has_nl && has_xs;
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
        ggml_quantize_rows(t, xr, 1, cols, qd);
      ggml_dequantize_rows(t, qd, 1, cols, deq.data());
      double e = err_out[ci];
      for (std::size_t j = 0; j < cols; ++j) {
        const double d = static_cast<double>(x[j]) - static_cast<double>(deq[j]);
        e += d * d;
      }
      err_out[ci] = e;
    }
  }
}

}  // namespace squint
