#pragma once
// An 8-lane float vector for the hot per-group loops. AVX2 natively, two v128 under wasm SIMD128 (Eigen has
// no wasm SIMD path), plain arrays elsewhere. Every reduction is done in one fixed lane order so that native
// and wasm results are bit-identical.
#include <cstdint>

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

namespace squint::simd {

#if defined(__AVX2__)
struct F8 {
  __m256 v;
};
inline F8 load(const float* p) { return {_mm256_loadu_ps(p)}; }
inline F8 set1(float x) { return {_mm256_set1_ps(x)}; }
inline F8 operator+(F8 a, F8 b) { return {_mm256_add_ps(a.v, b.v)}; }
inline F8 operator-(F8 a, F8 b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline F8 operator*(F8 a, F8 b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline F8 operator/(F8 a, F8 b) { return {_mm256_div_ps(a.v, b.v)}; }
inline F8 min(F8 a, F8 b) { return {_mm256_min_ps(a.v, b.v)}; }
inline F8 max(F8 a, F8 b) { return {_mm256_max_ps(a.v, b.v)}; }
// Round half to even; callers only pass values already clamped to [0, 255].
inline F8 round_even(F8 a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline void store(float* p, F8 a) { _mm256_storeu_ps(p, a.v); }
#elif defined(__wasm_simd128__)
struct F8 {
  v128_t a, b;
};
inline F8 load(const float* p) { return {wasm_v128_load(p), wasm_v128_load(p + 4)}; }
inline F8 set1(float x) { return {wasm_f32x4_splat(x), wasm_f32x4_splat(x)}; }
inline F8 operator+(F8 x, F8 y) { return {wasm_f32x4_add(x.a, y.a), wasm_f32x4_add(x.b, y.b)}; }
inline F8 operator-(F8 x, F8 y) { return {wasm_f32x4_sub(x.a, y.a), wasm_f32x4_sub(x.b, y.b)}; }
inline F8 operator*(F8 x, F8 y) { return {wasm_f32x4_mul(x.a, y.a), wasm_f32x4_mul(x.b, y.b)}; }
inline F8 operator/(F8 x, F8 y) { return {wasm_f32x4_div(x.a, y.a), wasm_f32x4_div(x.b, y.b)}; }
// pmin/pmax are x86's minps/maxps semantics: one instruction each on x86 hosts.
inline F8 min(F8 x, F8 y) { return {wasm_f32x4_pmin(x.a, y.a), wasm_f32x4_pmin(x.b, y.b)}; }
inline F8 max(F8 x, F8 y) { return {wasm_f32x4_pmax(x.a, y.a), wasm_f32x4_pmax(x.b, y.b)}; }
inline F8 round_even(F8 x) { return {wasm_f32x4_nearest(x.a), wasm_f32x4_nearest(x.b)}; }
inline void store(float* p, F8 x) {
  wasm_v128_store(p, x.a);
  wasm_v128_store(p + 4, x.b);
}
#else
struct F8 {
  float v[8];
};
inline F8 load(const float* p) {
  F8 r;
  for (int i = 0; i < 8; ++i) r.v[i] = p[i];
  return r;
}
inline F8 set1(float x) {
  F8 r;
  for (int i = 0; i < 8; ++i) r.v[i] = x;
  return r;
}
#define SQUINT_F8_BINOP(op)                                   \
  inline F8 operator op(F8 a, F8 b) {                         \
    F8 r;                                                     \
    for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] op b.v[i];    \
    return r;                                                 \
  }
SQUINT_F8_BINOP(+)
SQUINT_F8_BINOP(-)
SQUINT_F8_BINOP(*)
SQUINT_F8_BINOP(/)
#undef SQUINT_F8_BINOP
inline F8 min(F8 a, F8 b) {
  F8 r;
  for (int i = 0; i < 8; ++i) r.v[i] = b.v[i] < a.v[i] ? b.v[i] : a.v[i];
  return r;
}
inline F8 max(F8 a, F8 b) {
  F8 r;
  for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] < b.v[i] ? b.v[i] : a.v[i];
  return r;
}
inline F8 round_even(F8 a) {
  F8 r;
  for (int i = 0; i < 8; ++i) r.v[i] = (a.v[i] + 12582912.0f) - 12582912.0f;
  return r;
}
inline void store(float* p, F8 a) {
  for (int i = 0; i < 8; ++i) p[i] = a.v[i];
}
#endif

// Fixed-order horizontal reductions (identical on every build).
inline float hsum(F8 a) {
  alignas(32) float t[8];
  store(t, a);
  return ((t[0] + t[4]) + (t[1] + t[5])) + ((t[2] + t[6]) + (t[3] + t[7]));
}
inline float hmin(F8 a) {
  alignas(32) float t[8];
  store(t, a);
  float m = t[0];
  for (int i = 1; i < 8; ++i) m = t[i] < m ? t[i] : m;
  return m;
}
inline float hmax(F8 a) {
  alignas(32) float t[8];
  store(t, a);
  float m = t[0];
  for (int i = 1; i < 8; ++i) m = m < t[i] ? t[i] : m;
  return m;
}

}  // namespace squint::simd
