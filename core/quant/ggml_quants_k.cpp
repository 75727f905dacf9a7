// ggml's 256-element super-block types Q2_K..Q6_K: quantize_row_*_ref (with the helpers make_qx_quants,
// make_q3_quants, make_qkx2_quants) and dequantize_row_* from ggml-quants.c, transcribed statement by
// statement: the searches compare float errors, so any reordering would change chosen scales.
#include "quant/ggml_impl.h"

#include "util/error.h"

namespace squint::ggml {
namespace {


// Eight lanes of float / int (GCC/clang vector extensions: AVX2 here, two v128 in wasm, scalar elsewhere).
// Every lane does exactly the scalar code's IEEE operations in the same order (no FMA: -ffp-contract=off).
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
inline v8f splat(float s) { return v8f{s, s, s, s, s, s, s, s}; }
inline v8i splat_i(int32_t s) { return v8i{s, s, s, s, s, s, s, s}; }
// nearest_int per lane (the same float add and bit extraction).
inline v8i nearest_int_v(v8f f) {
  const v8i i = reinterpret_cast<v8i>(f + splat(12582912.f));
  return (i & splat_i(0x007fffff)) - splat_i(0x00400000);
}
inline v8i clamp_v(v8i l, int lo, int hi) {
  const v8i below = l < splat_i(lo), above = l > splat_i(hi);
  l = (below & splat_i(lo)) | (~below & l);
  return (above & splat_i(hi)) | (~above & l);
}
inline v8f abs_v(v8f a) { return reinterpret_cast<v8f>(reinterpret_cast<v8i>(a) & splat_i(0x7fffffff)); }
// L[i] = offset + clamp(nearest_int((x[i] (+ add)) / d), lo, hi) for i < n (a multiple of 8), eight at a time:
// the final re-quantization loops of the K types, the same IEEE operations per element.
template <bool kAdd, class T>
inline void requantize_v(const float* x, int n, float add, float d, int lo, int hi, int offset, T* L) {
  for (int i = 0; i < n; i += 8) {
    v8f xv;
    std::memcpy(&xv, x + i, sizeof xv);
    if constexpr (kAdd) xv = xv + splat(add);
    const v8i l = clamp_v(nearest_int_v(xv / splat(d)), lo, hi) + splat_i(offset);
    for (int t = 0; t < 8; ++t) L[i + t] = static_cast<T>(l[t]);
  }
}
[[noreturn]] void fail_nstep() { fail("internal error: make_qkx2_quants with more than 24 steps"); }

float make_qx_quants(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* qw) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    float ax = std::fabs(x[i]);
    if (ax > amax) { amax = ax; max = x[i]; }
  }
  if (amax < GROUP_MAX_EPS) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  float iscale = -nmax / max;
  if (rmse_type == 0) {
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * x[i]);
      L[i] = static_cast<int8_t>(nmax + max_(-nmax, min_(nmax - 1, l)));
    }
    return 1 / iscale;
  }
  bool return_early = false;
  if (rmse_type < 0) {
    rmse_type = -rmse_type;
    return_early = true;
  }
  auto weight = [&](int i) {
    return qw ? qw[i] : rmse_type == 1 ? x[i] * x[i] : rmse_type == 2 ? 1 : rmse_type == 3 ? std::fabs(x[i])
                                                                                            : std::sqrt(std::fabs(x[i]));
  };
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(iscale * x[i]);
    l = max_(-nmax, min_(nmax - 1, l));
    L[i] = static_cast<int8_t>(l + nmax);
    float w = weight(i);
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  if (return_early) return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
  float best = scale * sumlx;
  // The 18 tries depend only on max (fixed): they run as SIMD lanes (each summing in the scalar order) and
  // are compared in the scalar order; the accepted try's codes are recomputed as the scalar code does.
  constexpr int kTries = 18, kVec = 3;
  float isc[8 * kVec];
  for (int k = 0, is = -9; is <= 9; ++is)
    if (is != 0) isc[k++] = -(nmax + 0.1f * is) / max;
  for (int k = kTries; k < 8 * kVec; ++k) isc[k] = isc[kTries - 1];  // padding lanes, never chosen
  float wt[QK_K];  // n <= QK_K
  for (int i = 0; i < n; ++i) wt[i] = weight(i);
  v8f iv[kVec], slx[kVec], sl2[kVec];
  for (int h = 0; h < kVec; ++h) {
    std::memcpy(&iv[h], isc + 8 * h, sizeof(v8f));
    slx[h] = sl2[h] = splat(0.f);
  }
  for (int i = 0; i < n; ++i) {
    const v8f xi = splat(x[i]), w = splat(wt[i]), wx = w * xi;
    for (int h = 0; h < kVec; ++h) {
      const v8f fl = __builtin_convertvector(clamp_v(nearest_int_v(iv[h] * xi), -nmax, nmax - 1), v8f);
      slx[h] += wx * fl;
      sl2[h] += w * fl * fl;
    }
  }
  float sx[8 * kVec], s2[8 * kVec];
  for (int h = 0; h < kVec; ++h) {
    std::memcpy(sx + 8 * h, &slx[h], sizeof(v8f));
    std::memcpy(s2 + 8 * h, &sl2[h], sizeof(v8f));
  }
  for (int k = 0; k < kTries; ++k) {
    if (s2[k] > 0 && sx[k] * sx[k] > best * s2[k]) {
      iscale = isc[k];
      for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * x[i]);
        L[i] = static_cast<int8_t>(nmax + max_(-nmax, min_(nmax - 1, l)));
      }
      scale = sx[k] / s2[k];
      best = scale * sx[k];
    }
  }
  return scale;
}

