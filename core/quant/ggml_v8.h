#pragma once
// Eight lanes of float / int (GCC/clang vector extensions: AVX2 here, two v128 in wasm, scalar elsewhere) for
// the ggml port's searches. Every lane does exactly the scalar code's IEEE operations in the same order (no FMA:
// -ffp-contract=off), so a lane computes what ggml's scalar loop computes for that element or candidate.
#include <cstdint>
#include <cstring>

namespace squint::ggml {

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
  const v8i below = l<splat_i(lo), above = l> splat_i(hi);
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

}  // namespace squint::ggml
