// ggml's 3-bit grid types IQ3_XXS (3.06 bpw) and IQ3_S (3.44 bpw): quantize_row_iq3_xxs_impl (grid 256) and
// quantize_row_iq3_s_impl (grid 512, block 32) and dequantize_row_iq3_* from ggml-quants.c, transcribed
// statement by statement. Each 4 magnitudes are a grid point; signs per 8 (IQ3_XXS keeps an even count).
#include <cstring>

#include "quant/ggml_impl.h"
#include "quant/ggml_iq_search.h"

namespace squint::ggml {
namespace {

constexpr int kMaxQ = 8;

void iq3_weights(const float* xb, const float* qw, float sigma2, float* weight, float* waux) {
  if (qw) {
    for (int i = 0; i < 32; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
  } else {
    for (int i = 0; i < 32; ++i) weight[i] = xb[i] * xb[i];
  }
  for (int i = 0; i < 32; ++i) waux[i] = std::sqrt(weight[i]);
}

float iq3_sigma2(const float* xbl) {
  float sumx2 = 0;
  for (int i = 0; i < QK_K; ++i) sumx2 += xbl[i] * xbl[i];
  return 2 * sumx2 / QK_K;
}

// The scale search of one 32-block (8 groups of 4): trial scales (2·kMaxQ − 1 + is·0.2)/max for is in
// [-is_max, is_max], then the off-grid groups re-quantized at the best scale (IQ3_XXS: only those off the grid
// in the best trial; IQ3_S: all of them, ggml's `continue` being commented out there, and is_on_grid starting
// false). Returns the scale (>= 0, with block_signs inverted if it came out negative).
template <bool kXXS>
float search_32(const IqSearchGrid& g, const float* weight, const float* waux, const float* xval, float max, int8_t* L,
                uint8_t* block_signs) {
  constexpr int is_max = kXXS ? 15 : 9;
  int8_t Laux[32];
  bool is_on_grid[8], is_on_grid_aux[8];
  float best = 0;
  float scale = max / (2 * kMaxQ - 1);
  for (int k = 0; k < 8; ++k) is_on_grid[k] = kXXS;
  for (int is = -is_max; is <= is_max; ++is) {
    float id = (2 * kMaxQ - 1 + is * 0.2f) / max;
    float this_scale = 1 / id;
    for (int k = 0; k < 8; ++k)
      is_on_grid_aux[k] = codes_on_grid<4, 3>(g, xval + 4 * k, waux + 4 * k, id, this_scale, kMaxQ, Laux + 4 * k);
    float sumqx, sumq2;
    weighted_sums<32>(weight, xval, Laux, sumqx, sumq2);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      scale = sumqx / sumq2;
      best = scale * sumqx;
      for (int i = 0; i < 32; ++i) L[i] = Laux[i];
      for (int k = 0; k < 8; ++k) is_on_grid[k] = is_on_grid_aux[k];
    }
  }
  int n_not_ongrid = 0;
  for (int k = 0; k < 8; ++k)
    if (!is_on_grid[k]) ++n_not_ongrid;
  if (n_not_ongrid > 0 && scale > 0) {
    float id = 1 / scale;
    for (int k = 0; k < 8; ++k) {
      if (kXXS && is_on_grid[k]) continue;
      codes_on_grid<4, 3>(g, xval + 4 * k, waux + 4 * k, id, scale, kMaxQ, L + 4 * k);
    }
    float sumqx, sumq2;
    weighted_sums<32>(weight, xval, L, sumqx, sumq2);
    if (sumq2 > 0) scale = sumqx / sumq2;
  }
  if (scale < 0) {
    scale = -scale;
    // ggml inverts 4 sign bytes in both (IQ3_XXS: 7 bits each; IQ3_S: all 8).
    for (int k = 0; k < 4; ++k) block_signs[k] = static_cast<uint8_t>(kXXS ? ~block_signs[k] & 127 : ~block_signs[k]);
  }
  if (!(scale >= 0)) fail_iq_overflow(g.type_name);
  return scale;
}

}  // namespace

void quantize_row_iq3_xxs(const float* x, block_iq3_xxs* y, int64_t n, const float* quant_weights) {
  const IqSearchGrid& g = iq_search_grid(IqGridId::IQ3_XXS);
  const int64_t nbl = n / QK_K;
  float scales[QK_K / 32], weight[32], xval[32], waux[32];
  int8_t L[32];
  uint8_t block_signs[8];
  uint8_t q3[3 * (QK_K / 8) + QK_K / 32];
  uint8_t* qh = q3 + 3 * (QK_K / 8);
  (void)qh;
  for (int64_t ibl = 0; ibl < nbl; ++ibl) {
    y[ibl].d = fp32_to_fp16(0.f);
    std::memset(q3, 0, 3 * QK_K / 8 + QK_K / 32);
    uint32_t scales_and_signs[QK_K / 32] = {};
    float max_scale = 0;
    const float* xbl = x + QK_K * ibl;
    const float sigma2 = iq3_sigma2(xbl);
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      const float* xb = xbl + 32 * ib;
      iq3_weights(xb, quant_weights ? quant_weights + QK_K * ibl + 32 * ib : nullptr, sigma2, weight, waux);
      for (int k = 0; k < 4; ++k) block_signs[k] = split_signs<true>(xb + 8 * k, weight + 8 * k, xval + 8 * k);
      float max = xval[0];
      for (int i = 1; i < 32; ++i) max = max_(max, xval[i]);
      std::memset(L, 0, 32);
      if (max < GROUP_MAX_EPS_IQ3_XXS) {
        scales[ib] = 0;
        continue;
      }
      const float scale = search_32<true>(g, weight, waux, xval, max, L, block_signs);
      for (int k = 0; k < 8; ++k) q3[8 * ib + k] = static_cast<uint8_t>(grid_index_of<4, 3>(g, L + 4 * k));
      scales_and_signs[ib] = block_signs[0] | (block_signs[1] << 7) | (block_signs[2] << 14) | (block_signs[3] << 21);
      scales[ib] = scale;
      max_scale = max_(max_scale, scale);
    }
    if (!max_scale) {
      std::memset(y[ibl].qs, 0, sizeof y[ibl].qs);
      continue;
    }
    float d = max_scale / 31;
    y[ibl].d = fp32_to_fp16(d * 1.0125f);
    float id = 1 / d;
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      int l = nearest_int(0.5f * (id * scales[ib] - 1));
      l = max_(0, min_(15, l));
      scales_and_signs[ib] |= static_cast<uint32_t>(l) << 28;
    }
    std::memcpy(y[ibl].qs, q3, QK_K / 4);
    std::memcpy(y[ibl].qs + QK_K / 4, scales_and_signs, sizeof scales_and_signs);
  }
}

