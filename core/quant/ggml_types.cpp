// The ggml type table (ids, blocks, bytes as in ggml.c type_traits) and the row dispatch of the port.
#include <cctype>
#include <string>

#include "io/dtype.h"
#include "quant/ggml_impl.h"
#include "quant/ggml_quants.h"
#include "util/error.h"

namespace squint {
namespace {

constexpr GgmlTypeInfo kTypes[] = {
    {GgmlType::F32, "F32", 1, 4, 32},           {GgmlType::F16, "F16", 1, 2, 16},
    {GgmlType::Q4_0, "Q4_0", 32, 18, 4},        {GgmlType::Q4_1, "Q4_1", 32, 20, 4},
    {GgmlType::Q5_0, "Q5_0", 32, 22, 5},        {GgmlType::Q5_1, "Q5_1", 32, 24, 5},
    {GgmlType::Q8_0, "Q8_0", 32, 34, 8},        {GgmlType::Q2_K, "Q2_K", 256, 84, 2},
    {GgmlType::Q3_K, "Q3_K", 256, 110, 3},      {GgmlType::Q4_K, "Q4_K", 256, 144, 4},
    {GgmlType::Q5_K, "Q5_K", 256, 176, 5},      {GgmlType::Q6_K, "Q6_K", 256, 210, 6},
    {GgmlType::IQ2_XXS, "IQ2_XXS", 256, 66, 2}, {GgmlType::IQ2_XS, "IQ2_XS", 256, 74, 2},
    {GgmlType::IQ3_XXS, "IQ3_XXS", 256, 98, 3}, {GgmlType::IQ1_S, "IQ1_S", 256, 50, 1},
    {GgmlType::IQ4_NL, "IQ4_NL", 32, 18, 4},    {GgmlType::IQ3_S, "IQ3_S", 256, 110, 3},
    {GgmlType::IQ2_S, "IQ2_S", 256, 82, 2},     {GgmlType::IQ4_XS, "IQ4_XS", 256, 136, 4},
    {GgmlType::IQ1_M, "IQ1_M", 256, 56, 1},     {GgmlType::BF16, "BF16", 1, 2, 16},
};

const GgmlTypeInfo& info_or_fail(GgmlType t) {
  const GgmlTypeInfo* i = ggml_type_info(t);
  if (!i) fail("unknown ggml type id " + std::to_string(static_cast<int>(t)));
  return *i;
}

void check_cols(const GgmlTypeInfo& info, std::size_t cols) {
  if (cols % static_cast<std::size_t>(info.block) != 0) {
    fail(std::string(info.name) + ": row length " + std::to_string(cols) + " is not a multiple of the block size " +
         std::to_string(info.block));
  }
}

}  // namespace

const GgmlTypeInfo* ggml_type_info(GgmlType t) {
  for (const auto& i : kTypes) {
    if (i.type == t) return &i;
  }
  return nullptr;
}

const GgmlTypeInfo* ggml_type_from_id(uint32_t id) {
  for (const auto& i : kTypes) {
    if (static_cast<uint32_t>(i.type) == id) return &i;
  }
  return nullptr;
}

const GgmlTypeInfo* ggml_type_from_name(std::string_view name) {
  for (const auto& i : kTypes) {
    std::string_view n(i.name);
    if (n.size() != name.size()) continue;
    bool eq = true;
    for (std::size_t k = 0; k < n.size() && eq; ++k) {
      eq = std::toupper(static_cast<unsigned char>(name[k])) == static_cast<unsigned char>(n[k]);
    }
    if (eq) return &i;
  }
  return nullptr;
}

const std::vector<GgmlType>& ggml_quant_types() {
  static const std::vector<GgmlType> types = [] {
    std::vector<GgmlType> t;
    for (const auto& i : kTypes)
      if (i.block > 1) t.push_back(i.type);
    return t;
  }();
  return types;
}

bool ggml_requires_imatrix(GgmlType t) {
  return t == GgmlType::IQ2_XXS || t == GgmlType::IQ2_XS || t == GgmlType::IQ1_S;
}

bool ggml_is_grid_type(GgmlType t) {
  return t == GgmlType::IQ2_XXS || t == GgmlType::IQ2_XS || t == GgmlType::IQ2_S || t == GgmlType::IQ3_XXS ||
         t == GgmlType::IQ3_S || t == GgmlType::IQ1_S || t == GgmlType::IQ1_M;
}

bool llama_requires_imatrix(GgmlType t) { return ggml_is_grid_type(t) && t != GgmlType::IQ3_S; }

uint64_t ggml_row_bytes(GgmlType t, uint64_t n) {
  const GgmlTypeInfo& i = info_or_fail(t);
  check_cols(i, static_cast<std::size_t>(n));
  return n / static_cast<uint64_t>(i.block) * static_cast<uint64_t>(i.block_bytes);
}

void ggml_quantize_rows(GgmlType t, const float* x, std::size_t rows, std::size_t cols, uint8_t* dst,
                        const float* imatrix) {
  using namespace ggml;
  const GgmlTypeInfo& info = info_or_fail(t);
  check_cols(info, cols);
  const std::size_t rb = static_cast<std::size_t>(ggml_row_bytes(t, cols));
  if (reinterpret_cast<uintptr_t>(dst) % 2 != 0) {  // the block structs hold uint16_t: go through an aligned copy
    std::vector<uint8_t> tmp(rows * rb);
    ggml_quantize_rows(t, x, rows, cols, tmp.data(), imatrix);
    std::memcpy(dst, tmp.data(), tmp.size());
    return;
  }
  if (!imatrix && ggml_requires_imatrix(t))
    fail(std::string(info.name) + ": ggml quantizes this type only with an importance matrix (--imatrix)");
  const auto k = static_cast<int64_t>(cols);
  const float* qw = imatrix;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    uint8_t* d = dst + r * rb;
    switch (t) {
      case GgmlType::F32: std::memcpy(d, xr, cols * 4); break;
      case GgmlType::F16:
        for (std::size_t j = 0; j < cols; ++j) {
          const uint16_t h = fp32_to_fp16(xr[j]);
          std::memcpy(d + 2 * j, &h, 2);
        }
        break;
      case GgmlType::BF16:
        for (std::size_t j = 0; j < cols; ++j) {
          const uint16_t h = f32_to_bf16(xr[j]);
          std::memcpy(d + 2 * j, &h, 2);
        }
        break;
      case GgmlType::Q4_0: {
        auto* y = reinterpret_cast<block_q4_0*>(d);
        qw ? quantize_row_q4_0_w(xr, y, k, qw) : quantize_row_q4_0(xr, y, k);
        break;
      }
      case GgmlType::Q4_1: {
        auto* y = reinterpret_cast<block_q4_1*>(d);
        qw ? quantize_row_q4_1_w(xr, y, k, qw) : quantize_row_q4_1(xr, y, k);
        break;
      }
      case GgmlType::Q5_0: {
        auto* y = reinterpret_cast<block_q5_0*>(d);
        qw ? quantize_row_q5_0_w(xr, y, k, qw) : quantize_row_q5_0(xr, y, k);
        break;
      }
      case GgmlType::Q5_1: {
        auto* y = reinterpret_cast<block_q5_1*>(d);
        qw ? quantize_row_q5_1_w(xr, y, k, qw) : quantize_row_q5_1(xr, y, k);
        break;
      }
      case GgmlType::Q8_0: quantize_row_q8_0(xr, reinterpret_cast<block_q8_0*>(d), k); break;
      case GgmlType::Q2_K:
        quantize_row_q2_K(xr, reinterpret_cast<block_q2_K*>(d), k, qw);
        break;
      case GgmlType::Q3_K:
        quantize_row_q3_K(xr, reinterpret_cast<block_q3_K*>(d), k, qw);
        break;
      case GgmlType::Q4_K:
        quantize_row_q4_K(xr, reinterpret_cast<block_q4_K*>(d), k, qw);
        break;
      case GgmlType::Q5_K:
        quantize_row_q5_K(xr, reinterpret_cast<block_q5_K*>(d), k, qw);
        break;
      case GgmlType::Q6_K:
        quantize_row_q6_K(xr, reinterpret_cast<block_q6_K*>(d), k, qw);
        break;
      case GgmlType::IQ4_NL:
        quantize_row_iq4_nl(xr, reinterpret_cast<block_iq4_nl*>(d), k, qw);
        break;
      case GgmlType::IQ4_XS:
        quantize_row_iq4_xs(xr, reinterpret_cast<block_iq4_xs*>(d), k, qw);
        break;
      case GgmlType::IQ2_XXS:
        quantize_row_iq2_xxs(xr, reinterpret_cast<block_iq2_xxs*>(d), k, qw);
        break;
      case GgmlType::IQ2_XS:
        quantize_row_iq2_xs(xr, reinterpret_cast<block_iq2_xs*>(d), k, qw);
        break;
      case GgmlType::IQ2_S:
        quantize_row_iq2_s(xr, reinterpret_cast<block_iq2_s*>(d), k, qw);
        break;
      case GgmlType::IQ3_XXS:
        quantize_row_iq3_xxs(xr, reinterpret_cast<block_iq3_xxs*>(d), k, qw);
        break;
      case GgmlType::IQ3_S:
        quantize_row_iq3_s(xr, reinterpret_cast<block_iq3_s*>(d), k, qw);
        break;
      case GgmlType::IQ1_S:
        quantize_row_iq1_s(xr, reinterpret_cast<block_iq1_s*>(d), k, qw);
        break;
      case GgmlType::IQ1_M:
        quantize_row_iq1_m(xr, reinterpret_cast<block_iq1_m*>(d), k, qw);
        break;
    }
  }
}

