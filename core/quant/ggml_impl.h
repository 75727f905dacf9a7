#pragma once
// Internals shared by the ggml port's files (not part of the API): ggml's own fp16 conversion, nearest_int
// and block layouts (ggml-common.h), and the per-type row kernels. Each kernel handles k elements (k a
// multiple of the block), like ggml's quantize_row_*_ref / dequantize_row_*.
#include <cmath>
#include <cstdint>
#include <cstring>

namespace squint::ggml {

constexpr int QK4_0 = 32, QK4_1 = 32, QK5_0 = 32, QK5_1 = 32, QK8_0 = 32, QK4_NL = 32, QK_K = 256;
constexpr float GROUP_MAX_EPS = 1e-15f;
constexpr float GROUP_MAX_EPS_IQ3_XXS = 1e-8f, GROUP_MAX_EPS_IQ2_S = 1e-8f, GROUP_MAX_EPS_IQ1_M = 1e-7f,
                GROUP_MAX_EPS_IQ1_S = 1e-12f;
constexpr float IQ1S_DELTA = 0.125f, IQ1M_DELTA = 0.125f;

inline float from_bits(uint32_t w) { float f; std::memcpy(&f, &w, 4); return f; }
inline uint32_t to_bits(float f) { uint32_t w; std::memcpy(&w, &f, 4); return w; }

// ggml_compute_fp32_to_fp16 (ggml-impl.h): round to nearest even via a magic-number add; NaN -> 0x7E00.
inline uint16_t fp32_to_fp16(float f) {
  const float scale_to_inf = 0x1.0p+112f;
  const float scale_to_zero = 0x1.0p-110f;
  float base = (std::fabs(f) * scale_to_inf) * scale_to_zero;
  const uint32_t w = to_bits(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & UINT32_C(0x80000000);
  uint32_t bias = shl1_w & UINT32_C(0xFF000000);
  if (bias < UINT32_C(0x71000000)) bias = UINT32_C(0x71000000);
  base = from_bits((bias >> 1) + UINT32_C(0x07800000)) + base;
  const uint32_t bits = to_bits(base);
  const uint32_t exp_bits = (bits >> 13) & UINT32_C(0x00007C00);
  const uint32_t mantissa_bits = bits & UINT32_C(0x00000FFF);
  const uint32_t nonsign = exp_bits + mantissa_bits;
  return static_cast<uint16_t>((sign >> 16) | (shl1_w > UINT32_C(0xFF000000) ? UINT16_C(0x7E00) : nonsign));
}

// ggml_compute_fp16_to_fp32.
inline float fp16_to_fp32(uint16_t h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & UINT32_C(0x80000000);
  const uint32_t two_w = w + w;
  const uint32_t exp_offset = UINT32_C(0xE0) << 23;
  const float exp_scale = 0x1.0p-112f;
  const float normalized_value = from_bits((two_w >> 4) + exp_offset) * exp_scale;
  const uint32_t magic_mask = UINT32_C(126) << 23;
  const float magic_bias = 0.5f;
  const float denormalized_value = from_bits((two_w >> 17) | magic_mask) - magic_bias;
  const uint32_t denormalized_cutoff = UINT32_C(1) << 27;
  const uint32_t result =
      sign | (two_w < denormalized_cutoff ? to_bits(denormalized_value) : to_bits(normalized_value));
  return from_bits(result);
}

// ggml's nearest_int: round half to even through the float mantissa (valid for |fval| <= 4194303; for
// larger inputs ggml's release build returns the same bit-trick value, and so does this).
inline int nearest_int(float fval) {
  float val = fval + 12582912.f;
  int i;
  std::memcpy(&i, &val, sizeof(int));
  return (i & 0x007fffff) - 0x00400000;
}

template <class T> inline T min_(T a, T b) { return a < b ? a : b; }
template <class T> inline T max_(T a, T b) { return a > b ? a : b; }

// ---- block layouts (ggml-common.h) ----
struct block_q4_0 { uint16_t d; uint8_t qs[QK4_0 / 2]; };
struct block_q4_1 { uint16_t d, m; uint8_t qs[QK4_1 / 2]; };
struct block_q5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; };
struct block_q5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; };
struct block_q8_0 { uint16_t d; int8_t qs[QK8_0]; };
struct block_q2_K { uint8_t scales[QK_K / 16]; uint8_t qs[QK_K / 4]; uint16_t d, dmin; };
struct block_q3_K { uint8_t hmask[QK_K / 8]; uint8_t qs[QK_K / 4]; uint8_t scales[12]; uint16_t d; };
struct block_q4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[QK_K / 2]; };
struct block_q5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; };
struct block_q6_K { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; uint16_t d; };
struct block_iq4_nl { uint16_t d; uint8_t qs[QK4_NL / 2]; };
struct block_iq4_xs { uint16_t d; uint16_t scales_h; uint8_t scales_l[QK_K / 64]; uint8_t qs[QK_K / 2]; };
struct block_iq2_xxs { uint16_t d; uint16_t qs[QK_K / 8]; };
struct block_iq2_xs { uint16_t d; uint16_t qs[QK_K / 8]; uint8_t scales[QK_K / 32]; };
struct block_iq2_s { uint16_t d; uint8_t qs[QK_K / 4]; uint8_t qh[QK_K / 32]; uint8_t scales[QK_K / 32]; };
struct block_iq3_xxs { uint16_t d; uint8_t qs[3 * QK_K / 8]; };
struct block_iq3_s { uint16_t d; uint8_t qs[QK_K / 4]; uint8_t qh[QK_K / 32]; uint8_t signs[QK_K / 8]; uint8_t scales[QK_K / 64]; };
struct block_iq1_s { uint16_t d; uint8_t qs[QK_K / 8]; uint16_t qh[QK_K / 32]; };
struct block_iq1_m { uint8_t qs[QK_K / 8]; uint8_t qh[QK_K / 16]; uint8_t scales[QK_K / 32]; };
static_assert(sizeof(block_iq2_xxs) == 66 && sizeof(block_iq2_xs) == 74 && sizeof(block_iq2_s) == 82 &&
              sizeof(block_iq3_xxs) == 98 && sizeof(block_iq3_s) == 110 && sizeof(block_iq1_s) == 50 &&
              sizeof(block_iq1_m) == 56, "IQ block layouts must match ggml-common.h");