void quantize_row_iq3_s(const float* x, block_iq3_s* y, int64_t n, const float* quant_weights) {
  const IqSearchGrid& g = iq_search_grid(IqGridId::IQ3_S);
  constexpr int block_size = 32, bs4 = block_size / 4, bs8 = block_size / 8;
  const int64_t nbl = n / QK_K;
  float scales[QK_K / block_size], weight[block_size], xval[block_size], waux[block_size];
  int8_t L[block_size];
  uint8_t block_signs[bs8];
  for (int64_t ibl = 0; ibl < nbl; ++ibl) {
    std::memset(&y[ibl], 0, sizeof(block_iq3_s));
    y[ibl].d = fp32_to_fp16(0.f);
    uint8_t* qs = y[ibl].qs;
    uint8_t* qh = y[ibl].qh;
    uint8_t* signs = y[ibl].signs;
    float max_scale = 0;
    const float* xbl = x + QK_K * ibl;
    const float sigma2 = iq3_sigma2(xbl);
    for (int ib = 0; ib < QK_K / block_size; ++ib) {
      const float* xb = xbl + block_size * ib;
      iq3_weights(xb, quant_weights ? quant_weights + QK_K * ibl + block_size * ib : nullptr, sigma2, weight, waux);
      for (int k = 0; k < bs8; ++k) block_signs[k] = split_signs<false>(xb + 8 * k, weight + 8 * k, xval + 8 * k);
      float max = xval[0];
      for (int i = 1; i < block_size; ++i) max = max_(max, xval[i]);
      std::memset(L, 0, block_size);
      if (!max) {
        scales[ib] = 0;
        continue;
      }
      const float scale = search_32<false>(g, weight, waux, xval, max, L, block_signs);
      for (int k = 0; k < bs4; ++k) {
        const int grid_index = grid_index_of<4, 3>(g, L + 4 * k);
        qs[k] = static_cast<uint8_t>(grid_index & 255);
        qh[(ib * bs4 + k) / 8] |= static_cast<uint8_t>((grid_index >> 8) << ((ib * bs4 + k) % 8));
      }
      qs += bs4;
      for (int k = 0; k < bs8; ++k) signs[k] = block_signs[k];
      signs += bs8;
      scales[ib] = scale;
      max_scale = max_(max_scale, scale);
    }
    if (!max_scale) continue;
    float d = max_scale / 31;
    y[ibl].d = fp32_to_fp16(d * 1.033f);
    float id = 1 / d;
    for (int ib = 0; ib < QK_K / block_size; ib += 2) {
      int l1 = nearest_int(0.5f * (id * scales[ib + 0] - 1));
      l1 = max_(0, min_(15, l1));
      int l2 = nearest_int(0.5f * (id * scales[ib + 1] - 1));
      l2 = max_(0, min_(15, l2));
      y[ibl].scales[ib / 2] = static_cast<uint8_t>(l1 | (l2 << 4));
    }
  }
}

