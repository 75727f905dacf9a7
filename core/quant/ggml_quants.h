#pragma once
// ggml's quantization types, ported byte-exact from ggml (llama.cpp release bundled with node-llama-cpp
// 3.21.1, "v0.4.0", bundle commit 80fb11ac73e66d89eae2c6a91d8a77428fa733ed: ggml/src/ggml-quants.c,
// ggml-common.h, ggml.c ggml_quantize_chunk). Without an importance matrix ggml_quantize_chunk uses the
// `_ref` quantizers for Q4_0..Q6_K and quantize_iq4_nl/xs (ntry = 7) for the IQ4 types; with one, the
// `_impl` quantizers with quant_weights; so does this port.
// Portable scalar C++ (also compiled to wasm); relies on -ffp-contract=off like ggml's reference build.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace squint {

enum class GgmlType : int { F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q2_K = 10,
  Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20,
  IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23, IQ1_M = 29, BF16 = 30 };   // ggml's own ids

struct GgmlTypeInfo { GgmlType type; const char* name; int block; int block_bytes; int nominal_bits; };

const GgmlTypeInfo* ggml_type_info(GgmlType t);              // nullptr for ids squint does not know
const GgmlTypeInfo* ggml_type_from_id(uint32_t id);
const GgmlTypeInfo* ggml_type_from_name(std::string_view name);   // "Q4_K", case-insensitive
// The 19 quantized types in ggml id order: Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K IQ2_XXS IQ2_XS
// IQ3_XXS IQ1_S IQ4_NL IQ3_S IQ2_S IQ4_XS IQ1_M.
const std::vector<GgmlType>& ggml_quant_types();
// ggml_quantize_requires_imatrix: ggml quantizes IQ2_XXS, IQ2_XS and IQ1_S only with importance weights.
bool ggml_requires_imatrix(GgmlType t);
// The lattice types IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M: codes index a grid of points
// (ggml_iq_grids.h), their quantizers search it (slow; tables built on first use).
bool ggml_is_grid_type(GgmlType t);
// llama.cpp's tensor_requires_imatrix (src/llama-quant.cpp): llama-quantize refuses IQ1_S, IQ1_M, IQ2_XXS,
// IQ2_XS, IQ2_S and IQ3_XXS for a weight (other than token_embd/output) without an importance matrix; of the
// grid types only IQ3_S is made without one.
bool llama_requires_imatrix(GgmlType t);
uint64_t ggml_row_bytes(GgmlType t, uint64_t n);             // n must be a multiple of the block

// Byte-exact with ggml_quantize_chunk(type, x, dst, 0, rows, cols, imatrix) of the shipped libggml-base.so.
// imatrix: nullptr, or `cols` per-column importance weights (what ggml_quantize_chunk's `imatrix` is: llama.cpp
// passes a weight's per-column E[x²]), the same for every row; F32/F16/BF16 and Q8_0 ignore it, as ggml does.
// cols must be a multiple of the type's block, and imatrix given for a type that ggml_requires_imatrix
// (squint::Error otherwise); dst gets rows*ggml_row_bytes(t, cols). The IQ2/IQ3/IQ1 grid types build their
// search tables on first use (ggml_iq_grids.h); values too large for their grid search (where ggml aborts) are
// an Error.
void ggml_quantize_rows(GgmlType t, const float* x, std::size_t rows, std::size_t cols, uint8_t* dst,
                        const float* imatrix = nullptr);
// Equal to ggml's type_traits[t].to_float.
void ggml_dequantize_rows(GgmlType t, const uint8_t* src, std::size_t rows, std::size_t cols, float* dst);

}  // namespace squint