static_assert(sizeof(block_q4_0) == 18 && sizeof(block_q4_1) == 20 && sizeof(block_q5_0) == 22 &&
              sizeof(block_q5_1) == 24 && sizeof(block_q8_0) == 34 && sizeof(block_q2_K) == 84 &&
              sizeof(block_q3_K) == 110 && sizeof(block_q4_K) == 144 && sizeof(block_q5_K) == 176 &&
              sizeof(block_q6_K) == 210 && sizeof(block_iq4_nl) == 18 && sizeof(block_iq4_xs) == 136,
              "block layouts must match ggml-common.h");

// ---- the scale searches (ggml_k_search.cpp) ----
float make_qx_quants(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* qw);
float make_q3_quants(int n, int nmax, const float* x, int8_t* L, bool do_rmse);
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min, uint8_t* Laux,
                       float rmin, float rdelta, int nstep, bool use_mad);
float make_qkx3_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min, uint8_t* Laux,
                       float rmin, float rdelta, int nstep, bool use_mad);
float make_qp_quants(int n, int nmax, const float* x, uint8_t* L, const float* quant_weights);

// ---- row kernels (ggml_quants_basic.cpp, ggml_quants_k.cpp, ggml_quants_iq4.cpp) ----
// qw: the importance weights of the row's columns (nullptr: none), as ggml_quantize_chunk passes them.
void quantize_row_q4_0(const float* x, block_q4_0* y, int64_t k);
void quantize_row_q4_1(const float* x, block_q4_1* y, int64_t k);
void quantize_row_q5_0(const float* x, block_q5_0* y, int64_t k);
void quantize_row_q5_1(const float* x, block_q5_1* y, int64_t k);
void quantize_row_q8_0(const float* x, block_q8_0* y, int64_t k);
// The `_impl` paths with importance weights, one row of n_per_row elements (σ² is taken over the row).
void quantize_row_q4_0_w(const float* x, block_q4_0* y, int64_t n_per_row, const float* qw);
void quantize_row_q4_1_w(const float* x, block_q4_1* y, int64_t n_per_row, const float* qw);
void quantize_row_q5_0_w(const float* x, block_q5_0* y, int64_t n_per_row, const float* qw);
void quantize_row_q5_1_w(const float* x, block_q5_1* y, int64_t n_per_row, const float* qw);
void dequantize_row_q4_0(const block_q4_0* x, float* y, int64_t k);
void dequantize_row_q4_1(const block_q4_1* x, float* y, int64_t k);
void dequantize_row_q5_0(const block_q5_0* x, float* y, int64_t k);
void dequantize_row_q5_1(const block_q5_1* x, float* y, int64_t k);
void dequantize_row_q8_0(const block_q8_0* x, float* y, int64_t k);

