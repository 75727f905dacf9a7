// ggml's 256-element super-block types Q2_K..Q6_K from ggml-quants.c: quantize_row_*_ref (no importance
// weights), quantize_row_*_impl (with them, as quantize_q*_K calls it per row) and dequantize_row_*,
// transcribed statement by statement: the searches (ggml_k_search.cpp) compare float errors, so any
// reordering would change chosen scales. The two paths differ in the scale search and share the rest.
#include "quant/ggml_impl.h"
#include "quant/ggml_v8.h"

namespace squint::ggml {
namespace {

inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

// The 6-bit scales and mins of Q4_K / Q5_K (ls, lm < 64), packed as ggml does.
template <class Block>
void pack_scales_k4(Block& y, const uint8_t* ls, const uint8_t* lm) {
  for (int j = 0; j < QK_K / 32; ++j) {
    if (j < 4) {
      y.scales[j] = ls[j];
      y.scales[j + 4] = lm[j];
    } else {
      y.scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      y.scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
      y.scales[j - 0] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
    }
  }
}

// Both paths of Q4_K / Q5_K end alike: the codes re-quantized from the packed scales and mins.
template <class Block>
void requantize_k4(const float* x, const Block& y, uint8_t* L, int nmax) {
  uint8_t sc, m;
  for (int j = 0; j < QK_K / 32; ++j) {
    get_scale_min_k4(j, y.scales, &sc, &m);
    const float d = fp16_to_fp32(y.d) * sc;
    if (!d) continue;
    const float dm = fp16_to_fp32(y.dmin) * m;
    requantize_v<true>(x + 32 * j, 32, dm, d, 0, nmax, 0, L + 32 * j);
  }
}

// Q4_K and Q5_K share the scale/min search and 6-bit scale packing; they differ in nmax and the search grid.
// Without importance weights (quantize_row_q4_K_ref / _q5_K_ref): make_qkx2_quants with weights av_x + |x|
// per 32-block, scales and mins scaled to their maxima.
template <class Block>
void quantize_k_scales(const float* x, Block& y, uint8_t* L, int nmax, float rmin, int nstep) {
  float mins[QK_K / 32];
  float scales[QK_K / 32];
  float weights[32];
  uint8_t Laux[32];
  float max_scale = 0;
  float max_min = 0;
  for (int j = 0; j < QK_K / 32; ++j) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep, false);
    float scale = scales[j];
    if (scale > max_scale) max_scale = scale;
    float min = mins[j];
    if (min > max_min) max_min = min;
  }
  float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[QK_K / 32], lm[QK_K / 32];
  for (int j = 0; j < QK_K / 32; ++j) {
    ls[j] = min_<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
    lm[j] = min_<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
  }
  pack_scales_k4(y, ls, lm);
  y.d = fp32_to_fp16(max_scale / 63.f);
  y.dmin = fp32_to_fp16(max_min / 63.f);
  requantize_k4(x, y, L, nmax);
}

// With importance weights (quantize_row_q4_K_impl / _q5_K_impl): weights qw·sqrt(σ² + x²) with σ² = 2·mean(x²)
// over the super-block, make_qkx3_quants per 32-block, then make_qp_quants for the 6-bit scales and mins
// weighted by each block's Σ weights. ggml clamps them to 63 for Q5_K only (a negative scale would wrap).
template <class Block>
void quantize_k_scales_w(const float* x, const float* qw, Block& y, uint8_t* L, int nmax, bool clamp63) {
  uint8_t Laux[32], Ls[QK_K / 32], Lm[QK_K / 32];
  float weights[32], sw[QK_K / 32], mins[QK_K / 32], scales[QK_K / 32];
  float sum_x2 = 0;
  for (int l = 0; l < QK_K; ++l) sum_x2 += x[l] * x[l];
  float sigma2 = 2 * sum_x2 / QK_K;
  for (int j = 0; j < QK_K / 32; ++j) {
    for (int l = 0; l < 32; ++l) weights[l] = qw[32 * j + l] * std::sqrt(sigma2 + x[32 * j + l] * x[32 * j + l]);
    float sumw = 0;
    for (int l = 0; l < 32; ++l) sumw += weights[l];
    sw[j] = sumw;
    scales[j] = make_qkx3_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.9f, 0.05f, 36, false);
  }
  float d_block = make_qp_quants(QK_K / 32, 63, scales, Ls, sw);
  float m_block = make_qp_quants(QK_K / 32, 63, mins, Lm, sw);
  for (int j = 0; j < QK_K / 32 && clamp63; ++j) {
    Ls[j] = min_<uint8_t>(63, Ls[j]);
    Lm[j] = min_<uint8_t>(63, Lm[j]);
  }
  pack_scales_k4(y, Ls, Lm);
  y.d = fp32_to_fp16(d_block);
  y.dmin = fp32_to_fp16(m_block);
  requantize_k4(x, y, L, nmax);
}