float make_q3_quants(int n, int nmax, const float* x, int8_t* L, bool do_rmse) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    float ax = std::fabs(x[i]);
    if (ax > amax) { amax = ax; max = x[i]; }
  }
  if (amax < GROUP_MAX_EPS) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  float iscale = -nmax / max;
  if (do_rmse) {
    float sumlx = 0;
    float suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * x[i]);
      l = max_(-nmax, min_(nmax - 1, l));
      L[i] = static_cast<int8_t>(l);
      float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; ++itry) {
      int n_changed = 0;
      for (int i = 0; i < n; ++i) {
        float w = x[i] * x[i];
        float slx = sumlx - w * x[i] * L[i];
        if (slx > 0) {
          float sl2 = suml2 - w * L[i] * L[i];
          int new_l = nearest_int(x[i] * sl2 / slx);
          new_l = max_(-nmax, min_(nmax - 1, new_l));
          if (new_l != L[i]) {
            slx += w * x[i] * new_l;
            sl2 += w * new_l * new_l;
            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
              L[i] = static_cast<int8_t>(new_l);
              sumlx = slx;
              suml2 = sl2;
              ++n_changed;
            }
          }
        }
      }
      if (!n_changed) break;
    }
    for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
  }
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(iscale * x[i]);
    l = max_(-nmax, min_(nmax - 1, l));
    L[i] = static_cast<int8_t>(l + nmax);
  }
  return 1 / iscale;
}

