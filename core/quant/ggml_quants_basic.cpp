// ggml's 32-element block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0: quantize_row_*_ref, quantize_row_*_impl (with
// importance weights; Q8_0 has none) and dequantize_row_* from ggml-quants.c, transcribed statement by
// statement (same float operations in the same order).
#include <cfloat>
#include <type_traits>

#include "quant/ggml_impl.h"

namespace squint::ggml {
namespace {

// The importance weights of one 32-block as the `_impl` quantizers form them: qw·sqrt(σ² + x²), σ² = mean(x²)
// over the whole row (n_per_row elements from the row's start).
float row_sigma2(const float* x, int64_t n_per_row) {
  float sum_x2 = 0;
  for (int64_t j = 0; j < n_per_row; ++j) sum_x2 += x[j] * x[j];
  return sum_x2 / n_per_row;
}

void block_weights(const float* xb, const float* qw, float sigma2, float* weight) {
  for (int j = 0; j < 32; ++j) weight[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
}

// quantize_row_q4_0_impl / q5_0_impl: make_qx_quants with the weights; codes nmax + l in [0, 2·nmax).
template <class Block>
void quantize_row_x_0_w(const float* x, Block* y, int64_t n_per_row, const float* qw, int nmax) {
  float weight[32];
  int8_t L[32];
  const float sigma2 = row_sigma2(x, n_per_row);
  for (int64_t ib = 0; ib < n_per_row / 32; ++ib) {
    const float* xb = x + 32 * ib;
    block_weights(xb, qw + 32 * ib, sigma2, weight);
    float d = make_qx_quants(32, nmax, xb, L, 1, weight);
    y[ib].d = fp32_to_fp16(d);
    if constexpr (std::is_same_v<Block, block_q4_0>) {
      for (int j = 0; j < 16; ++j) y[ib].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
    } else {
      uint32_t qh = 0;
      for (int j = 0; j < 16; ++j) {
        const uint8_t xi0 = static_cast<uint8_t>(L[j]);
        const uint8_t xi1 = static_cast<uint8_t>(L[j + 16]);
        y[ib].qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
        qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
        qh |= ((xi1 & 0x10u) >> 4) << (j + QK5_0 / 2);
      }
      std::memcpy(&y[ib].qh, &qh, sizeof(qh));
    }
  }
}

// quantize_row_q4_1_impl / q5_1_impl: make_qkx3_quants (scale and min) with the weights.
template <class Block>
void quantize_row_x_1_w(const float* x, Block* y, int64_t n_per_row, const float* qw, int nmax) {
  float weight[32];
  uint8_t L[32], Laux[32];
  const float sigma2 = row_sigma2(x, n_per_row);
  for (int64_t ib = 0; ib < n_per_row / 32; ++ib) {
    const float* xb = x + 32 * ib;
    block_weights(xb, qw + 32 * ib, sigma2, weight);
    float min;
    float d = make_qkx3_quants(32, nmax, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
    y[ib].d = fp32_to_fp16(d);
    y[ib].m = fp32_to_fp16(-min);
    if constexpr (std::is_same_v<Block, block_q4_1>) {
      for (int j = 0; j < 16; ++j) y[ib].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
    } else {
      uint32_t qh = 0;
      for (int j = 0; j < 16; ++j) {
        const uint8_t xi0 = L[j];
        const uint8_t xi1 = L[j + 16];
        y[ib].qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
        qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
        qh |= ((xi1 & 0x10u) >> 4) << (j + QK5_0 / 2);
      }
      std::memcpy(&y[ib].qh, &qh, sizeof(qh));
    }
  }
}

}  // namespace

void quantize_row_q4_0_w(const float* x, block_q4_0* y, int64_t n_per_row, const float* qw) {
  quantize_row_x_0_w(x, y, n_per_row, qw, 8);
}
void quantize_row_q5_0_w(const float* x, block_q5_0* y, int64_t n_per_row, const float* qw) {
  quantize_row_x_0_w(x, y, n_per_row, qw, 16);
}
void quantize_row_q4_1_w(const float* x, block_q4_1* y, int64_t n_per_row, const float* qw) {
  quantize_row_x_1_w(x, y, n_per_row, qw, 15);
}
void quantize_row_q5_1_w(const float* x, block_q5_1* y, int64_t n_per_row, const float* qw) {
  quantize_row_x_1_w(x, y, n_per_row, qw, 31);
}

void quantize_row_q4_0(const float* x, block_q4_0* y, int64_t k) {
  const int qk = QK4_0;
  const int nb = static_cast<int>(k / qk);
  for (int i = 0; i < nb; i++) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < qk; j++) {
      const float v = x[i * qk + j];
      if (amax < std::fabs(v)) { amax = std::fabs(v); max = v; }
    }
    const float d = max / -8;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < qk / 2; ++j) {
      const float x0 = x[i * qk + 0 + j] * id;
      const float x1 = x[i * qk + qk / 2 + j] * id;
      const uint8_t xi0 = static_cast<uint8_t>(min_(15, static_cast<int>(static_cast<int8_t>(x0 + 8.5f))));
      const uint8_t xi1 = static_cast<uint8_t>(min_(15, static_cast<int>(static_cast<int8_t>(x1 + 8.5f))));
      y[i].qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
  }
}

void quantize_row_q4_1(const float* x, block_q4_1* y, int64_t k) {
  const int qk = QK4_1;
  const int nb = static_cast<int>(k / qk);
  for (int i = 0; i < nb; i++) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < qk; j++) {
      const float v = x[i * qk + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const float d = (max - min) / ((1 << 4) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    for (int j = 0; j < qk / 2; ++j) {
      const float x0 = (x[i * qk + 0 + j] - min) * id;
      const float x1 = (x[i * qk + qk / 2 + j] - min) * id;
      const uint8_t xi0 = static_cast<uint8_t>(min_(15, static_cast<int>(static_cast<int8_t>(x0 + 0.5f))));
      const uint8_t xi1 = static_cast<uint8_t>(min_(15, static_cast<int>(static_cast<int8_t>(x1 + 0.5f))));
      y[i].qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
  }
}

void quantize_row_q5_0(const float* x, block_q5_0* y, int64_t k) {
  const int qk = QK5_0;
  const int nb = static_cast<int>(k / qk);
  for (int i = 0; i < nb; i++) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < qk; j++) {
      const float v = x[i * qk + j];
      if (amax < std::fabs(v)) { amax = std::fabs(v); max = v; }
    }
    const float d = max / -16;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < qk / 2; ++j) {
      const float x0 = x[i * qk + 0 + j] * id;
      const float x1 = x[i * qk + qk / 2 + j] * id;
      const uint8_t xi0 = static_cast<uint8_t>(min_(31, static_cast<int>(static_cast<int8_t>(x0 + 16.5f))));
      const uint8_t xi1 = static_cast<uint8_t>(min_(31, static_cast<int>(static_cast<int8_t>(x1 + 16.5f))));
      y[i].qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
      qh |= ((xi1 & 0x10u) >> 4) << (j + qk / 2);
    }
    std::memcpy(&y[i].qh, &qh, sizeof(qh));
  }
}