// Q2_K and Q3_K store 2 low bits of each code, four codes a byte across 32-element strides.
template <class T>
void pack_2bit(const T* L, uint8_t* qs) {
  for (int j = 0; j < QK_K; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] =
          static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
  }
}

// Q2_K's scales (low nibble) and mins (high nibble) from the 16-blocks' search, without importance weights.
void q2_K_scales_ref(const float* x, block_q2_K& y, uint8_t* L) {
  uint8_t Laux[16];
  float weights[16], mins[QK_K / 16], scales[QK_K / 16];
  const float q4scale = 15.f;
  float max_scale = 0;
  float max_min = 0;
  for (int j = 0; j < QK_K / 16; ++j) {
    for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
    scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
    float scale = scales[j];
    if (scale > max_scale) max_scale = scale;
    float min = mins[j];
    if (min > max_min) max_min = min;
  }
  if (max_scale > 0) {
    float iscale = q4scale / max_scale;
    for (int j = 0; j < QK_K / 16; ++j) {
      int l = nearest_int(iscale * scales[j]);
      y.scales[j] = static_cast<uint8_t>(l);
    }
    y.d = fp32_to_fp16(max_scale / q4scale);
  } else {
    for (int j = 0; j < QK_K / 16; ++j) y.scales[j] = 0;
    y.d = fp32_to_fp16(0.f);
  }
  if (max_min > 0) {
    float iscale = q4scale / max_min;
    for (int j = 0; j < QK_K / 16; ++j) {
      int l = nearest_int(iscale * mins[j]);
      y.scales[j] |= static_cast<uint8_t>(l << 4);
    }
    y.dmin = fp32_to_fp16(max_min / q4scale);
  } else {
    y.dmin = fp32_to_fp16(0.f);
  }
}

