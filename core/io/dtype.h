#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace squint {

// Every safetensors dtype, so that any valid file can be listed; only F32/F16/BF16 are measured.
enum class DType {
  BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ,
  I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64
};

std::optional<DType> parse_dtype(std::string_view s);
const char* dtype_name(DType t);
int dtype_bits(DType t);                 // bits per element (4 for F4, 6 for F6_*)
inline bool is_float_measurable(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// Output float dtypes by their mlx/numpy names ("float16", "bfloat16", "float32").
std::optional<DType> parse_float_dtype_name(std::string_view s);
const char* float_dtype_long_name(DType t);

inline float bf16_to_f32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
// Round to nearest even, as MLX's bfloat16 cast does; NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);  // IEEE round to nearest even, overflow to inf

// Round a float32 to the nearest value representable in `t` (F32: identity).
float round_to_dtype(float x, DType t);

// Convert `n` little-endian elements of a measurable dtype to float32. Returns false if any value is NaN/Inf.
bool to_f32(DType t, const uint8_t* src, std::size_t n, float* dst);
// Encode `n` floats into `t` (F32/F16/BF16), little-endian.
void from_f32(DType t, const float* src, std::size_t n, uint8_t* dst);

}  // namespace squint
