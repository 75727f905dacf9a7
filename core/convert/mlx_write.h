#pragma once
// The per-unit step of an MLX conversion: a unit's output tensors (copied, cast or quantized) streamed to a
// sink. No I/O of its own: native/ writes files and the browser could write blobs.
#include <cstdint>
#include <functional>

#include "convert/mlx_layout.h"
#include "io/checkpoint.h"
#include "util/parallel.h"

namespace squint {

using ByteSink = std::function<void(const uint8_t*, std::size_t)>;

// Produces unit u's output tensors, in u.outputs order, through `sink` (called from the caller's thread).
// Rows are quantized in fixed chunks spread over `pf` (results do not depend on the thread count);
// memory is bounded by a batch of rows plus the unit's scales/biases. `progress` gets source bytes done.
void write_unit(const Checkpoint& ck, const ConvertUnit& u, const ParallelFor& pf, const ByteSink& sink,
                const std::function<void(uint64_t)>& progress = {});

}  // namespace squint