// quantize_row_q2_K_impl's search: weights qw·sqrt(σ² + x²) with σ² = mean(x²) over the super-block,
// make_qkx3_quants per 16-block, make_qp_quants for the 4-bit scales and mins.
void q2_K_scales_w(const float* x, const float* qw, block_q2_K& y, uint8_t* L) {
  uint8_t Laux[16], Ls[QK_K / 16], Lm[QK_K / 16];
  float mins[QK_K / 16], scales[QK_K / 16], sw[QK_K / 16], weight[16];
  std::memset(sw, 0, sizeof sw);
  float sumx2 = 0;
  for (int j = 0; j < QK_K; ++j) sumx2 += x[j] * x[j];
  float sigma2 = sumx2 / QK_K;
  for (int j = 0; j < QK_K / 16; ++j) {
    for (int l = 0; l < 16; ++l) weight[l] = qw[16 * j + l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
    for (int l = 0; l < QK_K / 16; ++l) sw[j] += weight[l];
    scales[j] = make_qkx3_quants(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux, -0.9f, 0.05f, 36, false);
  }
  float dm = make_qp_quants(QK_K / 16, 15, scales, Ls, sw);
  float mm = make_qp_quants(QK_K / 16, 15, mins, Lm, sw);
  y.d = fp32_to_fp16(dm);
  y.dmin = fp32_to_fp16(mm);
  for (int j = 0; j < QK_K / 16; ++j) y.scales[j] = static_cast<uint8_t>(Ls[j] | (Lm[j] << 4));
}

// Q3_K's 6-bit signed scales, packed as ggml does (l in 0..63, i.e. the scale + 32).
void pack_scales_q3_K(block_q3_K& y, int j, int l) {
  if (j < 8) {
    y.scales[j] = static_cast<uint8_t>(l & 0xF);
  } else {
    y.scales[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
  }
  l >>= 4;
  y.scales[j % 4 + 8] |= static_cast<uint8_t>(l << (2 * (j / 4)));
}

// quantize_row_q3_K_ref's search: make_q3_quants per 16-block, scales scaled to the largest.
void q3_K_scales_ref(const float* x, block_q3_K& y, int8_t* L) {
  float scales[QK_K / 16];
  float max_scale = 0;
  float amax = 0;
  for (int j = 0; j < QK_K / 16; ++j) {
    scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j, true);
    float scale = std::fabs(scales[j]);
    if (scale > amax) {
      amax = scale;
      max_scale = scales[j];
    }
  }
  std::memset(y.scales, 0, 12);
  if (max_scale) {
    float iscale = -32.f / max_scale;
    for (int j = 0; j < QK_K / 16; ++j) {
      int8_t l = static_cast<int8_t>(nearest_int(iscale * scales[j]));
      l = static_cast<int8_t>(max_<int>(-32, min_<int>(31, l)) + 32);
      pack_scales_q3_K(y, j, l);
    }
    y.d = fp32_to_fp16(1 / iscale);
  } else {
    y.d = fp32_to_fp16(0.f);
  }
}

// quantize_row_q3_K_impl's search: weights qw·sqrt(σ² + x²) with σ² = 2·mean(x²), make_qx_quants per 16-block
// and for the scales (weighted by each block's Σ weights).
void q3_K_scales_w(const float* x, const float* qw, block_q3_K& y, int8_t* L) {
  float scales[QK_K / 16], weight[16], sw[QK_K / 16];
  int8_t Ls[QK_K / 16];
  float sumx2 = 0;
  for (int j = 0; j < QK_K; ++j) sumx2 += x[j] * x[j];
  float sigma2 = 2 * sumx2 / QK_K;
  for (int j = 0; j < QK_K / 16; ++j) {
    for (int l = 0; l < 16; ++l) weight[l] = qw[16 * j + l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
    float sumw = 0;
    for (int l = 0; l < 16; ++l) sumw += weight[l];
    sw[j] = sumw;
    scales[j] = make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, weight);
  }
  std::memset(y.scales, 0, 12);
  float d_block = make_qx_quants(QK_K / 16, 32, scales, Ls, 1, sw);
  for (int j = 0; j < QK_K / 16; ++j) pack_scales_q3_K(y, j, Ls[j]);
  y.d = fp32_to_fp16(d_block);
}

}  // namespace

void quantize_row_q2_K(const float* x, block_q2_K* y, int64_t k, const float* qw) {
  const int nb = static_cast<int>(k / QK_K);
  uint8_t L[QK_K];
  for (int i = 0; i < nb; i++) {
    if (qw)
      q2_K_scales_w(x, qw + QK_K * i, y[i], L);
    else
      q2_K_scales_ref(x, y[i], L);
    for (int j = 0; j < QK_K / 16; ++j) {
      const float d = fp16_to_fp32(y[i].d) * (y[i].scales[j] & 0xF);
      if (!d) continue;
      const float dm = fp16_to_fp32(y[i].dmin) * (y[i].scales[j] >> 4);
      requantize_v<true>(x + 16 * j, 16, dm, d, 0, 3, 0, L + 16 * j);
    }
    pack_2bit(L, y[i].qs);
    x += QK_K;
  }
}

