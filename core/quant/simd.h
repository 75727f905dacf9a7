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

// The kernel this build compiled (shown by `squint --version`; results are identical on all three).
#if defined(__AVX2__)
inline constexpr const char* kLevel = "AVX2";
#elif defined(__wasm_simd128__)
inline constexpr const char* kLevel = "wasm SIMD128";
#else
inline constexpr const char* kLevel = "scalar";
#endif

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
// Round half to even (any magnitude).
inline F8 round_even(F8 a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline void store(float* p, F8 a) { _mm256_storeu_ps(p, a.v); }
inline F8 abs(F8 a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)}; }
// Masks are all-ones lanes; select(m, a, b) = m ? a : b.
inline F8 lt(F8 a, F8 b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
inline F8 ne(F8 a, F8 b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_NEQ_UQ)}; }
inline F8 select(F8 m, F8 a, F8 b) { return {_mm256_blendv_ps(b.v, a.v, m.v)}; }
#define SQUINT_F8_HAS_F16C 1
#define SQUINT_F8_HAS_BF16 1
// Round to nearest even bfloat16 (finite inputs), as f32_to_bf16 does.
inline F8 round_to_bf16(F8 a) {
  const __m256i u = _mm256_castps_si256(a.v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i r = _mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff)));
  return {_mm256_castsi256_ps(_mm256_and_si256(r, _mm256_set1_epi32(static_cast<int>(0xffff0000u))))};
}
inline F8 round_to_f16(F8 a) {
  return {_mm256_cvtph_ps(_mm256_cvtps_ph(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC))};
}
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
inline F8 abs(F8 x) { return {wasm_f32x4_abs(x.a), wasm_f32x4_abs(x.b)}; }
inline F8 lt(F8 x, F8 y) { return {wasm_f32x4_lt(x.a, y.a), wasm_f32x4_lt(x.b, y.b)}; }
inline F8 ne(F8 x, F8 y) { return {wasm_f32x4_ne(x.a, y.a), wasm_f32x4_ne(x.b, y.b)}; }
inline F8 select(F8 m, F8 x, F8 y) { return {wasm_v128_bitselect(x.a, y.a, m.a), wasm_v128_bitselect(x.b, y.b, m.b)}; }
#define SQUINT_F8_HAS_BF16 1
inline v128_t bf16_round4(v128_t u) {
  const v128_t lsb = wasm_v128_and(wasm_u32x4_shr(u, 16), wasm_i32x4_splat(1));
  const v128_t r = wasm_i32x4_add(u, wasm_i32x4_add(lsb, wasm_i32x4_splat(0x7fff)));
  return wasm_v128_and(r, wasm_i32x4_splat(static_cast<int>(0xffff0000u)));
}
inline F8 round_to_bf16(F8 x) { return {bf16_round4(x.a), bf16_round4(x.b)}; }
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
  for (int i = 0; i < 8; ++i) r.v[i] = __builtin_rintf(a.v[i]);
  return r;
}
inline void store(float* p, F8 a) {
  for (int i = 0; i < 8; ++i) p[i] = a.v[i];
}
inline F8 abs(F8 a) {
  F8 r;
  for (int i = 0; i < 8; ++i) r.v[i] = __builtin_fabsf(a.v[i]);
  return r;
}
inline float mask_of(bool b) {
  uint32_t u = b ? 0xffffffffu : 0u;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
inline F8 lt(F8 a, F8 b) {
  F8 r;
  for (int i = 0; i < 8; ++i) r.v[i] = mask_of(a.v[i] < b.v[i]);
  return r;
}
inline F8 ne(F8 a, F8 b) {
  F8 r;
  for (int i = 0; i < 8; ++i) r.v[i] = mask_of(a.v[i] != b.v[i]);
  return r;
}
inline F8 select(F8 m, F8 a, F8 b) {
  F8 r;
  for (int i = 0; i < 8; ++i) {
    uint32_t u;
    __builtin_memcpy(&u, &m.v[i], 4);
    r.v[i] = u ? a.v[i] : b.v[i];
  }
  return r;
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