void quantize_row_q5_1(const float* x, block_q5_1* y, int64_t k) {
  const int qk = QK5_1;
  const int nb = static_cast<int>(k / qk);
  for (int i = 0; i < nb; i++) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < qk; j++) {
      const float v = x[i * qk + j];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const float d = (max - min) / ((1 << 5) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    uint32_t qh = 0;
    for (int j = 0; j < qk / 2; ++j) {
      const float x0 = (x[i * qk + 0 + j] - min) * id;
      const float x1 = (x[i * qk + qk / 2 + j] - min) * id;
      // ggml converts straight to uint8_t; through int32 first, which is what x86 does for in-range values.
      const uint8_t xi0 = static_cast<uint8_t>(static_cast<int>(x0 + 0.5f));
      const uint8_t xi1 = static_cast<uint8_t>(static_cast<int>(x1 + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
      qh |= ((xi1 & 0x10u) >> 4) << (j + qk / 2);
    }
    std::memcpy(&y[i].qh, &qh, sizeof(y[i].qh));
  }
}

void quantize_row_q8_0(const float* x, block_q8_0* y, int64_t k) {
  const int nb = static_cast<int>(k / QK8_0);
  for (int i = 0; i < nb; i++) {
    float amax = 0.0f;
    for (int j = 0; j < QK8_0; j++) {
      const float v = x[i * QK8_0 + j];
      amax = max_(amax, std::fabs(v));
    }
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < QK8_0; ++j) {
      const float x0 = x[i * QK8_0 + j] * id;
      y[i].qs[j] = static_cast<int8_t>(static_cast<int>(std::round(x0)));
    }
  }
}

void dequantize_row_q4_0(const block_q4_0* x, float* y, int64_t k) {
  const int qk = QK4_0;
  const int nb = static_cast<int>(k / qk);
  for (int i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < qk / 2; ++j) {
      const int x0 = (x[i].qs[j] & 0x0F) - 8;
      const int x1 = (x[i].qs[j] >> 4) - 8;
      y[i * qk + j + 0] = x0 * d;
      y[i * qk + j + qk / 2] = x1 * d;
    }
  }
}