float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                       uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad) {
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *the_min = -min;
    return 0.f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(max_(0, min_(nmax, l)));
    float diff = scale * L[i] + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    float w = weights[i];
    best_error += w * diff;
  }
  if (nstep < 1) {
    *the_min = -min;
    return scale;
  }
  // The candidate scales are least-squares fits that depend on each other only through `min`, which changes
  // when a candidate is accepted. So the remaining candidates run as SIMD lanes (each lane summing its terms
  // in the scalar order) with the current min, are compared in the scalar order, and after an acceptance the
  // ones after it are recomputed with the new min: the same sequence of computations as the scalar loop.
  constexpr int kVec = 3;
  if (nstep + 1 > 8 * kVec) fail_nstep();
  v8i laux[32][kVec];
  for (int start = 0; start <= nstep;) {
    const int cnt = nstep + 1 - start, nv = (cnt + 7) / 8;
    float isc[8 * kVec];
    for (int k = 0; k < 8 * nv; ++k) isc[k] = (rmin + rdelta * (start + min_(k, cnt - 1)) + nmax) / (max - min);
    v8f iv[kVec], sl[kVec], sl2[kVec], sxl[kVec];
    for (int h = 0; h < nv; ++h) {
      std::memcpy(&iv[h], isc + 8 * h, sizeof(v8f));
      sl[h] = sl2[h] = sxl[h] = splat(0.f);
    }
    for (int i = 0; i < n; ++i) {
      const v8f xm = splat(x[i] - min), w = splat(weights[i]), xi = splat(x[i]);
      for (int h = 0; h < nv; ++h) {
        const v8i l = clamp_v(nearest_int_v(iv[h] * xm), 0, nmax);
        laux[i][h] = l;
        const v8f fl = __builtin_convertvector(l, v8f), wl = w * fl;
        sl[h] += wl;
        sl2[h] += wl * fl;
        sxl[h] += wl * xi;
      }
    }
    float sum_l[8 * kVec], sum_l2[8 * kVec], sum_xl[8 * kVec], D[8 * kVec], ts[8 * kVec], tm[8 * kVec], err[8 * kVec];
    for (int h = 0; h < nv; ++h) {
      std::memcpy(sum_l + 8 * h, &sl[h], sizeof(v8f));
      std::memcpy(sum_l2 + 8 * h, &sl2[h], sizeof(v8f));
      std::memcpy(sum_xl + 8 * h, &sxl[h], sizeof(v8f));
    }
    for (int k = 0; k < 8 * nv; ++k) {
      D[k] = sum_w * sum_l2[k] - sum_l[k] * sum_l[k];
      float this_scale = (sum_w * sum_xl[k] - sum_x * sum_l[k]) / D[k];
      float this_min = (sum_l2[k] * sum_x - sum_l[k] * sum_xl[k]) / D[k];
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl[k] / sum_l2[k];
      }
      ts[k] = this_scale;
      tm[k] = this_min;
    }
    v8f ce[kVec], tsv[kVec], tmv[kVec];
    for (int h = 0; h < nv; ++h) {
      std::memcpy(&tsv[h], ts + 8 * h, sizeof(v8f));
      std::memcpy(&tmv[h], tm + 8 * h, sizeof(v8f));
      ce[h] = splat(0.f);
    }
    for (int i = 0; i < n; ++i) {
      const v8f w = splat(weights[i]), xi = splat(x[i]);
      for (int h = 0; h < nv; ++h) {
        v8f diff = tsv[h] * __builtin_convertvector(laux[i][h], v8f) + tmv[h] - xi;
        diff = use_mad ? abs_v(diff) : diff * diff;
        ce[h] += w * diff;
      }
    }
    for (int h = 0; h < nv; ++h) std::memcpy(err + 8 * h, &ce[h], sizeof(v8f));
    int accepted = -1;
    for (int k = 0; k < cnt; ++k) {
      if (D[k] > 0 && err[k] < best_error) {
        for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(laux[i][k / 8][k % 8]);
        best_error = err[k];
        scale = ts[k];
        const bool moved = !(tm[k] == min) || std::signbit(tm[k]) != std::signbit(min);
        min = tm[k];
        if (moved) {  // later candidates depend on min: recompute them
          accepted = k;
          break;
        }
      }
    }
    if (accepted < 0) break;
    start += accepted + 1;
  }
  (void)Laux;
  *the_min = -min;
  return scale;
}

inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

