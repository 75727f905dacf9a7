// ggml's 2-bit grid types IQ2_XXS (2.06 bpw), IQ2_XS (2.31 bpw) and IQ2_S (2.56 bpw): quantize_row_iq2_*_impl
// and dequantize_row_iq2_* from ggml-quants.c, transcribed statement by statement (the searches compare float
// errors, so the order of every sum is ggml's). Each 8 weights are an E8-lattice-like grid point (their
// magnitudes) plus signs; IQ2_XXS and IQ2_XS keep an even number of minus signs per 8 (the 8th sign is implied),
// flipping the least important weight when the count is odd.
#include <cstring>

#include "quant/ggml_impl.h"
#include "quant/ggml_iq_search.h"

namespace squint::ggml {
namespace {

// The scale search IQ2_XS and IQ2_S share for one 16-block (19 trial scales around max/5, then off-grid halves
// re-quantized at the best scale). Returns the scale (>= 0), or -1 for a block below eps (ggml skips it: its
// codes and signs stay 0); L the codes, block_signs possibly inverted.
float search_16(const IqSearchGrid& g, const float* weight, const float* waux, const float* xval, int8_t* L,
                uint8_t* block_signs, uint8_t sign_mask, float eps) {
  const int kMaxQ = 3;
  int8_t Laux[16];
  bool is_on_grid[2], is_on_grid_aux[2];
  float max = xval[0];
  for (int i = 1; i < 16; ++i) max = max_(max, xval[i]);
  std::memset(L, 0, 16);
  if (max < eps) return -1;
  float best = 0;
  float scale = max / (2 * kMaxQ - 1);
  is_on_grid[0] = is_on_grid[1] = true;
  for (int is = -9; is <= 9; ++is) {
    float id = (2 * kMaxQ - 1 + is * 0.1f) / max;
    float this_scale = 1 / id;
    for (int k = 0; k < 2; ++k)
      is_on_grid_aux[k] = codes_on_grid<8, 2>(g, xval + 8 * k, waux + 8 * k, id, this_scale, kMaxQ, Laux + 8 * k);
    float sumqx, sumq2;
    weighted_sums<16>(weight, xval, Laux, sumqx, sumq2);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      scale = sumqx / sumq2;
      best = scale * sumqx;
      for (int i = 0; i < 16; ++i) L[i] = Laux[i];
      for (int k = 0; k < 2; ++k) is_on_grid[k] = is_on_grid_aux[k];
    }
  }
  int n_not_ongrid = 0;
  for (int k = 0; k < 2; ++k)
    if (!is_on_grid[k]) ++n_not_ongrid;
  if (n_not_ongrid > 0 && scale > 0) {
    float id = 1 / scale;
    for (int k = 0; k < 2; ++k) {
      if (is_on_grid[k]) continue;
      codes_on_grid<8, 2>(g, xval + 8 * k, waux + 8 * k, id, scale, kMaxQ, L + 8 * k);
    }
    float sumqx, sumq2;
    weighted_sums<16>(weight, xval, L, sumqx, sumq2);
    if (sumq2 > 0) scale = sumqx / sumq2;
  }
  if (scale < 0) {
    scale = -scale;
    for (int k = 0; k < 2; ++k) block_signs[k] = static_cast<uint8_t>(~block_signs[k] & sign_mask);
  }
  if (!(scale >= 0)) fail_iq_overflow(g.type_name);
  return scale;
}

float sum_x2(const float* xbl) {
  float sumx2 = 0;
  for (int i = 0; i < QK_K; ++i) sumx2 += xbl[i] * xbl[i];
  return sumx2;
}

}  // namespace

