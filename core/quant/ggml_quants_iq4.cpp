// ggml's non-linear 4-bit types IQ4_NL (32-blocks) and IQ4_XS (256 super-blocks with 6-bit block scales):
// quantize_row_iq4_nl_impl with quant_weights = NULL and ntry = 7, as ggml_quantize_chunk calls it through
// quantize_iq4_nl / quantize_iq4_xs (not the ntry = -1 `_ref` variant), and dequantize_row_iq4_*.
#include "quant/ggml_impl.h"

namespace squint::ggml {
namespace {

constexpr int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

inline int best_index_int8(int n, const int8_t* val, float x) {
  if (x <= val[0]) return 0;
  if (x >= val[n - 1]) return n - 1;
  int ml = 0, mu = n - 1;
  while (mu - ml > 1) {
    int mav = (ml + mu) / 2;
    if (x < val[mav]) mu = mav; else ml = mav;
  }
  return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

void quantize_iq4_impl(const int super_block_size, const int block_size, const float* x, uint16_t* dh, uint8_t* q4,
                       uint16_t* scales_h, uint8_t* scales_l, float* scales, float* weight, uint8_t* L,
                       const int8_t* values, const int ntry) {
  // ggml also computes sigma2 here; it only feeds the importance-matrix weights, which squint never passes.
  std::memset(q4, 0, super_block_size / 2);
  dh[0] = fp32_to_fp16(0.f);
  float max_scale = 0, amax_scale = 0;
  for (int ib = 0; ib < super_block_size / block_size; ++ib) {
    const float* xb = x + ib * block_size;
    uint8_t* Lb = L + ib * block_size;
    for (int j = 0; j < block_size; ++j) weight[j] = xb[j] * xb[j];
    float amax = 0, max = 0;
    for (int j = 0; j < block_size; ++j) {
      float ax = std::fabs(xb[j]);
      if (ax > amax) { amax = ax; max = xb[j]; }
    }
    if (amax < GROUP_MAX_EPS) {
      scales[ib] = 0;
      continue;
    }
    float d = ntry > 0 ? -max / values[0] : max / values[0];
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < block_size; ++j) {
      float al = id * xb[j];
      int l = best_index_int8(16, values, al);
      Lb[j] = static_cast<uint8_t>(l);
      float q = values[l];
      float w = weight[j];
      sumqx += w * q * xb[j];
      sumq2 += w * q * q;
    }
    d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
    float best = d * sumqx;
    for (int itry = -ntry; itry <= ntry; ++itry) {
      id = (itry + values[0]) / max;
      sumqx = sumq2 = 0;
      for (int j = 0; j < block_size; ++j) {
        float al = id * xb[j];
        int l = best_index_int8(16, values, al);
        float q = values[l];
        float w = weight[j];
        sumqx += w * q * xb[j];
        sumq2 += w * q * q;
      }
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        d = sumqx / sumq2;
        best = d * sumqx;
      }
    }
    scales[ib] = d;
    float abs_d = std::fabs(d);
    if (abs_d > amax_scale) { amax_scale = abs_d; max_scale = d; }
  }

  if (super_block_size / block_size > 1) {
    int nb = super_block_size / block_size;
    std::memset(scales_h, 0, ((nb + 7) / 8) * sizeof(uint16_t));
    float d = -max_scale / 32;
    dh[0] = fp32_to_fp16(d);
    float id = d ? 1 / d : 0.f;
    for (int ib = 0; ib < super_block_size / block_size; ++ib) {
      int l = nearest_int(id * scales[ib]);
      l = max_(-32, min_(31, l));
      float dl = d * l;
      float idl = dl ? 1 / dl : 0.f;
      uint8_t* Lb = L + ib * block_size;
      const float* xb = x + ib * block_size;
      for (int j = 0; j < block_size; ++j) Lb[j] = static_cast<uint8_t>(best_index_int8(16, values, idl * xb[j]));
      l += 32;
      uint8_t l_l = l & 0xf;
      uint8_t l_h = static_cast<uint8_t>(l >> 4);
      if (ib % 2 == 0) scales_l[ib / 2] = l_l;
      else scales_l[ib / 2] |= static_cast<uint8_t>(l_l << 4);
      scales_h[ib / 8] |= static_cast<uint16_t>(l_h << 2 * (ib % 8));
    }
  } else {
    dh[0] = fp32_to_fp16(scales[0]);
    if (ntry > 0) {
      float id = scales[0] ? 1 / scales[0] : 0;
      for (int j = 0; j < super_block_size; ++j) L[j] = static_cast<uint8_t>(best_index_int8(16, values, id * x[j]));
    }
  }
  for (int i = 0; i < super_block_size / 32; ++i) {
    for (int j = 0; j < 16; ++j) q4[16 * i + j] = static_cast<uint8_t>(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
  }
}

}  // namespace

void quantize_row_iq4_nl(const float* x, block_iq4_nl* y, int64_t n_per_row) {
  const int64_t nblock = n_per_row / QK4_NL;
  uint8_t L[QK4_NL] = {};
  float weight[QK4_NL];
  uint16_t unused_h;
  float scale;
  for (int64_t ibl = 0; ibl < nblock; ++ibl) {
    quantize_iq4_impl(QK4_NL, 32, x + QK4_NL * ibl, &y[ibl].d, y[ibl].qs, &unused_h, nullptr, &scale, weight, L,
                      kvalues_iq4nl, 7);
  }
}

void quantize_row_iq4_xs(const float* x, block_iq4_xs* y, int64_t n_per_row) {
  const int64_t nblock = n_per_row / QK_K;
  uint8_t L[QK_K] = {};
  float weight[32];
  float scales[QK_K / 32];
  for (int64_t ibl = 0; ibl < nblock; ++ibl) {
    quantize_iq4_impl(QK_K, 32, x + QK_K * ibl, &y[ibl].d, y[ibl].qs, &y[ibl].scales_h, y[ibl].scales_l, scales,
                      weight, L, kvalues_iq4nl, 7);
  }
}

void dequantize_row_iq4_nl(const block_iq4_nl* x, float* y, int64_t k) {
  const int64_t nb = k / QK4_NL;
  for (int64_t i = 0; i < nb; i++) {
    const uint8_t* qs = x[i].qs;
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < QK4_NL / 2; ++j) {
      y[j + 0] = d * kvalues_iq4nl[qs[j] & 0xf];
      y[j + QK4_NL / 2] = d * kvalues_iq4nl[qs[j] >> 4];
    }
    y += QK4_NL;
  }
}

void dequantize_row_iq4_xs(const block_iq4_xs* x, float* y, int64_t k) {
  const int64_t nb = k / QK_K;
  for (int64_t i = 0; i < nb; i++) {
    const uint8_t* qs = x[i].qs;
    const float d = fp16_to_fp32(x[i].d);
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      const int ls = ((x[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((x[i].scales_h >> 2 * ib) & 3) << 4);
      const float dl = d * (ls - 32);
      for (int j = 0; j < 16; ++j) {
        y[j + 0] = dl * kvalues_iq4nl[qs[j] & 0xf];
        y[j + 16] = dl * kvalues_iq4nl[qs[j] >> 4];
      }
      y += 32;
      qs += 16;
    }
  }
}

}  // namespace squint::ggml