void quantize_row_q3_K(const float* x, block_q3_K* y, int64_t k, const float* qw) {
  const int nb = static_cast<int>(k / QK_K);
  int8_t L[QK_K];
  for (int i = 0; i < nb; i++) {
    if (qw)
      q3_K_scales_w(x, qw + QK_K * i, y[i], L);
    else
      q3_K_scales_ref(x, y[i], L);
    int8_t sc;
    for (int j = 0; j < QK_K / 16; ++j) {
      sc = static_cast<int8_t>(j < 8 ? y[i].scales[j] & 0xF : y[i].scales[j - 8] >> 4);
      sc = static_cast<int8_t>((sc | (((y[i].scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
      float d = fp16_to_fp32(y[i].d) * sc;
      if (!d) continue;
      requantize_v<false>(x + 16 * j, 16, 0.f, d, -4, 3, 4, L + 16 * j);
    }
    std::memset(y[i].hmask, 0, QK_K / 8);
    int m = 0;
    uint8_t hm = 1;
    for (int j = 0; j < QK_K; ++j) {
      if (L[j] > 3) {
        y[i].hmask[m] |= hm;
        L[j] = static_cast<int8_t>(L[j] - 4);
      }
      if (++m == QK_K / 8) {
        m = 0;
        hm = static_cast<uint8_t>(hm << 1);
      }
    }
    pack_2bit(L, y[i].qs);
    x += QK_K;
  }
}

void quantize_row_q4_K(const float* x, block_q4_K* y, int64_t k, const float* qw) {
  const int nb = static_cast<int>(k / QK_K);
  uint8_t L[QK_K];
  for (int i = 0; i < nb; i++) {
    if (qw)
      quantize_k_scales_w(x, qw + QK_K * i, y[i], L, 15, false);
    else
      quantize_k_scales(x, y[i], L, 15, -1.f, 20);
    uint8_t* q = y[i].qs;
    for (int j = 0; j < QK_K; j += 64) {
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
      q += 32;
    }
    x += QK_K;
  }
}

void quantize_row_q5_K(const float* x, block_q5_K* y, int64_t k, const float* qw) {
  const int nb = static_cast<int>(k / QK_K);
  uint8_t L[QK_K];
  for (int i = 0; i < nb; i++) {
    if (qw)
      quantize_k_scales_w(x, qw + QK_K * i, y[i], L, 31, true);
    else
      quantize_k_scales(x, y[i], L, 31, -0.5f, 15);
    uint8_t* qh = y[i].qh;
    uint8_t* ql = y[i].qs;
    std::memset(qh, 0, QK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < QK_K; n += 64) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n + j];
        if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
        int l2 = L[n + j + 32];
        if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
      ql += 32;
    }
    x += QK_K;
  }
}

// With importance weights ggml passes them straight to make_qx_quants (quantize_row_q6_K_impl), not
// qw·sqrt(σ² + x²) as the other types do.
void quantize_row_q6_K(const float* x, block_q6_K* y, int64_t k, const float* qw) {
  const int nb = static_cast<int>(k / QK_K);
  int8_t L[QK_K];
  float scales[QK_K / 16];
  for (int i = 0; i < nb; i++) {
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int ib = 0; ib < QK_K / 16; ++ib) {
      const float* w = qw ? qw + QK_K * i + 16 * ib : nullptr;
      const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1, w);
      scales[ib] = scale;
      const float abs_scale = std::fabs(scale);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scale;
      }
    }
    if (max_abs_scale < GROUP_MAX_EPS) {
      std::memset(&y[i], 0, sizeof(block_q6_K));
      y[i].d = fp32_to_fp16(0.f);
      x += QK_K;
      continue;
    }
    float iscale = -128.f / max_scale;
    y[i].d = fp32_to_fp16(1 / iscale);
    for (int ib = 0; ib < QK_K / 16; ++ib) {
      y[i].scales[ib] = static_cast<int8_t>(min_(127, nearest_int(iscale * scales[ib])));
    }
    for (int j = 0; j < QK_K / 16; ++j) {
      float d = fp16_to_fp32(y[i].d) * y[i].scales[j];
      if (!d) continue;
      requantize_v<false>(x + 16 * j, 16, 0.f, d, -32, 31, 32, L + 16 * j);
    }
    uint8_t* ql = y[i].ql;
    uint8_t* qh = y[i].qh;
    for (int j = 0; j < QK_K; j += 128) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = L[j + l + 0] & 0xF;
        const uint8_t q2 = L[j + l + 32] & 0xF;
        const uint8_t q3 = L[j + l + 64] & 0xF;
        const uint8_t q4 = L[j + l + 96] & 0xF;
        ql[l + 0] = static_cast<uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
        qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                     ((L[j + l + 96] >> 4) << 6));
      }
      ql += 64;
      qh += 32;
    }
    x += QK_K;
  }
}