void dequantize_row_iq3_xxs(const block_iq3_xxs* x, float* y, int64_t k) {
  const DequantGrids& G = dequant_grids();
  const int64_t nb = k / QK_K;
  uint32_t aux32;
  for (int64_t i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    const uint8_t* qs = x[i].qs;
    const uint8_t* scales_and_signs = qs + QK_K / 4;
    for (int ib32 = 0; ib32 < QK_K / 32; ++ib32) {
      std::memcpy(&aux32, scales_and_signs + 4 * ib32, sizeof(uint32_t));
      const float db = d * (0.5f + (aux32 >> 28)) * 0.5f;
      for (int l = 0; l < 4; ++l) {
        const uint8_t signs = G.ksigns_iq2xs[(aux32 >> 7 * l) & 127];
        const uint8_t* grid1 = G.iq3xxs[qs[2 * l + 0]];
        const uint8_t* grid2 = G.iq3xxs[qs[2 * l + 1]];
        for (int j = 0; j < 4; ++j) {
          y[j + 0] = db * grid1[j] * (signs & kmask_iq2xs[j + 0] ? -1.f : 1.f);
          y[j + 4] = db * grid2[j] * (signs & kmask_iq2xs[j + 4] ? -1.f : 1.f);
        }
        y += 8;
      }
      qs += 8;
    }
  }
}

void dequantize_row_iq3_s(const block_iq3_s* x, float* y, int64_t k) {
  const DequantGrids& G = dequant_grids();
  const int64_t nb = k / QK_K;
  for (int64_t i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    const uint8_t* qs = x[i].qs;
    const uint8_t* qh = x[i].qh;
    const uint8_t* signs = x[i].signs;
    for (int ib32 = 0; ib32 < QK_K / 32; ib32 += 2) {
      const float db1 = d * (1 + 2 * (x[i].scales[ib32 / 2] & 0xf));
      const float db2 = d * (1 + 2 * (x[i].scales[ib32 / 2] >> 4));
      for (int l = 0; l < 4; ++l) {
        const uint8_t* grid1 = G.iq3s[qs[2 * l + 0] | ((qh[0] << (8 - 2 * l)) & 256)];
        const uint8_t* grid2 = G.iq3s[qs[2 * l + 1] | ((qh[0] << (7 - 2 * l)) & 256)];
        for (int j = 0; j < 4; ++j) {
          y[j + 0] = db1 * grid1[j] * (signs[l] & kmask_iq2xs[j + 0] ? -1.f : 1.f);
          y[j + 4] = db1 * grid2[j] * (signs[l] & kmask_iq2xs[j + 4] ? -1.f : 1.f);
        }
        y += 8;
      }
      qs += 8;
      signs += 4;
      for (int l = 0; l < 4; ++l) {
        const uint8_t* grid1 = G.iq3s[qs[2 * l + 0] | ((qh[1] << (8 - 2 * l)) & 256)];
        const uint8_t* grid2 = G.iq3s[qs[2 * l + 1] | ((qh[1] << (7 - 2 * l)) & 256)];
        for (int j = 0; j < 4; ++j) {
          y[j + 0] = db2 * grid1[j] * (signs[l] & kmask_iq2xs[j + 0] ? -1.f : 1.f);
          y[j + 4] = db2 * grid2[j] * (signs[l] & kmask_iq2xs[j + 4] ? -1.f : 1.f);
        }
        y += 8;
      }
      qh += 2;
      qs += 8;
      signs += 4;
    }
  }
}

}  // namespace squint::ggml
