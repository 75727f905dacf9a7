#pragma once
// Error of GGUF candidates over a block of rows, for the analysis (and any gate that must reproduce it).
#include <cstddef>

#include "quant/affine.h"

namespace squint {

// For each GGUF config (configs[i].gguf(), its block dividing cols): quantizes each row of `w` with the
// ggml port, dequantizes it and adds Σ (ref − ŵ)² to err_out[i], in double, element by element in
// row-major order (err_out is overwritten). w is the quantizer input (the source cast to the output
// dtype), ref the source values; they may be the same array. `imatrix`: cols importance weights for every row
// (ggml_quantize_chunk's), or null.
void ggml_measure_rows(const float* w, const float* ref, std::size_t rows, std::size_t cols, const QConfig* configs,
                       std::size_t nconfigs, double* err_out, const float* imatrix = nullptr);

}  // namespace squint