void quantize_row_iq2_xxs(const float* x, block_iq2_xxs* y, int64_t n, const float* quant_weights) {
  const IqSearchGrid& g = iq_search_grid(IqGridId::IQ2_XXS);
  const int kMaxQ = 3;
  const int64_t nbl = n / QK_K;
  float scales[QK_K / 32], weight[32], xval[32], waux[32];
  int8_t L[32], Laux[32];
  uint8_t block_signs[4];
  uint32_t q2[2 * (QK_K / 32)];
  for (int64_t ibl = 0; ibl < nbl; ++ibl) {
    y[ibl].d = fp32_to_fp16(0.f);
    std::memset(q2, 0, QK_K / 4);
    float max_scale = 0;
    const float* xbl = x + QK_K * ibl;
    float sigma2 = sum_x2(xbl) / QK_K;
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      const float* xb = xbl + 32 * ib;
      const float* qw = quant_weights + QK_K * ibl + 32 * ib;
      for (int i = 0; i < 32; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
      for (int i = 0; i < 32; ++i) waux[i] = std::sqrt(weight[i]);
      for (int k = 0; k < 4; ++k) block_signs[k] = split_signs<true>(xb + 8 * k, weight + 8 * k, xval + 8 * k);
      float max = xval[0];
      for (int i = 1; i < 32; ++i) max = max_(max, xval[i]);
      if (max < GROUP_MAX_EPS) {
        scales[ib] = 0;
        std::memset(L, 0, 32);
        continue;
      }
      float scale = make_qp_quants(32, kMaxQ + 1, xval, reinterpret_cast<uint8_t*>(L), weight);
      float eff_max = scale * kMaxQ;
      if (eff_max <= 0) {
        scales[ib] = 0;
        std::memset(L, 0, 32);
        continue;
      }
      float best = 0;
      for (int is = -6; is <= 6; ++is) {
        float id = (2 * kMaxQ - 1 + is * 0.1f) / eff_max;
        float this_scale = 1 / id;
        for (int k = 0; k < 4; ++k)
          codes_on_grid<8, 2>(g, xval + 8 * k, waux + 8 * k, id, this_scale, kMaxQ, Laux + 8 * k);
        float sumqx, sumq2;
        weighted_sums<32>(weight, xval, Laux, sumqx, sumq2);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
          scale = sumqx / sumq2;
          best = scale * sumqx;
          std::memcpy(L, Laux, 32);
        }
      }
      if (scale > 0) {
        float id = 1 / scale;
        for (int k = 0; k < 4; ++k) codes_on_grid<8, 2>(g, xval + 8 * k, waux + 8 * k, id, scale, kMaxQ, L + 8 * k);
        float sumqx, sumq2;
        weighted_sums<32>(weight, xval, L, sumqx, sumq2);
        if (sumq2 > 0) scale = sumqx / sumq2;
      }
      if (scale < 0) {
        scale = -scale;
        for (int k = 0; k < 4; ++k) block_signs[k] = static_cast<uint8_t>(~block_signs[k] & 127);
      }
      if (!(scale >= 0)) fail_iq_overflow("IQ2_XXS");
      for (int k = 0; k < 4; ++k) {
        const int grid_index = grid_index_of<8, 2>(g, L + 8 * k);
        q2[2 * ib + 0] |= static_cast<uint32_t>(grid_index) << 8 * k;
        q2[2 * ib + 1] |= static_cast<uint32_t>(block_signs[k]) << 7 * k;
      }
      scales[ib] = scale;
      max_scale = max_(max_scale, scale);
    }
    if (!max_scale) {
      std::memset(y[ibl].qs, 0, QK_K / 4);
      continue;
    }
    float d = max_scale / 31;
    y[ibl].d = fp32_to_fp16(d);
    float id = 1 / d;
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      int l = nearest_int(0.5f * (id * scales[ib] - 1));
      l = max_(0, min_(15, l));
      q2[2 * ib + 1] |= static_cast<uint32_t>(l) << 28;
    }
    std::memcpy(y[ibl].qs, q2, QK_K / 4);
  }
}

