#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "io/dtype.h"
#include "util/units.h"

using namespace squint;

TEST_CASE("bf16 and f16 conversions round to nearest even", "[dtype]") {
  CHECK(f32_to_bf16(1.0f) == 0x3F80);
  // 1 + 2^-8 is exactly half-way between two bf16 values (1 and 1 + 2^-7): ties to even -> 1.0.
  CHECK(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3F80);
  CHECK(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3F82);
  CHECK(f32_to_f16(1.0f) == 0x3C00);
  CHECK(f32_to_f16(65504.0f) == 0x7BFF);
  CHECK(f32_to_f16(70000.0f) == 0x7C00);
  CHECK(f32_to_f16(-2.0f) == 0xC000);
  CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(f32_to_f16(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(f32_to_f16(std::ldexp(1.0f, -26)) == 0x0000);
  // Every f16 bit pattern survives a round trip through float.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) continue;  // NaN payloads
    REQUIRE(f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))) == h);
  }
}

TEST_CASE("to_f32 flags NaN and Inf", "[dtype]") {
  float v[4] = {1.0f, 2.0f, NAN, 4.0f}, out[4];
  uint8_t b[16];
  std::memcpy(b, v, 16);
  CHECK_FALSE(to_f32(DType::F32, b, 4, out));
  v[2] = INFINITY;
  std::memcpy(b, v, 16);
  CHECK_FALSE(to_f32(DType::F32, b, 4, out));
  v[2] = 3.0f;
  std::memcpy(b, v, 16);
  CHECK(to_f32(DType::F32, b, 4, out));
}

TEST_CASE("sizes parse in decimal and binary units", "[units]") {
  CHECK(*parse_size("24GB") == 24000000000ull);
  CHECK(*parse_size("22.5GiB") == 24159191040ull);
  CHECK(*parse_size("900MB") == 900000000ull);
  CHECK(*parse_size("12345") == 12345ull);
  CHECK(*parse_size("1 KiB") == 1024ull);
  CHECK_FALSE(parse_size("abc"));
  CHECK_FALSE(parse_size("-5GB"));
  CHECK_FALSE(parse_size("5XB"));
  CHECK(size_unit_of("22.5gib") == "GiB");
}
