#pragma once
// How tensors are cut into work, defined once. Rows are processed in chunks of ~64K elements (a chunk's
// float copy stays in L2 while every config sweeps it; chunks are the unit of parallel work), and
// streaming conversions hold batches of ~16M elements (64 MB as float) at a time. The gate reproduces the
// analysis's sums bit for bit only because both chunk alike, so no file keeps its own constant.
#include <algorithm>
#include <cstdint>

namespace squint {

inline constexpr uint64_t kChunkElems = uint64_t{1} << 16;
inline constexpr uint64_t kBatchElems = uint64_t{1} << 24;

// Rows of `cols` elements per parallel chunk (at least one).
inline uint64_t rows_per_chunk(uint64_t cols) { return std::max<uint64_t>(1, kChunkElems / std::max<uint64_t>(cols, 1)); }
// Rows per streamed batch: a whole number of chunks (at least one chunk).
inline uint64_t rows_per_batch(uint64_t cols) {
  const uint64_t rpc = rows_per_chunk(cols);
  return std::max<uint64_t>(rpc, (kBatchElems / std::max<uint64_t>(cols, 1)) / rpc * rpc);
}

}  // namespace squint