void dequantize_row_q2_K(const block_q2_K* x, float* y, int64_t k) {
  const int nb = static_cast<int>(k / QK_K);
  for (int i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    const float min = fp16_to_fp32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    int is = 0;
    float dl, ml;
    for (int n = 0; n < QK_K; n += 128) {
      int shift = 0;
      for (int j = 0; j < 4; ++j) {
        uint8_t sc = x[i].scales[is++];
        dl = d * (sc & 0xF);
        ml = min * (sc >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * (static_cast<int8_t>((q[l] >> shift) & 3)) - ml;
        sc = x[i].scales[is++];
        dl = d * (sc & 0xF);
        ml = min * (sc >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * (static_cast<int8_t>((q[l + 16] >> shift) & 3)) - ml;
        shift += 2;
      }
      q += 32;
    }
  }
}

void dequantize_row_q3_K(const block_q3_K* x, float* y, int64_t k) {
  const int nb = static_cast<int>(k / QK_K);
  const uint32_t kmask1 = 0x03030303;
  const uint32_t kmask2 = 0x0f0f0f0f;
  uint32_t aux[4];
  int8_t scales[16];
  for (int i = 0; i < nb; i++) {
    const float d_all = fp16_to_fp32(x[i].d);
    const uint8_t* q = x[i].qs;
    const uint8_t* hm = x[i].hmask;
    uint8_t m = 1;
    std::memcpy(aux, x[i].scales, 12);
    uint32_t tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    std::memcpy(scales, aux, 16);  // ggml reads aux through an int8_t pointer (little-endian bytes)
    int is = 0;
    float dl;
    for (int n = 0; n < QK_K; n += 128) {
      int shift = 0;
      for (int j = 0; j < 4; ++j) {
        dl = d_all * (scales[is++] - 32);
        for (int l = 0; l < 16; ++l) {
          *y++ = dl * (static_cast<int8_t>((q[l + 0] >> shift) & 3) - ((hm[l + 0] & m) ? 0 : 4));
        }
        dl = d_all * (scales[is++] - 32);
        for (int l = 0; l < 16; ++l) {
          *y++ = dl * (static_cast<int8_t>((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
        }
        shift += 2;
        m = static_cast<uint8_t>(m << 1);
      }
      q += 32;
    }
  }
}

void dequantize_row_q4_K(const block_q4_K* x, float* y, int64_t k) {
  const int nb = static_cast<int>(k / QK_K);
  for (int i = 0; i < nb; i++) {
    const uint8_t* q = x[i].qs;
    const float d = fp16_to_fp32(x[i].d);
    const float min = fp16_to_fp32(x[i].dmin);
    int is = 0;
    uint8_t sc, m;
    for (int j = 0; j < QK_K; j += 64) {
      get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
      const float d1 = d * sc;
      const float m1 = min * m;
      get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc;
      const float m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
      q += 32;
      is += 2;
    }
  }
}

void dequantize_row_q5_K(const block_q5_K* x, float* y, int64_t k) {
  const int nb = static_cast<int>(k / QK_K);
  for (int i = 0; i < nb; i++) {
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    const float d = fp16_to_fp32(x[i].d);
    const float min = fp16_to_fp32(x[i].dmin);
    int is = 0;
    uint8_t sc, m;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < QK_K; j += 64) {
      get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
      const float d1 = d * sc;
      const float m1 = min * m;
      get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc;
      const float m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      ql += 32;
      is += 2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

void dequantize_row_q6_K(const block_q6_K* x, float* y, int64_t k) {
  const int nb = static_cast<int>(k / QK_K);
  for (int i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int n = 0; n < QK_K; n += 128) {
      for (int l = 0; l < 32; ++l) {
        int is = l / 16;
        const int8_t q1 = static_cast<int8_t>(static_cast<int8_t>((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        const int8_t q2 = static_cast<int8_t>(static_cast<int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        const int8_t q3 = static_cast<int8_t>(static_cast<int8_t>((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        const int8_t q4 = static_cast<int8_t>(static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        y[l + 0] = d * sc[is + 0] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

}  // namespace squint::ggml
