// ggml's non-linear 4-bit types IQ4_NL (32-blocks) and IQ4_XS (256 super-blocks with 6-bit block scales):
// quantize_row_iq4_nl_impl with ntry = 7, with or without importance weights, as ggml_quantize_chunk calls it
// through quantize_iq4_nl / quantize_iq4_xs (not the ntry = -1 `_ref` variant), and dequantize_row_iq4_*. The
// impl's per-32-block scale search (identical for both types) is iq4_block_scale, run across its 16
// candidate scales at once; the analysis computes it once per block for both types (iq4_block_scales).
#include "quant/ggml_impl.h"
#include "quant/ggml_v8.h"

namespace squint::ggml {
namespace {

constexpr int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// ggml's scalar search, which the vector code below reproduces lane by lane.
[[maybe_unused]] inline int best_index_int8(int n, const int8_t* val, float x) {
  if (x <= val[0]) return 0;
  if (x >= val[n - 1]) return n - 1;
  int ml = 0, mu = n - 1;
  while (mu - ml > 1) {
    int mav = (ml + mu) / 2;
    if (x < val[mav]) mu = mav; else ml = mav;
  }
  return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

inline v8f sel(v8i m, v8f a, v8f b) { return reinterpret_cast<v8f>((m & reinterpret_cast<v8i>(a)) | (~m & reinterpret_cast<v8i>(b))); }

// values[best_index_int8(16, values, al)] per lane, branch-free: lo = the largest value <= al (values[0] if
// none), hi = the smallest value > al (values[15] if none); then the scalar tie rule on (lo, hi). At the
// ends this gives values[0] / values[15] exactly as the early returns do (al - lo <= 0 < hi - al, resp.
// hi - al <= 0 < al - lo).
inline v8f nearest_value(v8f al, const float* vf) {
  v8f lo = splat(vf[0]), hi = splat(vf[15]);
  for (int k = 1; k < 15; ++k) lo = sel(splat(vf[k]) <= al, splat(vf[k]), lo);
  for (int k = 14; k >= 1; --k) hi = sel(splat(vf[k]) > al, splat(vf[k]), hi);
  return sel((al - lo) < (hi - al), lo, hi);  // NaN: hi = values[15], as the scalar search ends
}

// best_index_int8(16, values, id * x[j]) for j < n (a multiple of 8), eight at a time: the index of lo (the
// count of values[1..14] <= al) or of hi, with the scalar tie rule; at the ends this is 0 / 15 as the early
// returns give (see nearest_value), and 15 for NaN (a NaN scale: inputs near FLT_MAX overflow x²).
inline void best_indices(const float* x, float id, int n, const float* vf, uint8_t* L) {
  for (int j = 0; j < n; j += 8) {
    v8f xv;
    std::memcpy(&xv, x + j, sizeof xv);
    const v8f al = splat(id) * xv;
    v8f lo = splat(vf[0]), hi = splat(vf[15]);
    v8i cnt = v8i{0, 0, 0, 0, 0, 0, 0, 0};
    for (int k = 1; k < 15; ++k) {
      const v8i le = splat(vf[k]) <= al;
      lo = sel(le, splat(vf[k]), lo);
      cnt -= le;  // masks are -1
    }
    for (int k = 14; k >= 1; --k) hi = sel(splat(vf[k]) > al, splat(vf[k]), hi);
    const v8i take_hi = ~((al - lo) < (hi - al));
    const v8i nan = al != al;  // the scalar search ends at the top for NaN (every comparison false)
    const v8i idx = (nan & splat_i(15)) | (~nan & (cnt - take_hi));  // + 1 where hi wins
    for (int t = 0; t < 8; ++t) L[j + t] = static_cast<uint8_t>(idx[t]);
  }
}

// The scale of one 32-block as quantize_row_iq4_nl_impl's first loop finds it (ntry = 7) with the block's
// weights (iq4_weights): the first guess and the 15 tries are independent sums, so they run as 16 lanes
// (each lane summing its own terms in the scalar order), and the choice is then made in the scalar order.
// 0 for a block below GROUP_MAX_EPS. Shared by IQ4_NL and IQ4_XS (the same search on the same blocks).
float iq4_block_scale(const float* xb, const float* weight, const int8_t* values) {
  constexpr int kBlock = 32, kTry = 7;
  float amax = 0, max = 0;
  for (int j = 0; j < kBlock; ++j) {
    float ax = std::fabs(xb[j]);
    if (ax > amax) { amax = ax; max = xb[j]; }
  }
  if (amax < GROUP_MAX_EPS) return 0;
  float vf[16];
  for (int k = 0; k < 16; ++k) vf[k] = values[k];
  float ids[16];
  const float d0 = -max / values[0];
  ids[0] = 1 / d0;
  for (int itry = -kTry; itry <= kTry; ++itry) ids[itry + kTry + 1] = (itry + values[0]) / max;
  v8f id_lo, id_hi, sqx_lo = splat(0), sqx_hi = splat(0), sq2_lo = splat(0), sq2_hi = splat(0);
  std::memcpy(&id_lo, ids, sizeof id_lo);
  std::memcpy(&id_hi, ids + 8, sizeof id_hi);
  for (int j = 0; j < kBlock; ++j) {
    const v8f x = splat(xb[j]), w = splat(weight[j]);
    const v8f qa = nearest_value(id_lo * x, vf), qb = nearest_value(id_hi * x, vf);
    const v8f wqa = w * qa, wqb = w * qb;
    sqx_lo += wqa * x;
    sqx_hi += wqb * x;
    sq2_lo += wqa * qa;
    sq2_hi += wqb * qb;
  }
  float sumqx[16], sumq2[16];
  std::memcpy(sumqx, &sqx_lo, 32);
  std::memcpy(sumqx + 8, &sqx_hi, 32);
  std::memcpy(sumq2, &sq2_lo, 32);
  std::memcpy(sumq2 + 8, &sq2_hi, 32);
  float d = sumq2[0] > 0 ? sumqx[0] / sumq2[0] : 0.f;
  float best = d * sumqx[0];
  for (int t = 1; t < 16; ++t)
    if (sumq2[t] > 0 && sumqx[t] * sumqx[t] > best * sumq2[t]) {
      d = sumqx[t] / sumq2[t];
      best = d * sumqx[t];
    }
  return d;
}

// quantize_row_iq4_nl_impl's weights of one 32-block: x² without importance weights, else qw·sqrt(σ² + x²)
// with σ² = 2·mean(x²) over the super-block (32 elements for IQ4_NL, 256 for IQ4_XS).
void iq4_weights(const float* xb, const float* qw, float sigma2, float* weight) {
  if (qw) {
    for (int j = 0; j < 32; ++j) weight[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
  } else {
    for (int j = 0; j < 32; ++j) weight[j] = xb[j] * xb[j];
  }
}

float iq4_sigma2(const float* x, int super_block_size) {
  float sigma2 = 0;
  for (int j = 0; j < super_block_size; ++j) sigma2 += x[j] * x[j];
  sigma2 *= 2.f / super_block_size;
  return sigma2;
}

// The rest of quantize_row_iq4_nl_impl for one 256-super-block of IQ4_XS, from its eight block scales.
void iq4_xs_finish(const float* x, const float* scales, block_iq4_xs* y, const int8_t* values) {
  constexpr int nb = QK_K / 32;
  uint8_t L[QK_K];
  float max_scale = 0, amax_scale = 0;
  for (int ib = 0; ib < nb; ++ib) {
    float abs_d = std::fabs(scales[ib]);
    if (abs_d > amax_scale) { amax_scale = abs_d; max_scale = scales[ib]; }
  }
  float vf[16];
  for (int k = 0; k < 16; ++k) vf[k] = values[k];
  std::memset(y->qs, 0, QK_K / 2);
  y->scales_h = 0;
  float d = -max_scale / 32;
  y->d = fp32_to_fp16(d);
  float id = d ? 1 / d : 0.f;
  for (int ib = 0; ib < nb; ++ib) {
    int l = nearest_int(id * scales[ib]);
    l = max_(-32, min_(31, l));
    float dl = d * l;
    float idl = dl ? 1 / dl : 0.f;
    uint8_t* Lb = L + ib * 32;
    const float* xb = x + ib * 32;
    best_indices(xb, idl, 32, vf, Lb);
    l += 32;
    uint8_t l_l = l & 0xf;
    uint8_t l_h = static_cast<uint8_t>(l >> 4);
    if (ib % 2 == 0) y->scales_l[ib / 2] = l_l;
    else y->scales_l[ib / 2] |= static_cast<uint8_t>(l_l << 4);
    y->scales_h |= static_cast<uint16_t>(l_h << 2 * (ib % 8));
  }
  for (int i = 0; i < QK_K / 32; ++i)
    for (int j = 0; j < 16; ++j) y->qs[16 * i + j] = static_cast<uint8_t>(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

// IQ4_NL's one-block super-block: d = the block scale, codes from 1/d.
void iq4_nl_finish(const float* x, float scale, block_iq4_nl* y, const int8_t* values) {
  uint8_t L[QK4_NL];
  y->d = fp32_to_fp16(scale);
  float id = scale ? 1 / scale : 0;
  float vf[16];
  for (int k = 0; k < 16; ++k) vf[k] = values[k];
  best_indices(x, id, QK4_NL, vf, L);
  for (int j = 0; j < 16; ++j) y->qs[j] = static_cast<uint8_t>(L[j] | (L[16 + j] << 4));
}

}  // namespace

void iq4_block_scales(const float* x, float* scales, int64_t n) {
  float weight[32];
  for (int64_t ib = 0; ib < n / 32; ++ib) {
    iq4_weights(x + 32 * ib, nullptr, 0.f, weight);
    scales[ib] = iq4_block_scale(x + 32 * ib, weight, kvalues_iq4nl);
  }
}

void quantize_row_iq4_nl_scaled(const float* x, const float* scales, block_iq4_nl* y, int64_t n_per_row) {
  for (int64_t ibl = 0; ibl < n_per_row / QK4_NL; ++ibl) iq4_nl_finish(x + QK4_NL * ibl, scales[ibl], y + ibl, kvalues_iq4nl);
}

void quantize_row_iq4_xs_scaled(const float* x, const float* scales, block_iq4_xs* y, int64_t n_per_row) {
  for (int64_t ibl = 0; ibl < n_per_row / QK_K; ++ibl) iq4_xs_finish(x + QK_K * ibl, scales + ibl * (QK_K / 32), y + ibl, kvalues_iq4nl);
}

void quantize_row_iq4_nl(const float* x, block_iq4_nl* y, int64_t n_per_row, const float* qw) {
  float weight[32];
  for (int64_t ibl = 0; ibl < n_per_row / QK4_NL; ++ibl) {
    const float* xb = x + QK4_NL * ibl;
    iq4_weights(xb, qw ? qw + QK4_NL * ibl : nullptr, qw ? iq4_sigma2(xb, QK4_NL) : 0.f, weight);
    iq4_nl_finish(xb, iq4_block_scale(xb, weight, kvalues_iq4nl), y + ibl, kvalues_iq4nl);
  }
}

void quantize_row_iq4_xs(const float* x, block_iq4_xs* y, int64_t n_per_row, const float* qw) {
  float scales[QK_K / 32], weight[32];
  for (int64_t ibl = 0; ibl < n_per_row / QK_K; ++ibl) {
    const float* xs = x + QK_K * ibl;
    const float sigma2 = qw ? iq4_sigma2(xs, QK_K) : 0.f;
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      iq4_weights(xs + 32 * ib, qw ? qw + QK_K * ibl + 32 * ib : nullptr, sigma2, weight);
      scales[ib] = iq4_block_scale(xs + 32 * ib, weight, kvalues_iq4nl);
    }
    iq4_xs_finish(x + QK_K * ibl, scales, y + ibl, kvalues_iq4nl);
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