// Q4_K and Q5_K share the scale/min search and 6-bit scale packing; they differ in nmax and the search grid.
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
  for (int j = 0; j < QK_K / 32; ++j) {
    uint8_t ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));
    uint8_t lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
    ls = min_<uint8_t>(63, ls);
    lm = min_<uint8_t>(63, lm);
    if (j < 4) {
      y.scales[j] = ls;
      y.scales[j + 4] = lm;
    } else {
      y.scales[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      y.scales[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      y.scales[j - 0] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  y.d = fp32_to_fp16(max_scale / 63.f);
  y.dmin = fp32_to_fp16(max_min / 63.f);
  uint8_t sc, m;
  for (int j = 0; j < QK_K / 32; ++j) {
    get_scale_min_k4(j, y.scales, &sc, &m);
    const float d = fp16_to_fp32(y.d) * sc;
    if (!d) continue;
    const float dm = fp16_to_fp32(y.dmin) * m;
    requantize_v<true>(x + 32 * j, 32, dm, d, 0, nmax, 0, L + 32 * j);
  }
}

}  // namespace

void quantize_row_q2_K(const float* x, block_q2_K* y, int64_t k) {
  const int nb = static_cast<int>(k / QK_K);
  uint8_t L[QK_K];
  uint8_t Laux[16];
  float weights[16];
  float mins[QK_K / 16];
  float scales[QK_K / 16];
  const float q4scale = 15.f;
  for (int i = 0; i < nb; i++) {
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
        y[i].scales[j] = static_cast<uint8_t>(l);
      }
      y[i].d = fp32_to_fp16(max_scale / q4scale);
    } else {
      for (int j = 0; j < QK_K / 16; ++j) y[i].scales[j] = 0;
      y[i].d = fp32_to_fp16(0.f);
    }
    if (max_min > 0) {
      float iscale = q4scale / max_min;
      for (int j = 0; j < QK_K / 16; ++j) {
        int l = nearest_int(iscale * mins[j]);
        y[i].scales[j] |= static_cast<uint8_t>(l << 4);
      }
      y[i].dmin = fp32_to_fp16(max_min / q4scale);
    } else {
      y[i].dmin = fp32_to_fp16(0.f);
    }
    for (int j = 0; j < QK_K / 16; ++j) {
      const float d = fp16_to_fp32(y[i].d) * (y[i].scales[j] & 0xF);
      if (!d) continue;
      const float dm = fp16_to_fp32(y[i].dmin) * (y[i].scales[j] >> 4);
      requantize_v<true>(x + 16 * j, 16, dm, d, 0, 3, 0, L + 16 * j);
    }
    for (int j = 0; j < QK_K; j += 128) {
      for (int l = 0; l < 32; ++l) {
        y[i].qs[j / 4 + l] =
            static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
      }
    }
    x += QK_K;
  }
}

void quantize_row_q3_K(const float* x, block_q3_K* y, int64_t k) {
  const int nb = static_cast<int>(k / QK_K);
  int8_t L[QK_K];
  float scales[QK_K / 16];
  for (int i = 0; i < nb; i++) {
    float max_scale = 0;
    float amax = 0;
    for (int j = 0; j < QK_K / 16; ++j) {
      scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j, true);
      float scale = std::fabs(scales[j]);
      if (scale > amax) { amax = scale; max_scale = scales[j]; }
    }
    std::memset(y[i].scales, 0, 12);
    if (max_scale) {
      float iscale = -32.f / max_scale;
      for (int j = 0; j < QK_K / 16; ++j) {
        int8_t l = static_cast<int8_t>(nearest_int(iscale * scales[j]));
        l = static_cast<int8_t>(max_<int>(-32, min_<int>(31, l)) + 32);
        if (j < 8) {
          y[i].scales[j] = l & 0xF;
        } else {
          y[i].scales[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
        }
        l = static_cast<int8_t>(l >> 4);
        y[i].scales[j % 4 + 8] |= static_cast<uint8_t>(l << (2 * (j / 4)));
      }
      y[i].d = fp32_to_fp16(1 / iscale);
    } else {
      y[i].d = fp32_to_fp16(0.f);
    }
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
    for (int j = 0; j < QK_K; j += 128) {
      for (int l = 0; l < 32; ++l) {
        y[i].qs[j / 4 + l] =
            static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
      }
    }
    x += QK_K;
  }
}

void quantize_row_q4_K(const float* x, block_q4_K* y, int64_t k) {
  const int nb = static_cast<int>(k / QK_K);
  uint8_t L[QK_K];
  for (int i = 0; i < nb; i++) {
    quantize_k_scales(x, y[i], L, 15, -1.f, 20);
    uint8_t* q = y[i].qs;
    for (int j = 0; j < QK_K; j += 64) {
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
      q += 32;
    }
    x += QK_K;
  }
}

void quantize_row_q5_K(const float* x, block_q5_K* y, int64_t k) {
  const int nb = static_cast<int>(k / QK_K);
  uint8_t L[QK_K];
  for (int i = 0; i < nb; i++) {
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

void quantize_row_q6_K(const float* x, block_q6_K* y, int64_t k) {
  const int nb = static_cast<int>(k / QK_K);
  int8_t L[QK_K];
  float scales[QK_K / 16];
  for (int i = 0; i < nb; i++) {
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int ib = 0; ib < QK_K / 16; ++ib) {
      const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1, nullptr);
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
