// The quantizer against groups computed by hand from MLX's CPU kernel formula (formats.md A.1), an
// independent scalar re-implementation, and packing vectors derived on paper from the bit-stream rule.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>

#include "quant/affine.h"

using namespace squint;

namespace {

// Straight transcription of mlx/backend/cpu/quantized.cpp quantize<T,U> for one group (no SIMD, no
// shared code with the library), used as the oracle.
void oracle_group(const float* w, int g, int bits, uint8_t* codes, float* scale, float* bias) {
  float n_bins = (1 << bits) - 1;
  float eps = 1e-7f;
  float w_min = INFINITY, w_max = -INFINITY;
  for (int j = 0; j < g; ++j) {
    w_max = std::max(w_max, w[j]);
    w_min = std::min(w_min, w[j]);
  }
  bool mask = std::abs(w_min) > std::abs(w_max);
  float s = std::max((w_max - w_min) / n_bins, eps);
  s = mask ? s : -s;
  float edge = mask ? w_min : w_max;
  float q0 = std::rint(edge / s);
  float b = 0;
  if (q0 != 0) {
    s = edge / q0;
    b = edge;
  }
  for (int j = 0; j < g; ++j) {
    float q = std::rint((w[j] - b) / s);
    q = std::min(std::max(q, 0.0f), n_bins);
    codes[j] = static_cast<uint8_t>(q);
  }
  *scale = s;
  *bias = b;
}

std::vector<uint8_t> codes_of(const std::vector<float>& w, QConfig c, std::vector<float>* s, std::vector<float>* b) {
  std::size_t cols = w.size();
  std::vector<uint8_t> packed(cols * c.bits / 8);
  s->resize(cols / c.group);
  b->resize(cols / c.group);
  quantize_rows(w.data(), 1, cols, c, DType::F32, packed.data(), s->data(), b->data());
  std::vector<uint8_t> codes(cols);
  unpack_codes(packed.data(), cols, c.bits, codes.data());
  return codes;
}

}  // namespace

TEST_CASE("mostly-positive group: negative scale, bias is the max", "[quant]") {
  // w_j = j/31: lo = 0, hi = 1, |lo| <= |hi| so s = -(1/3), edge = hi = 1, q0 = rint(1 / -1/3) = -3,
  // s = 1/-3, bias = 1; code(w) = rint((w - 1)/s) = rint(3 (1 - w)).
  std::vector<float> w(32);
  for (int j = 0; j < 32; ++j) w[j] = static_cast<float>(j) / 31.0f;
  std::vector<float> s, b;
  auto codes = codes_of(w, {2, 32}, &s, &b);
  CHECK(s[0] == Approx(-1.0 / 3.0));
  CHECK(s[0] < 0);
  CHECK(b[0] == 1.0f);
  CHECK(codes[0] == 3);   // w = 0 -> rint(3) = 3
  CHECK(codes[31] == 0);  // w = 1 -> 0
  CHECK(codes[5] == 3);   // 3(1 - 5/31) = 2.516 -> 3
  CHECK(codes[6] == 2);   // 2.419 -> 2
  CHECK(codes[16] == 1);  // 3(1 - 16/31) = 1.452 -> 1
}

TEST_CASE("mostly-negative group: positive scale, bias is the min, zero exact", "[quant]") {
  // lo = -2, hi = 1: |lo| > |hi| so s = +3/3 = 1, edge = -2, q0 = -2, s = -2/-2 = 1, bias = -2.
  std::vector<float> w(32, 0.0f);
  w[0] = -2.0f;
  w[1] = 1.0f;
  w[2] = -1.0f;
  std::vector<float> s, b;
  auto codes = codes_of(w, {2, 32}, &s, &b);
  CHECK(s[0] == 1.0f);
  CHECK(b[0] == -2.0f);
  CHECK(codes[0] == 0);
  CHECK(codes[1] == 3);
  CHECK(codes[2] == 1);
  CHECK(codes[3] == 2);  // 0.0 sits exactly on level 2: 1*2 - 2 = 0
  std::vector<uint8_t> packed(32 * 2 / 8);
  std::vector<float> out(32);
  pack_codes(codes.data(), 32, 2, packed.data());
  dequantize_rows(packed.data(), s.data(), b.data(), 1, 32, {2, 32}, out.data());
  CHECK(out[3] == 0.0f);
  CHECK(out[0] == -2.0f);
  CHECK(out[1] == 1.0f);
}

