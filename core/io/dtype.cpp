#include "io/dtype.h"

#include <cmath>

namespace squint {

namespace {
struct DTypeInfo {
  DType t;
  const char* name;
  int bits;
};
constexpr DTypeInfo kInfo[] = {
    {DType::BOOL, "BOOL", 8},        {DType::F4, "F4", 4},
    {DType::F6_E2M3, "F6_E2M3", 6},  {DType::F6_E3M2, "F6_E3M2", 6},
    {DType::U8, "U8", 8},            {DType::I8, "I8", 8},
    {DType::F8_E5M2, "F8_E5M2", 8},  {DType::F8_E4M3, "F8_E4M3", 8},
    {DType::F8_E8M0, "F8_E8M0", 8},  {DType::F8_E4M3FNUZ, "F8_E4M3FNUZ", 8},
    {DType::F8_E5M2FNUZ, "F8_E5M2FNUZ", 8},
    {DType::I16, "I16", 16},         {DType::U16, "U16", 16},
    {DType::F16, "F16", 16},         {DType::BF16, "BF16", 16},
    {DType::I32, "I32", 32},         {DType::U32, "U32", 32},
    {DType::F32, "F32", 32},         {DType::C64, "C64", 64},
    {DType::F64, "F64", 64},         {DType::I64, "I64", 64},
    {DType::U64, "U64", 64},
};
}  // namespace

std::optional<DType> parse_dtype(std::string_view s) {
  for (const auto& i : kInfo)
    if (s == i.name) return i.t;
  return std::nullopt;
}

const char* dtype_name(DType t) {
  for (const auto& i : kInfo)
    if (i.t == t) return i.name;
  return "?";
}

int dtype_bits(DType t) {
  for (const auto& i : kInfo)
    if (i.t == t) return i.bits;
  return 0;
}

std::optional<DType> parse_float_dtype_name(std::string_view s) {
  if (s == "float16" || s == "F16" || s == "fp16") return DType::F16;
  if (s == "bfloat16" || s == "BF16" || s == "bf16") return DType::BF16;
  if (s == "float32" || s == "F32" || s == "fp32") return DType::F32;
  return std::nullopt;
}

const char* float_dtype_long_name(DType t) {
  switch (t) {
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    case DType::F32: return "float32";
    default: return "?";
  }
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t u;
  if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while ((man & 0x400u) == 0);
      u = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | (man << 13);
  } else {
    u = sign | ((exp + 112u) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: inf
  if (a < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    if (a < 0x33000000u) return sign;  // < 2^-25 rounds to 0
    uint32_t man = (a & 0x7fffffu) | 0x800000u;
    int shift = 126 - static_cast<int>(a >> 23);  // 14..24 + 1
    uint32_t rounded = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (rounded & 1u))) ++rounded;
    return static_cast<uint16_t>(sign | rounded);
  }
  uint32_t v = a - 0x38000000u;  // rebias exponent 127 -> 15
  uint32_t rounded = v >> 13;
  uint32_t rem = v & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (rounded & 1u))) ++rounded;
  return static_cast<uint16_t>(sign | rounded);
}

float round_to_dtype(float x, DType t) {
  switch (t) {
    case DType::F16: return f16_to_f32(f32_to_f16(x));
    case DType::BF16: return bf16_to_f32(f32_to_bf16(x));
    default: return x;
  }
}

bool to_f32(DType t, const uint8_t* src, std::size_t n, float* dst) {
  switch (t) {
    case DType::F32:
      if (reinterpret_cast<const void*>(dst) != src) std::memcpy(dst, src, n * 4);
      break;
    case DType::BF16:
      for (std::size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = bf16_to_f32(h);
      }
      break;
    case DType::F16:
      for (std::size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = f16_to_f32(h);
      }
      break;
    default:
      return false;
  }
  // Non-finite check as a separate pass: it vectorizes, and keeps the conversions branch-free.
  uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, dst + i, 4);
    bad |= static_cast<uint32_t>((u & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

void from_f32(DType t, const float* src, std::size_t n, uint8_t* dst) {
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, n * 4);
      break;
    case DType::BF16:
      for (std::size_t i = 0; i < n; ++i) {
        uint16_t h = f32_to_bf16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      break;
    case DType::F16:
      for (std::size_t i = 0; i < n; ++i) {
        uint16_t h = f32_to_f16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      break;
    default:
      break;
  }
}

}  // namespace squint
