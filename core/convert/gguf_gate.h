#pragma once
// The SQNR gate of a GGUF file (squint's or llama.cpp's) against its float original: every quantized tensor
// is dequantized with the ggml port, its Q/K row permutation undone, and compared chunk by chunk exactly as
// the analysis sums its errors (core/quant/ggml_measure), so a squint GGUF of a plan gives the plan's
// sqnr_db to the last digit. Tensors stored as F32/F16/BF16 count as kept.
#include <functional>

#include "convert/gate.h"
#include "io/checkpoint.h"
#include "io/gguf.h"
#include "util/parallel.h"

namespace squint {

// Throws squint::Error (exit 2) when the files do not correspond (a tensor missing on either side, a shape
// mismatch, a type squint cannot decode, NaN/Inf).
GateReport gate_gguf(const Checkpoint& original, const GgufFile& g, ByteSource& src, double floor_db, const ParallelFor& pf,
                     const std::function<void(std::size_t, std::size_t)>& progress = {});

}  // namespace squint