void quantize_row_iq2_xs(const float* x, block_iq2_xs* y, int64_t n, const float* quant_weights) {
  const IqSearchGrid& g = iq_search_grid(IqGridId::IQ2_XS);
  const int64_t nbl = n / QK_K;
  float scales[QK_K / 16], weight[16], xval[16], waux[16];
  int8_t L[16];
  uint8_t block_signs[2];
  uint16_t q2[2 * (QK_K / 16)];
  for (int64_t ibl = 0; ibl < nbl; ++ibl) {
    y[ibl].d = fp32_to_fp16(0.f);
    std::memset(q2, 0, QK_K / 4);
    std::memset(y[ibl].scales, 0, QK_K / 32);
    float max_scale = 0;
    const float* xbl = x + QK_K * ibl;
    float sigma2 = sum_x2(xbl) / QK_K;
    for (int ib = 0; ib < QK_K / 16; ++ib) {
      const float* xb = xbl + 16 * ib;
      const float* qw = quant_weights + QK_K * ibl + 16 * ib;
      for (int i = 0; i < 16; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
      for (int i = 0; i < 16; ++i) waux[i] = std::sqrt(weight[i]);
      for (int k = 0; k < 2; ++k) block_signs[k] = split_signs<true>(xb + 8 * k, weight + 8 * k, xval + 8 * k);
      const float scale = search_16(g, weight, waux, xval, L, block_signs, 127, GROUP_MAX_EPS);
      if (scale == -1) {
        scales[ib] = 0;
        continue;
      }
      for (int k = 0; k < 2; ++k)
        q2[2 * ib + k] = static_cast<uint16_t>(grid_index_of<8, 2>(g, L + 8 * k) | (block_signs[k] << 9));
      scales[ib] = scale;
      max_scale = max_(max_scale, scale);
    }
    if (!max_scale) {
      std::memset(y[ibl].qs, 0, QK_K / 4);
      continue;
    }
    float d = max_scale / 31;
    y[ibl].d = fp32_to_fp16(d);
    float id = 1 / d;
    for (int ib = 0; ib < QK_K / 16; ++ib) {
      int l = nearest_int(0.5f * (id * scales[ib] - 1));
      l = max_(0, min_(15, l));
      if (ib % 2 == 0)
        y[ibl].scales[ib / 2] = static_cast<uint8_t>(l);
      else
        y[ibl].scales[ib / 2] |= static_cast<uint8_t>(l << 4);
    }
    std::memcpy(y[ibl].qs, q2, QK_K / 4);
  }
}

void quantize_row_iq2_s(const float* x, block_iq2_s* y, int64_t n, const float* quant_weights) {
  const IqSearchGrid& g = iq_search_grid(IqGridId::IQ2_S);
  const int64_t nbl = n / QK_K;
  float scales[QK_K / 16], weight[16], xval[16], waux[16];
  int8_t L[16];
  uint8_t block_signs[2];
  for (int64_t ibl = 0; ibl < nbl; ++ibl) {
    std::memset(&y[ibl], 0, sizeof(block_iq2_s));
    y[ibl].d = fp32_to_fp16(0.f);
    float max_scale = 0;
    const float* xbl = x + QK_K * ibl;
    float sigma2 = 2 * sum_x2(xbl) / QK_K;
    for (int ib = 0; ib < QK_K / 16; ++ib) {
      const float* xb = xbl + 16 * ib;
      if (quant_weights) {
        const float* qw = quant_weights + QK_K * ibl + 16 * ib;
        for (int i = 0; i < 16; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
      } else {
        for (int i = 0; i < 16; ++i) weight[i] = 0.25f * sigma2 + xb[i] * xb[i];
      }
      for (int i = 0; i < 16; ++i) waux[i] = std::sqrt(weight[i]);
      for (int k = 0; k < 2; ++k) block_signs[k] = split_signs<false>(xb + 8 * k, weight + 8 * k, xval + 8 * k);
      const float scale = search_16(g, weight, waux, xval, L, block_signs, 255, GROUP_MAX_EPS_IQ2_S);
      if (scale == -1) {
        scales[ib] = 0;
        continue;
      }
      for (int k = 0; k < 2; ++k) {
        const int grid_index = grid_index_of<8, 2>(g, L + 8 * k);
        const int i8 = 2 * ib + k;
        y[ibl].qs[i8] = static_cast<uint8_t>(grid_index & 255);
        y[ibl].qh[i8 / 4] |= static_cast<uint8_t>((grid_index >> 8) << 2 * (i8 % 4));
        y[ibl].qs[QK_K / 8 + i8] = block_signs[k];
      }
      scales[ib] = scale;
      max_scale = max_(max_scale, scale);
    }
    if (!max_scale) continue;
    float d = max_scale / 31;
    y[ibl].d = fp32_to_fp16(d * 0.9875f);
    float id = 1 / d;
    for (int ib = 0; ib < QK_K / 16; ++ib) {
      int l = nearest_int(0.5f * (id * scales[ib] - 1));
      l = max_(0, min_(15, l));
      if (ib % 2 == 0)
        y[ibl].scales[ib / 2] = static_cast<uint8_t>(l);
      else
        y[ibl].scales[ib / 2] |= static_cast<uint8_t>(l << 4);
    }
  }
}

void dequantize_row_iq2_xxs(const block_iq2_xxs* x, float* y, int64_t k) {
  const DequantGrids& G = dequant_grids();
  const int64_t nb = k / QK_K;
  uint32_t aux32[2];
  const uint8_t* aux8 = reinterpret_cast<const uint8_t*>(aux32);
  for (int64_t i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    for (int ib32 = 0; ib32 < QK_K / 32; ++ib32) {
      std::memcpy(aux32, x[i].qs + 4 * ib32, 2 * sizeof(uint32_t));
      const float db = d * (0.5f + (aux32[1] >> 28)) * 0.25f;
      for (int l = 0; l < 4; ++l) {
        const uint8_t* grid = G.iq2xxs[aux8[l]];
        const uint8_t signs = G.ksigns_iq2xs[(aux32[1] >> 7 * l) & 127];
        for (int j = 0; j < 8; ++j) y[j] = db * grid[j] * (signs & kmask_iq2xs[j] ? -1.f : 1.f);
        y += 8;
      }
    }
  }
}

void dequantize_row_iq2_xs(const block_iq2_xs* x, float* y, int64_t k) {
  const DequantGrids& G = dequant_grids();
  const int64_t nb = k / QK_K;
  float db[2];
  for (int64_t i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    for (int ib32 = 0; ib32 < QK_K / 32; ++ib32) {
      db[0] = d * (0.5f + (x[i].scales[ib32] & 0xf)) * 0.25f;
      db[1] = d * (0.5f + (x[i].scales[ib32] >> 4)) * 0.25f;
      for (int l = 0; l < 4; ++l) {
        const uint8_t* grid = G.iq2xs[x[i].qs[4 * ib32 + l] & 511];
        const uint8_t signs = G.ksigns_iq2xs[x[i].qs[4 * ib32 + l] >> 9];
        for (int j = 0; j < 8; ++j) y[j] = db[l / 2] * grid[j] * (signs & kmask_iq2xs[j] ? -1.f : 1.f);
        y += 8;
      }
    }
  }
}

void dequantize_row_iq2_s(const block_iq2_s* x, float* y, int64_t k) {
  const DequantGrids& G = dequant_grids();
  const int64_t nb = k / QK_K;
  float db[2];
  for (int64_t i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    const uint8_t* qs = x[i].qs;
    const uint8_t* qh = x[i].qh;
    const uint8_t* signs = qs + QK_K / 8;
    for (int ib32 = 0; ib32 < QK_K / 32; ++ib32) {
      db[0] = d * (0.5f + (x[i].scales[ib32] & 0xf)) * 0.25f;
      db[1] = d * (0.5f + (x[i].scales[ib32] >> 4)) * 0.25f;
      for (int l = 0; l < 4; ++l) {
        const float dl = db[l / 2];
        const uint8_t* grid = G.iq2s[qs[l] | ((qh[ib32] << (8 - 2 * l)) & 0x300)];
        for (int j = 0; j < 8; ++j) y[j] = dl * grid[j] * (signs[l] & kmask_iq2xs[j] ? -1.f : 1.f);
        y += 8;
      }
      qs += 4;
      signs += 4;
    }
  }
}

}  // namespace squint::ggml