TEST_CASE("ties round half to even", "[quant]") {
  // lo = -3, hi = 0 -> s = 1, bias = -3 for b = 2; (w + 3) = 1.5 -> 2 and 0.5 -> 0 (ties to even).
  std::vector<float> w(32, -3.0f);
  w[1] = 0.0f;
  w[2] = -1.5f;
  w[3] = -2.5f;
  std::vector<float> s, b;
  auto codes = codes_of(w, {2, 32}, &s, &b);
  REQUIRE(s[0] == 1.0f);
  REQUIRE(b[0] == -3.0f);
  CHECK(codes[2] == 2);
  CHECK(codes[3] == 0);
}

TEST_CASE("constant and all-zero groups dequantize exactly", "[quant]") {
  for (float v : {0.0f, 0.5f, -7.25f}) {
    std::vector<float> w(64, v), s, b;
    auto codes = codes_of(w, {4, 64}, &s, &b);
    std::vector<uint8_t> packed(64 * 4 / 8);
    pack_codes(codes.data(), 64, 4, packed.data());
    std::vector<float> out(64);
    dequantize_rows(packed.data(), s.data(), b.data(), 1, 64, {4, 64}, out.data());
    for (float x : out) CHECK(x == v);
    double err[1];
    QConfig c{4, 64};
    measure_rows(w.data(), w.data(), 1, 64, &c, 1, DType::F32, err);
    CHECK(err[0] == 0.0);
  }
  // All zero: scale is -1e-7 (MLX's test_quantized.py checks the same), bias 0.
  std::vector<float> z(32, 0.0f), s, b;
  codes_of(z, {3, 32}, &s, &b);
  CHECK(s[0] == -1e-7f);
  CHECK(b[0] == 0.0f);
}

TEST_CASE("packing follows the row bit-stream rule for every width", "[quant]") {
  // b = 3, codes 1..7,0: value = Σ c_j << 3j = 0x1F58D1 -> bytes D1 58 1F (little endian).
  {
    uint8_t c[8] = {1, 2, 3, 4, 5, 6, 7, 0}, out[3];
    pack_codes(c, 8, 3, out);
    CHECK(out[0] == 0xD1);
    CHECK(out[1] == 0x58);
    CHECK(out[2] == 0x1F);
  }
  // b = 2, codes 0,1,2,3: 0 | 1<<2 | 2<<4 | 3<<6 = 0xE4.
  {
    uint8_t c[4] = {0, 1, 2, 3}, out[1];
    pack_codes(c, 4, 2, out);
    CHECK(out[0] == 0xE4);
  }
  // b = 4: element 0 in the low nibble.
  {
    uint8_t c[2] = {0xA, 0x3}, out[1];
    pack_codes(c, 2, 4, out);
    CHECK(out[0] == 0x3A);
  }
  // b = 5, codes 31,0,1: 31 | 0<<5 | 1<<10 = 0x041F -> 1F 04 00 ...
  {
    uint8_t c[8] = {31, 0, 1, 0, 0, 0, 0, 0}, out[5];
    pack_codes(c, 8, 5, out);
    CHECK(out[0] == 0x1F);
    CHECK(out[1] == 0x04);
    CHECK(out[2] == 0x00);
  }
  // b = 6, codes 63, 1: 63 | 1<<6 = 0x7F.
  {
    uint8_t c[4] = {63, 1, 0, 0}, out[3];
    pack_codes(c, 4, 6, out);
    CHECK(out[0] == 0x7F);
    CHECK(out[1] == 0x00);
  }
  // Round trip for every width on random codes.
  std::mt19937 g(7);
  for (int bits : kAllBits) {
    std::vector<uint8_t> c(128), back(128), packed(128 * bits / 8);
    for (auto& x : c) x = static_cast<uint8_t>(g() & ((1u << bits) - 1));
    pack_codes(c.data(), 128, bits, packed.data());
    unpack_codes(packed.data(), 128, bits, back.data());
    CHECK(c == back);
  }
}