void ggml_dequantize_rows(GgmlType t, const uint8_t* src, std::size_t rows, std::size_t cols, float* dst) {
  using namespace ggml;
  const GgmlTypeInfo& info = info_or_fail(t);
  check_cols(info, cols);
  const std::size_t rb = static_cast<std::size_t>(ggml_row_bytes(t, cols));
  if (reinterpret_cast<uintptr_t>(src) % 2 != 0) {
    std::vector<uint8_t> tmp(src, src + rows * rb);
    ggml_dequantize_rows(t, tmp.data(), rows, cols, dst);
    return;
  }
  const auto k = static_cast<int64_t>(cols);
  for (std::size_t r = 0; r < rows; ++r) {
    const uint8_t* s = src + r * rb;
    float* y = dst + r * cols;
    switch (t) {
      case GgmlType::F32: std::memcpy(y, s, cols * 4); break;
      case GgmlType::F16:
        for (std::size_t j = 0; j < cols; ++j) {
          uint16_t h;
          std::memcpy(&h, s + 2 * j, 2);
          y[j] = fp16_to_fp32(h);
        }
        break;
      case GgmlType::BF16:
        for (std::size_t j = 0; j < cols; ++j) {
          uint16_t h;
          std::memcpy(&h, s + 2 * j, 2);
          y[j] = bf16_to_f32(h);
        }
        break;
      case GgmlType::Q4_0: dequantize_row_q4_0(reinterpret_cast<const block_q4_0*>(s), y, k); break;
      case GgmlType::Q4_1: dequantize_row_q4_1(reinterpret_cast<const block_q4_1*>(s), y, k); break;
      case GgmlType::Q5_0: dequantize_row_q5_0(reinterpret_cast<const block_q5_0*>(s), y, k); break;
      case GgmlType::Q5_1: dequantize_row_q5_1(reinterpret_cast<const block_q5_1*>(s), y, k); break;
      case GgmlType::Q8_0: dequantize_row_q8_0(reinterpret_cast<const block_q8_0*>(s), y, k); break;
      case GgmlType::Q2_K: dequantize_row_q2_K(reinterpret_cast<const block_q2_K*>(s), y, k); break;
      case GgmlType::Q3_K: dequantize_row_q3_K(reinterpret_cast<const block_q3_K*>(s), y, k); break;
      case GgmlType::Q4_K: dequantize_row_q4_K(reinterpret_cast<const block_q4_K*>(s), y, k); break;
      case GgmlType::Q5_K: dequantize_row_q5_K(reinterpret_cast<const block_q5_K*>(s), y, k); break;
      case GgmlType::Q6_K: dequantize_row_q6_K(reinterpret_cast<const block_q6_K*>(s), y, k); break;
      case GgmlType::IQ4_NL: dequantize_row_iq4_nl(reinterpret_cast<const block_iq4_nl*>(s), y, k); break;
      case GgmlType::IQ4_XS: dequantize_row_iq4_xs(reinterpret_cast<const block_iq4_xs*>(s), y, k); break;
      case GgmlType::IQ2_XXS:
        dequantize_row_iq2_xxs(reinterpret_cast<const block_iq2_xxs*>(s), y, k);
        break;
      case GgmlType::IQ2_XS:
        dequantize_row_iq2_xs(reinterpret_cast<const block_iq2_xs*>(s), y, k);
        break;
      case GgmlType::IQ2_S:
        dequantize_row_iq2_s(reinterpret_cast<const block_iq2_s*>(s), y, k);
        break;
      case GgmlType::IQ3_XXS:
        dequantize_row_iq3_xxs(reinterpret_cast<const block_iq3_xxs*>(s), y, k);
        break;
      case GgmlType::IQ3_S:
        dequantize_row_iq3_s(reinterpret_cast<const block_iq3_s*>(s), y, k);
        break;
      case GgmlType::IQ1_S:
        dequantize_row_iq1_s(reinterpret_cast<const block_iq1_s*>(s), y, k);
        break;
      case GgmlType::IQ1_M:
        dequantize_row_iq1_m(reinterpret_cast<const block_iq1_m*>(s), y, k);
        break;
    }
  }
}

}  // namespace squint
