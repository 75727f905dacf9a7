// ggml's ternary grid types IQ1_S (1.56 bpw) and IQ1_M (1.75 bpw): quantize_row_iq1_s_impl and
// quantize_row_iq1_m_impl and dequantize_row_iq1_* from ggml-quants.c, transcribed statement by statement.
// Each block's codes (-1, 0, +1, shifted by ±IQ1S_DELTA) come from an exhaustive search over the two
// boundaries that split the block's values sorted in ascending order; each 8 codes are then a point of the
// 2048-point grid (or its nearest neighbour).
#include <algorithm>
#include <cstring>

#include "quant/ggml_impl.h"
#include "quant/ggml_iq_search.h"

namespace squint::ggml {
namespace {

constexpr float kFltMax = 3.402823466e+38f;

// The block's element indices in ascending order of value. ggml sorts (value, index) pairs with qsort and a
// comparator on the value alone; glibc's qsort is a merge sort for arrays this small, so ties keep index order:
// a stable sort by value.
template <int kN>
void sorted_indices(const float* xb, int* idx) {
  for (int j = 0; j < kN; ++j) idx[j] = j;
  std::stable_sort(idx, idx + kN, [xb](int a, int b) { return xb[a] < xb[b]; });
}

// iq1_find_best_neighbour2: the neighbour of an off-grid point nearest to xval at `scale` with code values xg.
// (ggml's fallback over the whole grid, for when no distance is below FLT_MAX, reads xval out of bounds; only
// inf/NaN distances reach it. Here it compares against xval[j], what it meant.)
int find_best_neighbour2(const char* type, const uint16_t* neighbours, const IqSearchGrid& g, const float* xval,
                         const float* weight, float scale, const float* xg, int8_t* L, int ngrid) {
  const int num_neighbors = neighbours[0];
  float best_score = kFltMax;
  int grid_index = -1;
  for (int j = 1; j <= num_neighbors; ++j) {
    const int8_t* pg = g.point(neighbours[j]);
    float d2 = 0;
    for (int i = 0; i < 8; ++i) {
      float q = xg[(pg[i] - 1) / 2];
      float w = weight[i];
      float diff = scale * q - xval[i];
      d2 += w * diff * diff;
    }
    if (d2 < best_score) {
      best_score = d2;
      grid_index = neighbours[j];
    }
  }
  if (grid_index < 0) {
    for (int i = 0; i < ngrid; ++i) {
      const int8_t* grid_i = g.point(i);
      float d2 = 0;
      for (int j = 0; j < 8; ++j) {
        float w = weight[j];
        float q = xg[(grid_i[j] - 1) / 2];
        float diff = scale * q - xval[j];
        d2 += w * diff * diff;
      }
      if (d2 < best_score) {
        best_score = d2;
        grid_index = i;
      }
    }
  }
  if (grid_index < 0) fail_iq_overflow(type);
  const int8_t* pg = g.point(grid_index);
  for (int i = 0; i < 8; ++i) L[i] = static_cast<int8_t>((pg[i] - 1) / 2);
  return grid_index;
}

uint16_t cube_index(const int8_t* L) {
  uint16_t u = 0;
  for (int j = 0; j < 8; ++j) u = static_cast<uint16_t>(u | (L[j] << 2 * j));
  return u;
}

float iq1_sigma2(const float* xbl) {
  float sumx2 = 0;
  for (int i = 0; i < QK_K; ++i) sumx2 += xbl[i] * xbl[i];
  return 2 * sumx2 / QK_K;
}

}  // namespace

void quantize_row_iq1_s(const float* x, block_iq1_s* y, int64_t n, const float* quant_weights) {
  const char* kName = "IQ1_S";
  const IqSearchGrid& g = iq_search_grid(IqGridId::IQ1);
  constexpr int block_size = 32;
  const int64_t nbl = n / QK_K;
  const float x_p[3] = {-1 + IQ1S_DELTA, IQ1S_DELTA, 1 + IQ1S_DELTA};
  const float x_m[3] = {-1 - IQ1S_DELTA, -IQ1S_DELTA, 1 - IQ1S_DELTA};
  float scales[QK_K / block_size], weight[block_size], sumx[block_size + 1], sumw[block_size + 1];
  int8_t L[block_size];
  int idx[block_size];
  uint16_t index[block_size / 8];
  int8_t shifts[QK_K / block_size];
  for (int64_t ibl = 0; ibl < nbl; ++ibl) {
    y[ibl].d = fp32_to_fp16(0.f);
    std::memset(y[ibl].qs, 0, QK_K / 8);
    std::memset(y[ibl].qh, 0, QK_K / 16);
    float max_scale = 0;
    const float* xbl = x + QK_K * ibl;
    const float sigma2 = iq1_sigma2(xbl);
    for (int ib = 0; ib < QK_K / block_size; ++ib) {
      const float* xb = xbl + block_size * ib;
      const float* qw = quant_weights + QK_K * ibl + block_size * ib;
      for (int i = 0; i < block_size; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
      float max = std::fabs(xb[0]);
      for (int i = 1; i < block_size; ++i) max = max_(max, std::fabs(xb[i]));
      if (max < GROUP_MAX_EPS_IQ1_S) {
        scales[ib] = 0;
        shifts[ib] = 1;
        std::memset(L, 1, block_size);
        continue;
      }
      sorted_indices<block_size>(xb, idx);
      sumx[0] = sumw[0] = 0;
      for (int j = 0; j < block_size; ++j) {
        int i = idx[j];
        sumx[j + 1] = sumx[j] + weight[i] * xb[i];
        sumw[j + 1] = sumw[j] + weight[i];
      }
      float best_score = -kFltMax, scale = max;
      int besti1 = -1, besti2 = -1, best_shift = 0;
      for (int i1 = 0; i1 <= block_size; ++i1) {
        for (int i2 = i1; i2 <= block_size; ++i2) {
          float sumqx =
              (sumx[i1] - sumx[0]) * x_p[0] + (sumx[i2] - sumx[i1]) * x_p[1] + (sumx[block_size] - sumx[i2]) * x_p[2];
          float sumq2 = (sumw[i1] - sumw[0]) * x_p[0] * x_p[0] + (sumw[i2] - sumw[i1]) * x_p[1] * x_p[1] +
                        (sumw[block_size] - sumw[i2]) * x_p[2] * x_p[2];
          if (sumq2 > 0 && sumqx * sumqx > best_score * sumq2) {
            scale = sumqx / sumq2;
            best_score = scale * sumqx;
            besti1 = i1;
            besti2 = i2;
            best_shift = 1;
          }
          sumqx =
              (sumx[i1] - sumx[0]) * x_m[0] + (sumx[i2] - sumx[i1]) * x_m[1] + (sumx[block_size] - sumx[i2]) * x_m[2];
          sumq2 = (sumw[i1] - sumw[0]) * x_m[0] * x_m[0] + (sumw[i2] - sumw[i1]) * x_m[1] * x_m[1] +
                  (sumw[block_size] - sumw[i2]) * x_m[2] * x_m[2];
          if (sumq2 > 0 && sumqx * sumqx > best_score * sumq2) {
            scale = sumqx / sumq2;
            best_score = scale * sumqx;
            besti1 = i1;
            besti2 = i2;
            best_shift = -1;
          }
        }
      }
      if (besti1 < 0 || besti2 < 0 || best_shift == 0) {
        scales[ib] = 0;
        shifts[ib] = 1;
        std::memset(L, 1, block_size);
        continue;
      }
      for (int j = 0; j < besti1; ++j) L[idx[j]] = 0;
      for (int j = besti1; j < besti2; ++j) L[idx[j]] = 1;
      for (int j = besti2; j < block_size; ++j) L[idx[j]] = 2;
      if (scale < 0) {
        for (int j = 0; j < block_size; ++j) L[j] = static_cast<int8_t>(2 - L[j]);
        scale = -scale;
        best_shift = -best_shift;
      }
      bool all_on_grid = true;
      const float* xx = best_shift == 1 ? x_p : x_m;
      for (int k = 0; k < block_size / 8; ++k) {
        const uint16_t u = cube_index(L + 8 * k);
        int grid_index = g.map[u];
        if (grid_index < 0) {
          all_on_grid = false;
          grid_index = find_best_neighbour2(kName, g.neighbours_of(u), g, xb + 8 * k, weight + 8 * k, scale, xx,
                                            L + 8 * k, 2048);
        }
        index[k] = static_cast<uint16_t>(grid_index);
      }
      if (!all_on_grid) {
        float sumqx = 0, sumq2 = 0;
        for (int k = 0; k < block_size / 8; ++k) {
          const int8_t* pg = g.point(index[k]);
          for (int j = 0; j < 8; ++j) {
            float w = weight[8 * k + j];
            float q = xx[(pg[j] - 1) / 2];
            sumqx += w * q * xb[8 * k + j];
            sumq2 += w * q * q;
          }
        }
        if (sumqx > 0 && sumq2 > 0) scale = sumqx / sumq2;
      }
      uint16_t h = 0;
      for (int k = 0; k < block_size / 8; ++k) {
        y[ibl].qs[(block_size / 8) * ib + k] = static_cast<uint8_t>(index[k] & 255);
        h = static_cast<uint16_t>(h | ((index[k] >> 8) << 3 * k));
      }
      y[ibl].qh[ib] = h;
      if (!(scale >= 0)) fail_iq_overflow(kName);
      scales[ib] = scale;
      shifts[ib] = static_cast<int8_t>(best_shift);
      max_scale = max_(max_scale, scale);
    }
    if (!max_scale) continue;
    float d = max_scale / 15;
    y[ibl].d = fp32_to_fp16(d * 1.125f);
    float id = 1 / d;
    for (int ib = 0; ib < QK_K / block_size; ++ib) {
      int l = nearest_int(0.5f * (id * scales[ib] - 1));
      l = max_(0, min_(7, l));
      if (shifts[ib] == -1) l |= 8;
      y[ibl].qh[ib] = static_cast<uint16_t>(y[ibl].qh[ib] | (l << 12));
    }
  }
}

void quantize_row_iq1_m(const float* x, block_iq1_m* y, int64_t n, const float* quant_weights) {
  const char* kName = "IQ1_M";
  const IqSearchGrid& g = iq_search_grid(IqGridId::IQ1);
  constexpr int block_size = 16;
  const int64_t nbl = n / QK_K;
  const float x_p[3] = {-1 + IQ1M_DELTA, IQ1M_DELTA, 1 + IQ1M_DELTA};
  const float x_m[3] = {-1 - IQ1M_DELTA, -IQ1M_DELTA, 1 - IQ1M_DELTA};
  const uint8_t masks[4] = {0x00, 0x80, 0x08, 0x88};
  float scales[QK_K / block_size], weight[block_size];
  int8_t L[block_size];
  int idx[block_size];
  uint16_t index[block_size / 8];
  int8_t shifts[QK_K / block_size];
  float sumqx[4], sumq2[4];
  const float* xx;
  auto block_weights = [&](const float* xb, int64_t ibl, int ib, float sigma2) {
    if (quant_weights) {
      const float* qw = quant_weights + QK_K * ibl + block_size * ib;
      for (int i = 0; i < block_size; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
    } else {
      for (int i = 0; i < block_size; ++i) weight[i] = xb[i] * xb[i];
    }
  };
  // Adds element i's terms for code value `v` (x_p[c] or x_m[c]) to the four sign patterns, as ggml's three
  // copies of this block do: patterns 0,1 use x_p for the first half-block and 2,3 x_m; for the second half
  // 0,2 use x_p and 1,3 x_m.
  auto add = [&](int i, const float* xb, int c) {
    if (i < block_size / 2) {
      sumqx[0] += weight[i] * x_p[c] * xb[i];
      sumqx[1] += weight[i] * x_p[c] * xb[i];
      sumqx[2] += weight[i] * x_m[c] * xb[i];
      sumqx[3] += weight[i] * x_m[c] * xb[i];
      sumq2[0] += weight[i] * x_p[c] * x_p[c];
      sumq2[1] += weight[i] * x_p[c] * x_p[c];
      sumq2[2] += weight[i] * x_m[c] * x_m[c];
      sumq2[3] += weight[i] * x_m[c] * x_m[c];
    } else {
      sumqx[0] += weight[i] * x_p[c] * xb[i];
      sumqx[2] += weight[i] * x_p[c] * xb[i];
      sumqx[1] += weight[i] * x_m[c] * xb[i];
      sumqx[3] += weight[i] * x_m[c] * xb[i];
      sumq2[0] += weight[i] * x_p[c] * x_p[c];
      sumq2[2] += weight[i] * x_p[c] * x_p[c];
      sumq2[1] += weight[i] * x_m[c] * x_m[c];
      sumq2[3] += weight[i] * x_m[c] * x_m[c];
    }
  };
  for (int64_t ibl = 0; ibl < nbl; ++ibl) {
    std::memset(y[ibl].qs, 0, QK_K / 8);
    std::memset(y[ibl].qh, 0, QK_K / 16);
    std::memset(y[ibl].scales, 0, QK_K / 32);
    float max_scale = 0;
    const float* xbl = x + QK_K * ibl;
    const float sigma2 = iq1_sigma2(xbl);
    for (int ib = 0; ib < QK_K / block_size; ++ib) {
      const float* xb = xbl + block_size * ib;
      block_weights(xb, ibl, ib, sigma2);
      float max = std::fabs(xb[0]);
      for (int i = 1; i < block_size; ++i) max = max_(max, std::fabs(xb[i]));
      if (max < GROUP_MAX_EPS_IQ1_M) {
        scales[ib] = 0;
        shifts[ib] = 0;
        std::memset(L, 1, block_size);
        continue;
      }
      sorted_indices<block_size>(xb, idx);
      float best_score = -kFltMax, scale = max;
      int besti1 = -1, besti2 = -1, best_k = -1;
      for (int i1 = 0; i1 <= block_size; ++i1) {
        for (int i2 = i1; i2 <= block_size; ++i2) {
          std::memset(sumqx, 0, sizeof sumqx);
          std::memset(sumq2, 0, sizeof sumq2);
          for (int j = 0; j < i1; ++j) add(idx[j], xb, 0);
          for (int j = i1; j < i2; ++j) add(idx[j], xb, 1);
          for (int j = i2; j < block_size; ++j) add(idx[j], xb, 2);
          for (int k = 0; k < 4; ++k) {
            if (sumq2[k] > 0 && sumqx[k] * sumqx[k] > best_score * sumq2[k]) {
              scale = sumqx[k] / sumq2[k];
              best_score = scale * sumqx[k];
              besti1 = i1;
              besti2 = i2;
              best_k = k;
            }
          }
        }
      }
      if (besti1 < 0 || besti2 < 0 || best_k < 0) {
        scales[ib] = 0;
        shifts[ib] = 0;
        std::memset(L, 1, block_size);
        continue;
      }
      for (int j = 0; j < besti1; ++j) L[idx[j]] = 0;
      for (int j = besti1; j < besti2; ++j) L[idx[j]] = 1;
      for (int j = besti2; j < block_size; ++j) L[idx[j]] = 2;
      if (scale < 0) {
        for (int j = 0; j < block_size; ++j) L[j] = static_cast<int8_t>(2 - L[j]);
        scale = -scale;
        best_k = best_k == 0 ? 3 : best_k == 1 ? 2 : best_k == 2 ? 1 : 0;
      }
      bool all_on_grid = true;
      for (int k = 0; k < block_size / 8; ++k) {
        if (k == 0)
          xx = best_k < 2 ? x_p : x_m;
        else
          xx = best_k % 2 == 0 ? x_p : x_m;
        const uint16_t u = cube_index(L + 8 * k);
        int grid_index = g.map[u];
        if (grid_index < 0) {
          all_on_grid = false;
          grid_index = find_best_neighbour2(kName, g.neighbours_of(u), g, xb + 8 * k, weight + 8 * k, scale, xx,
                                            L + 8 * k, 2048);
        }
        index[k] = static_cast<uint16_t>(grid_index);
      }
      if (!all_on_grid) {
        float sumqx_f = 0, sumq2_f = 0;
        for (int k = 0; k < block_size / 8; ++k) {
          if (k == 0)
            xx = best_k < 2 ? x_p : x_m;
          else
            xx = best_k % 2 == 0 ? x_p : x_m;
          const int8_t* pg = g.point(index[k]);
          for (int j = 0; j < 8; ++j) {
            float w = weight[8 * k + j];
            float q = xx[(pg[j] - 1) / 2];
            sumqx_f += w * q * xb[8 * k + j];
            sumq2_f += w * q * q;
          }
        }
        if (sumqx_f > 0 && sumq2_f > 0) scale = sumqx_f / sumq2_f;
      }
      y[ibl].qs[2 * ib + 0] = static_cast<uint8_t>(index[0] & 255);
      y[ibl].qs[2 * ib + 1] = static_cast<uint8_t>(index[1] & 255);
      y[ibl].qh[ib] = static_cast<uint8_t>((index[0] >> 8) | ((index[1] >> 8) << 4));
      if (!(scale >= 0)) fail_iq_overflow(kName);
      scales[ib] = scale;
      shifts[ib] = static_cast<int8_t>(best_k);
      max_scale = max_(max_scale, scale);
    }
    if (!max_scale) continue;
    uint16_t sc[4];
    std::memcpy(sc, y[ibl].scales, sizeof sc);
    float d = max_scale / 15;
    float id = 1 / d;
    float sumqx_f = 0, sumq2_f = 0;
    for (int ib = 0; ib < QK_K / block_size; ++ib) {
      int l = nearest_int(0.5f * (id * scales[ib + 0] - 1));
      l = max_(0, min_(7, l));
      sc[ib / 4] = static_cast<uint16_t>(sc[ib / 4] | (l << 3 * (ib % 4)));
      y[ibl].qh[ib] |= masks[shifts[ib]];
      const float* xb = xbl + block_size * ib;
      block_weights(xb, ibl, ib, sigma2);
      for (int k = 0; k < block_size / 8; ++k) {
        if (k == 0)
          xx = shifts[ib] < 2 ? x_p : x_m;
        else
          xx = shifts[ib] % 2 == 0 ? x_p : x_m;
        const int8_t* pg = g.point(y[ibl].qs[2 * ib + k] + ((y[ibl].qh[ib] << (8 - 4 * k)) & 0x700));
        for (int j = 0; j < 8; ++j) {
          float w = weight[8 * k + j];
          float q = xx[(pg[j] - 1) / 2] * (2 * l + 1);
          sumqx_f += w * q * xb[8 * k + j];
          sumq2_f += w * q * q;
        }
      }
    }
    if (sumq2_f > 0) d = sumqx_f / sumq2_f;
    const uint16_t s = fp32_to_fp16(d * 1.1125f);
    sc[0] = static_cast<uint16_t>(sc[0] | ((s & 0x000f) << 12));
    sc[1] = static_cast<uint16_t>(sc[1] | ((s & 0x00f0) << 8));
    sc[2] = static_cast<uint16_t>(sc[2] | ((s & 0x0f00) << 4));
    sc[3] = static_cast<uint16_t>(sc[3] | ((s & 0xf000) << 0));
    std::memcpy(y[ibl].scales, sc, sizeof sc);
  }
}

void dequantize_row_iq1_s(const block_iq1_s* x, float* y, int64_t k) {
  const DequantGrids& G = dequant_grids();
  const int64_t nb = k / QK_K;
  for (int64_t i = 0; i < nb; i++) {
    const float d = fp16_to_fp32(x[i].d);
    const uint8_t* qs = x[i].qs;
    const uint16_t* qh = x[i].qh;
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      const float dl = d * (2 * ((qh[ib] >> 12) & 7) + 1);
      const float delta = qh[ib] & 0x8000 ? -IQ1S_DELTA : IQ1S_DELTA;
      for (int l = 0; l < 4; ++l) {
        const int8_t* grid = G.iq1s[qs[l] | (((qh[ib] >> 3 * l) & 7) << 8)];
        for (int j = 0; j < 8; ++j) y[j] = dl * (grid[j] + delta);
        y += 8;
      }
      qs += 4;
    }
  }
}

void dequantize_row_iq1_m(const block_iq1_m* x, float* y, int64_t k) {
  const DequantGrids& G = dequant_grids();
  const int64_t nb = k / QK_K;
  float delta[4];
  uint16_t idx[4];
  for (int64_t i = 0; i < nb; i++) {
    uint16_t sc[4];
    std::memcpy(sc, x[i].scales, sizeof sc);
    const uint16_t scale_u16 =
        static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
    const float d = fp16_to_fp32(scale_u16);
    const uint8_t* qs = x[i].qs;
    const uint8_t* qh = x[i].qh;
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      const float dl1 = d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 0)) & 0x7) + 1);
      const float dl2 = d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 0x7) + 1);
      idx[0] = static_cast<uint16_t>(qs[0] | ((qh[0] << 8) & 0x700));
      idx[1] = static_cast<uint16_t>(qs[1] | ((qh[0] << 4) & 0x700));
      idx[2] = static_cast<uint16_t>(qs[2] | ((qh[1] << 8) & 0x700));
      idx[3] = static_cast<uint16_t>(qs[3] | ((qh[1] << 4) & 0x700));
      delta[0] = qh[0] & 0x08 ? -IQ1S_DELTA : IQ1S_DELTA;
      delta[1] = qh[0] & 0x80 ? -IQ1S_DELTA : IQ1S_DELTA;
      delta[2] = qh[1] & 0x08 ? -IQ1S_DELTA : IQ1S_DELTA;
      delta[3] = qh[1] & 0x80 ? -IQ1S_DELTA : IQ1S_DELTA;
      for (int l = 0; l < 2; ++l) {
        const int8_t* grid = G.iq1s[idx[l]];
        for (int j = 0; j < 8; ++j) y[j] = dl1 * (grid[j] + delta[l]);
        y += 8;
      }
      for (int l = 2; l < 4; ++l) {
        const int8_t* grid = G.iq1s[idx[l]];
        for (int j = 0; j < 8; ++j) y[j] = dl2 * (grid[j] + delta[l]);
        y += 8;
      }
      qs += 4;
      qh += 2;
    }
  }
}

}  // namespace squint::ggml