TEST_CASE("quantize_rows matches the scalar MLX oracle on random data for every config", "[quant]") {
  std::mt19937_64 rng(123);
  std::student_t_distribution<float> heavy(3.0f);
  const std::size_t rows = 5, cols = 256;
  std::vector<float> w(rows * cols);
  for (auto& x : w) x = heavy(rng) * 0.02f + 0.003f;
  for (QConfig c : all_configs()) {
    std::vector<uint8_t> packed(rows * cols * c.bits / 8), codes(cols);
    std::vector<float> s(rows * cols / c.group), b(rows * cols / c.group);
    quantize_rows(w.data(), rows, cols, c, DType::F32, packed.data(), s.data(), b.data());
    std::size_t mismatches = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      unpack_codes(packed.data() + r * cols * c.bits / 8, cols, c.bits, codes.data());
      for (std::size_t k = 0; k < cols / c.group; ++k) {
        uint8_t oc[128];
        float os, ob;
        oracle_group(&w[r * cols + k * c.group], c.group, c.bits, oc, &os, &ob);
        mismatches += std::memcmp(oc, &codes[k * c.group], c.group) != 0;
        mismatches += os != s[r * cols / c.group + k] || ob != b[r * cols / c.group + k];
      }
    }
    INFO("bits " << c.bits << " group " << c.group);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("measure_rows equals the error of quantize + dequantize, with scales rounded to the dtype", "[quant]") {
  std::mt19937_64 rng(5);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  const std::size_t rows = 8, cols = 384;
  std::vector<float> w(rows * cols);
  for (auto& x : w) x = nd(rng);
  auto cfgs = all_configs();
  for (DType sdt : {DType::F32, DType::F16, DType::BF16}) {
    std::vector<double> err(cfgs.size());
    double sig = measure_rows(w.data(), w.data(), rows, cols, cfgs.data(), cfgs.size(), sdt, err.data());
    double sig_ref = 0;
    for (float x : w) sig_ref += static_cast<double>(x) * x;
    CHECK(sig == Approx(sig_ref).epsilon(1e-7));
    for (std::size_t i = 0; i < cfgs.size(); ++i) {
      QConfig c = cfgs[i];
      std::vector<uint8_t> packed(rows * cols * c.bits / 8);
      std::vector<float> s(rows * cols / c.group), b(rows * cols / c.group), out(rows * cols);
      quantize_rows(w.data(), rows, cols, c, sdt, packed.data(), s.data(), b.data());
      for (float x : s) CHECK(x == round_to_dtype(x, sdt));
      dequantize_rows(packed.data(), s.data(), b.data(), rows, cols, c, out.data());
      double e = 0;
      for (std::size_t k = 0; k < w.size(); ++k) e += (static_cast<double>(w[k]) - out[k]) * (w[k] - out[k]);
      INFO("bits " << c.bits << " group " << c.group << " dtype " << dtype_name(sdt));
      CHECK(err[i] == Approx(e).epsilon(1e-6));  // group sums are accumulated in float lanes
    }
    // More bits, less error (same group size).
    for (std::size_t i = 1; i < cfgs.size(); ++i)
      if (cfgs[i].group == cfgs[i - 1].group) CHECK(err[i] < err[i - 1]);
  }
}

TEST_CASE("every |w - what| is within |scale| (MLX's own invariant)", "[quant]") {
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<float> ud(-0.2f, 0.5f);
  const std::size_t rows = 16, cols = 128;
  std::vector<float> w(rows * cols);
  for (auto& x : w) x = ud(rng);
  for (QConfig c : all_configs()) {
    std::vector<uint8_t> packed(w.size() * c.bits / 8);
    std::vector<float> s(w.size() / c.group), b(w.size() / c.group), out(w.size());
    quantize_rows(w.data(), rows, cols, c, DType::F32, packed.data(), s.data(), b.data());
    dequantize_rows(packed.data(), s.data(), b.data(), rows, cols, c, out.data());
    std::size_t bad = 0;
    for (std::size_t k = 0; k < w.size(); ++k) bad += std::abs(w[k] - out[k]) > std::abs(s[k / c.group]) * 1.0001f;
    CHECK(bad == 0);
  }
}

TEST_CASE("bytes and bits per weight follow b + 32/g (16-bit scales) and b + 64/g (F32)", "[quant]") {
  CHECK(quantized_bytes(4096, {4, 64}, DType::BF16) * 8.0 / 4096 == 4.5);
  CHECK(quantized_bytes(4096, {3, 64}, DType::F16) * 8.0 / 4096 == 3.5);
  CHECK(quantized_bytes(4096, {4, 32}, DType::F16) * 8.0 / 4096 == 5.0);
  CHECK(quantized_bytes(4096, {4, 64}, DType::F32) * 8.0 / 4096 == 5.0);
  CHECK(quantized_bytes(4096, {8, 128}, DType::BF16) * 8.0 / 4096 == 8.25);
}
