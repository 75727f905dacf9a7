#pragma once
// llama.cpp's importance matrices (imatrix files), read and written as llama.cpp does (release bundled with
// node-llama-cpp 3.21.1: tools/imatrix/imatrix.cpp writes them, common/imatrix-loader.cpp reads them,
// tools/quantize/quantize.cpp turns them into the weights ggml_quantize_chunk receives).
//
//  - GGUF (today's format): general.type = "imatrix", imatrix.datasets (string array), imatrix.chunk_count and
//    imatrix.chunk_size (u32); per weight W two F32 tensors `W.in_sum2` [n_per_row, n_mat] (Σ x_j² over the
//    tokens that reached matrix m; n_mat > 1 for MoE expert stacks) and `W.counts` [1, n_mat] (those tokens).
//  - legacy .dat: int32 entry count; per entry int32 name length, name, int32 ncall, int32 nval, nval floats
//    (mean x_j² × ncall, experts flattened), then optionally int32 chunk count, int32 length, dataset name.
//
// Files are untrusted: every length, shape, count and value is checked, and any violation is one squint::Error
// naming the file and the entry. Beyond llama.cpp's loader (which accepts some of these and then computes
// garbage or aborts) squint also refuses: NaN/Inf/negative sums, negative, fractional or NaN counts, sums where
// the count is zero, an entry with no data at all (every count zero), duplicate or empty names, tensors that
// are not an imatrix's, a GGUF without the imatrix.* metadata (llama-quantize refuses it too).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/byte_source.h"
#include "io/gguf.h"

namespace squint {

struct ImatrixEntry {
  // GGUF: raw Σ x_j², n_mat blocks of n_per_row (expert-major). Legacy: the file's values (mean × ncall).
  std::vector<float> sums;
  // GGUF: tokens per matrix (n_mat values). Legacy: {ncall}.
  std::vector<int64_t> counts;
  uint64_t n_mat() const { return counts.size(); }
  uint64_t n_per_row() const { return counts.empty() ? 0 : sums.size() / counts.size(); }
};

struct Imatrix {
  std::map<std::string, ImatrixEntry> entries;  // by GGUF weight name ("blk.0.attn_q.weight"), sorted
  std::vector<std::string> datasets;
  int32_t chunk_count = 0;  // chunks of text the statistic was collected on
  int32_t chunk_size = 0;   // tokens per chunk (legacy files do not record it: 0)
  bool legacy = false;      // read from a .dat
};

// Reads either format (GGUF if the file starts with "GGUF", else legacy), validating as above.
Imatrix read_imatrix(ByteSource& src);

// The weights ggml_quantize_chunk receives for this entry, computed exactly as llama-quantize's load_imatrix
// does: GGUF: per matrix m, sums / (float)count (1 for every column of a matrix whose count is 0); legacy:
// sums / (float)ncall. Length sums.size(): n_mat × n_per_row, matrix m's columns at m × n_per_row.
std::vector<float> imatrix_quant_weights(const ImatrixEntry& e, bool legacy);
// Every entry's weights by name: the imatrix_data llama-quantize hands llama_model_quantize.
std::map<std::string, std::vector<float>> imatrix_quant_weights(const Imatrix& m);

// Writers. GGUF: byte-identical to llama.cpp's save_imatrix (ggml's gguf writer, tensors sorted by name, each
// entry's in_sum2 then counts, trailing unit dimensions dropped). Legacy: as save_imatrix_legacy with
// chunk_size tokens per chunk (entries whose counts are all zero are skipped, ncall = ⌈max count / chunk_size⌉,
// values (sum / count) × ncall, 1 × ncall where a count is zero; the last dataset names the file's data).
// Both refuse what read_imatrix would refuse.
std::vector<uint8_t> write_imatrix_gguf(const Imatrix& m);
std::vector<uint8_t> write_imatrix_dat(const Imatrix& m);

// "xxh64:<hex>" of a file's bytes: how an analysis and a plan name the imatrix they were made with.
std::string content_hash(const ByteSource& src);

}  // namespace squint