// k elements (whole super-blocks); qw (nullptr: the `_ref` path) holds k weights.
void quantize_row_q2_K(const float* x, block_q2_K* y, int64_t k, const float* qw);
void quantize_row_q3_K(const float* x, block_q3_K* y, int64_t k, const float* qw);
void quantize_row_q4_K(const float* x, block_q4_K* y, int64_t k, const float* qw);
void quantize_row_q5_K(const float* x, block_q5_K* y, int64_t k, const float* qw);
void quantize_row_q6_K(const float* x, block_q6_K* y, int64_t k, const float* qw);
void dequantize_row_q2_K(const block_q2_K* x, float* y, int64_t k);
void dequantize_row_q3_K(const block_q3_K* x, float* y, int64_t k);
void dequantize_row_q4_K(const block_q4_K* x, float* y, int64_t k);
void dequantize_row_q5_K(const block_q5_K* x, float* y, int64_t k);
void dequantize_row_q6_K(const block_q6_K* x, float* y, int64_t k);

// quantize_iq4_nl / quantize_iq4_xs (ntry = 7) for one row of n_per_row elements.
void quantize_row_iq4_nl(const float* x, block_iq4_nl* y, int64_t n_per_row, const float* qw);
void quantize_row_iq4_xs(const float* x, block_iq4_xs* y, int64_t n_per_row, const float* qw);
// The search both IQ4 types share without importance weights: the scale of each 32-block of x (n elements),
// then either type's blocks from those scales (= quantize_row_iq4_nl / _xs with qw = nullptr). With
// importance weights the two differ (σ² over 32 vs 256 elements), so nothing is shared.
void iq4_block_scales(const float* x, float* scales, int64_t n);
void quantize_row_iq4_nl_scaled(const float* x, const float* scales, block_iq4_nl* y, int64_t n_per_row);
void quantize_row_iq4_xs_scaled(const float* x, const float* scales, block_iq4_xs* y, int64_t n_per_row);
void dequantize_row_iq4_nl(const block_iq4_nl* x, float* y, int64_t k);
void dequantize_row_iq4_xs(const block_iq4_xs* x, float* y, int64_t k);

// The grid types (ggml_quants_iq2.cpp, _iq3.cpp, _iq1.cpp): quantize_row_*_impl for one row of n elements with
// its importance weights qw (nullptr where ggml allows it: IQ2_S, IQ3_XXS, IQ3_S, IQ1_M) and dequantize_row_*.
void quantize_row_iq2_xxs(const float* x, block_iq2_xxs* y, int64_t n, const float* qw);
void quantize_row_iq2_xs(const float* x, block_iq2_xs* y, int64_t n, const float* qw);
void quantize_row_iq2_s(const float* x, block_iq2_s* y, int64_t n, const float* qw);
void quantize_row_iq3_xxs(const float* x, block_iq3_xxs* y, int64_t n, const float* qw);
void quantize_row_iq3_s(const float* x, block_iq3_s* y, int64_t n, const float* qw);
void quantize_row_iq1_s(const float* x, block_iq1_s* y, int64_t n, const float* qw);
void quantize_row_iq1_m(const float* x, block_iq1_m* y, int64_t n, const float* qw);
void dequantize_row_iq2_xxs(const block_iq2_xxs* x, float* y, int64_t k);
void dequantize_row_iq2_xs(const block_iq2_xs* x, float* y, int64_t k);
void dequantize_row_iq2_s(const block_iq2_s* x, float* y, int64_t k);
void dequantize_row_iq3_xxs(const block_iq3_xxs* x, float* y, int64_t k);
void dequantize_row_iq3_s(const block_iq3_s* x, float* y, int64_t k);
void dequantize_row_iq1_s(const block_iq1_s* x, float* y, int64_t k);
void dequantize_row_iq1_m(const block_iq1_m* x, float* y, int64_t k);

}  // namespace squint::ggml
