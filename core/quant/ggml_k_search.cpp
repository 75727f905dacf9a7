// The scale searches of ggml's K-quants (ggml-quants.c: make_qx_quants, make_q3_quants, make_qkx2_quants,
// make_qkx3_quants, make_qp_quants), shared by the K types, the importance-weighted 32-block types and the IQ
// types. Transcribed statement by statement: they compare float errors, so any reordering changes the choice.
#include "quant/ggml_impl.h"
#include "quant/ggml_v8.h"
#include "util/error.h"

namespace squint::ggml {
namespace {

[[noreturn]] void fail_nstep() { fail("internal error: make_qkx_quants with more than 40 steps"); }

}  // namespace

float make_qx_quants(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* qw) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
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
    return qw               ? qw[i]
           : rmse_type == 1 ? x[i] * x[i]
           : rmse_type == 2 ? 1
           : rmse_type == 3 ? std::fabs(x[i])
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
  float wt[QK_K];                                                    // n <= QK_K
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
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
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

float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min, uint8_t* Laux,
                       float rmin, float rdelta, int nstep, bool use_mad) {
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
  constexpr int kVec = 5;  // up to 40 candidates: make_qkx3_quants tries 37
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

float make_qkx3_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min, uint8_t* Laux,
                       float rmin, float rdelta, int nstep, bool use_mad) {
  // ggml's make_qkx3_quants is make_qkx2_quants with weights defaulting to x² (every caller passes them) and
  // `max <= min` instead of `max == min` for the constant block (the same, since min <= max after min > 0 -> 0,
  // and both are false for a NaN first element).
  if (!weights) fail("internal error: make_qkx3_quants without weights");
  return make_qkx2_quants(n, nmax, x, weights, L, the_min, Laux, rmin, rdelta, nstep, use_mad);
}

float make_qp_quants(int n, int nmax, const float* x, uint8_t* L, const float* quant_weights) {
  float max = 0;
  for (int i = 0; i < n; ++i) max = max_(max, x[i]);
  if (max < GROUP_MAX_EPS) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  float iscale = nmax / max;
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(nearest_int(iscale * x[i]));
  float scale = 1 / iscale;
  float best_mse = 0;
  for (int i = 0; i < n; ++i) {
    float diff = x[i] - scale * L[i];
    float w = quant_weights[i];
    best_mse += w * diff * diff;
  }
  for (int is = -4; is <= 4; ++is) {
    if (is == 0) continue;
    float iscale_is = (0.1f * is + nmax) / max;
    float scale_is = 1 / iscale_is;
    float mse = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale_is * x[i]);
      l = min_(nmax, l);
      float diff = x[i] - scale_is * l;
      float w = quant_weights[i];
      mse += w * diff * diff;
    }
    if (mse < best_mse) {
      best_mse = mse;
      iscale = iscale_is;
    }
  }
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(iscale * x[i]);
    l = min_(nmax, l);
    L[i] = static_cast<uint8_t>(l);
    float w = quant_weights[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      float w = quant_weights[i];
      float slx = sumlx - w * x[i] * L[i];
      float sl2 = suml2 - w * L[i] * L[i];
      if (slx > 0 && sl2 > 0) {
        int new_l = nearest_int(x[i] * sl2 / slx);
        new_l = min_(nmax, new_l);
        if (new_l != L[i]) {
          slx += w * x[i] * new_l;
          sl2 += w * new_l * new_l;
          if (slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = static_cast<uint8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (!n_changed) break;
  }
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

}  // namespace squint::ggml
