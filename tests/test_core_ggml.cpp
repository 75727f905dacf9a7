// Portable checks of the ggml port (run natively and as wasm): the type table, hand-worked blocks, round
// trips within each type's error, and the fp16 conversion. Byte-exactness against the real ggml is
// tests/test_ggml_quants.cpp (native only: it loads libggml-base.so).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "io/dtype.h"
#include "quant/affine.h"
#include "quant/ggml_impl.h"
#include "quant/ggml_quants.h"
#include "util/error.h"
#include "util/rng.h"

using namespace squint;

// The GGUF candidates: without an importance matrix, the grid types llama-quantize refuses without one
// (llama-quant.cpp's tensor_requires_imatrix: all but IQ3_S) are not offered; with one, all 19 are.
TEST_CASE("ggml types: GGUF candidates with and without an importance matrix", "[ggml]") {
  const auto plain = all_gguf_configs(false), weighted = all_gguf_configs(true);
  CHECK(weighted.size() == 19);
  REQUIRE(plain.size() == 13);
  int grid = 0;
  for (QConfig c : plain) {
    CHECK_FALSE(llama_requires_imatrix(c.type));
    CHECK_FALSE(ggml_requires_imatrix(c.type));
    grid += ggml_is_grid_type(c.type);
  }
  CHECK(grid == 1);  // IQ3_S
  CHECK(std::find(plain.begin(), plain.end(), gguf_config(GgmlType::IQ3_S)) != plain.end());
  CHECK(std::find(plain.begin(), plain.end(), gguf_config(GgmlType::IQ3_XXS)) == plain.end());
  CHECK(std::find(weighted.begin(), weighted.end(), gguf_config(GgmlType::IQ1_S)) != weighted.end());
}

TEST_CASE("ggml types: table, names, ids, row bytes", "[ggml]") {
  REQUIRE(ggml_quant_types().size() == 19);
  CHECK(ggml_type_from_name("q4_k")->type == GgmlType::Q4_K);
  CHECK(ggml_type_from_name("IQ4_XS")->block_bytes == 136);
  CHECK(ggml_type_from_name("Q4_KM") == nullptr);
  CHECK(ggml_type_from_id(4) == nullptr);  // Q4_2, removed from ggml
  CHECK(ggml_type_from_id(8)->type == GgmlType::Q8_0);
  CHECK(ggml_type_info(GgmlType::Q6_K)->nominal_bits == 6);
  CHECK(ggml_row_bytes(GgmlType::Q4_K, 4096) == 16 * 144);
  CHECK(ggml_row_bytes(GgmlType::Q8_0, 64) == 2 * 34);
  CHECK(ggml_row_bytes(GgmlType::F16, 172) == 344);
  CHECK_THROWS_AS(ggml_row_bytes(GgmlType::Q4_K, 172), Error);
  std::vector<float> x(64, 1.0f);
  std::vector<uint8_t> out(1000);
  CHECK_THROWS_WITH(ggml_quantize_rows(GgmlType::Q2_K, x.data(), 1, 64, out.data()),
                    "Q2_K: row length 64 is not a multiple of the block size 256");
}

TEST_CASE("ggml Q8_0 and Q4_0: hand-worked blocks", "[ggml]") {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);  // amax 16 at j = 0, value -16
  // Q4_0: d = max / -8 = 2 (fp16 0x4000), q = min(15, (int8)(x/2 + 8.5)).
  std::vector<uint8_t> q4(18);
  ggml_quantize_rows(GgmlType::Q4_0, x.data(), 1, 32, q4.data());
  CHECK((q4[0] | (q4[1] << 8)) == 0x4000);
  CHECK((q4[2] & 0xF) == 0);            // x0 = -16 -> 0
  CHECK((q4[2] >> 4) == 8);             // x16 = 0 -> 8
  CHECK((q4[2 + 15] >> 4) == 15);       // x31 = 15 -> 16, clamped to 15
  std::vector<float> y(32);
  ggml_dequantize_rows(GgmlType::Q4_0, q4.data(), 1, 32, y.data());
  CHECK(y[0] == -16.0f);
  CHECK(y[31] == 14.0f);
  // Q8_0: d = 16/127 rounded to fp16; code of -16 is -127.
  std::vector<uint8_t> q8(34);
  ggml_quantize_rows(GgmlType::Q8_0, x.data(), 1, 32, q8.data());
  CHECK((q8[0] | (q8[1] << 8)) == f32_to_f16(16.0f / 127.0f));
  CHECK(static_cast<int8_t>(q8[2]) == -127);
  CHECK(static_cast<int8_t>(q8[2 + 16]) == 0);
  CHECK(static_cast<int8_t>(q8[2 + 24]) == 64);  // 8 * 127/16 = 63.5 -> roundf away from zero
}

TEST_CASE("ggml port: round trips within each type's error, zeros stay zero", "[ggml]") {
  const std::size_t n = 512;
  SplitMix64 rng{5};
  std::vector<float> x(n);
  double sx2 = 0;
  for (auto& v : x) {
    v = static_cast<float>(rng.normal());
    sx2 += static_cast<double>(v) * v;
  }
  struct Bound { GgmlType t; double max_rel; };
  // Relative squared error bounds for Gaussian rows, loose (≈ 2x what these types reach).
  const Bound bounds[] = {{GgmlType::Q4_0, 1.5e-2}, {GgmlType::Q4_1, 1.5e-2}, {GgmlType::Q5_0, 4e-3},
                          {GgmlType::Q5_1, 4e-3},   {GgmlType::Q8_0, 6e-5},   {GgmlType::Q2_K, 0.25},
                          {GgmlType::Q3_K, 6e-2},   {GgmlType::Q4_K, 1.5e-2}, {GgmlType::Q5_K, 4e-3},
                          {GgmlType::Q6_K, 1e-3},   {GgmlType::IQ4_NL, 1.2e-2}, {GgmlType::IQ4_XS, 1.2e-2}};
  double prev_k = 1.0;
  for (const auto& b : bounds) {
    INFO(ggml_type_info(b.t)->name);
    std::vector<uint8_t> q(ggml_row_bytes(b.t, n));
    std::vector<float> y(n);
    ggml_quantize_rows(b.t, x.data(), 1, n, q.data());
    ggml_dequantize_rows(b.t, q.data(), 1, n, y.data());
    double e = 0;
    for (std::size_t i = 0; i < n; ++i) e += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
    CHECK(e / sx2 < b.max_rel);
    CHECK(e / sx2 > 0);
    if (b.t >= GgmlType::Q2_K && b.t <= GgmlType::Q6_K) {  // more bits, less error
      CHECK(e / sx2 < prev_k);
      prev_k = e / sx2;
    }
    std::vector<float> z(n, 0.0f);
    ggml_quantize_rows(b.t, z.data(), 1, n, q.data());
    ggml_dequantize_rows(b.t, q.data(), 1, n, y.data());
    for (float v : y) CHECK(v == 0.0f);
  }
}

TEST_CASE("ggml fp16 conversion equals IEEE round-to-nearest-even", "[ggml]") {
  SplitMix64 rng{9};
  for (int i = 0; i < 20000; ++i) {
    const float f = static_cast<float>(rng.normal() * std::pow(2.0, static_cast<int>(rng.next() % 60) - 30));
    CHECK(ggml::fp32_to_fp16(f) == f32_to_f16(f));
    const auto h = static_cast<uint16_t>(rng.next());
    if ((h & 0x7c00) != 0x7c00) CHECK(ggml::fp16_to_fp32(h) == f16_to_f32(h));
  }
}