void dequantize_row_q4_1(const block_q4_1* x, float* y, int64_t k) {
  const int qk = QK4_1;
  const int nb = static_cast<int>(k / qk);
  for (int i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    for (int j = 0; j < qk / 2; ++j) {
      const int x0 = (x[i].qs[j] & 0x0F);
      const int x1 = (x[i].qs[j] >> 4);
      y[i * qk + j + 0] = x0 * d + m;
      y[i * qk + j + qk / 2] = x1 * d + m;
    }
  }
}

void dequantize_row_q5_0(const block_q5_0* x, float* y, int64_t k) {
  const int qk = QK5_0;
  const int nb = static_cast<int>(k / qk);
  for (int i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, sizeof(qh));
    for (int j = 0; j < qk / 2; ++j) {
      const uint8_t xh_0 = static_cast<uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
      const uint8_t xh_1 = static_cast<uint8_t>(((qh >> (j + 12))) & 0x10);
      const int32_t x0 = ((x[i].qs[j] & 0x0F) | xh_0) - 16;
      const int32_t x1 = ((x[i].qs[j] >> 4) | xh_1) - 16;
      y[i * qk + j + 0] = x0 * d;
      y[i * qk + j + qk / 2] = x1 * d;
    }
  }
}

void dequantize_row_q5_1(const block_q5_1* x, float* y, int64_t k) {
  const int qk = QK5_1;
  const int nb = static_cast<int>(k / qk);
  for (int i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    const float m = fp16_to_fp32(x[i].m);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, sizeof(qh));
    for (int j = 0; j < qk / 2; ++j) {
      const uint8_t xh_0 = static_cast<uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
      const uint8_t xh_1 = static_cast<uint8_t>(((qh >> (j + 12))) & 0x10);
      const int x0 = (x[i].qs[j] & 0x0F) | xh_0;
      const int x1 = (x[i].qs[j] >> 4) | xh_1;
      y[i * qk + j + 0] = x0 * d + m;
      y[i * qk + j + qk / 2] = x1 * d + m;
    }
  }
}

void dequantize_row_q8_0(const block_q8_0* x, float* y, int64_t k) {
  const int qk = QK8_0;
  const int nb = static_cast<int>(k / qk);
  for (int i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < qk; ++j) y[i * qk + j] = x[i].qs[j] * d;
  }
}

}  // namespace squint::ggml
