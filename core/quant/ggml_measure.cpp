#include "quant/ggml_measure.h"

#include <vector>

namespace squint {

void ggml_measure_rows(const float* w, const float* ref, std::size_t rows, std::size_t cols, const QConfig* configs,
                       std::size_t nconfigs, double* err_out) {
  std::vector<uint8_t> q;
  std::vector<float> deq(cols);
  for (std::size_t ci = 0; ci < nconfigs; ++ci) {
    const GgmlType t = configs[ci].type;
    q.resize(static_cast<std::size_t>(ggml_row_bytes(t, cols)));
    double e = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
      ggml_quantize_rows(t, w + r * cols, 1, cols, q.data());
      ggml_dequantize_rows(t, q.data(), 1, cols, deq.data());
      const float* x = ref + r * cols;
      for (std::size_t j = 0; j < cols; ++j) {
        const double d = static_cast<double>(x[j]) - static_cast<double>(deq[j]);
        e += d * d;
      }
    }
    err_out[ci] = e;
  }
}

}  // namespace squint
