#pragma once
// safetensors: a total validating reader (returns a checked table of contents or throws one clear error)
// and a header writer. Validation mirrors the reference implementation (safetensors/src/tensor.rs).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/byte_source.h"
#include "io/dtype.h"

namespace squint {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;  // absolute byte offset of the data in its file
  uint64_t nbytes = 0;
  int file = 0;  // index into Checkpoint::files

  uint64_t numel() const {
    uint64_t n = 1;
    for (auto d : shape) n *= static_cast<uint64_t>(d);
    return n;
  }
  // Rows and columns of the matrix view [prod(shape[:-1]), shape[-1]].
  uint64_t cols() const { return shape.empty() ? 1 : static_cast<uint64_t>(shape.back()); }
  uint64_t rows() const { return cols() == 0 ? 0 : numel() / cols(); }
};

struct SafetensorsHeader {
  uint64_t header_len = 0;             // N, the JSON length
  std::string header_json;             // the raw header bytes (used for the fingerprint)
  std::vector<TensorInfo> tensors;     // in header order
  std::map<std::string, std::string> metadata;
};

// Parses and validates the header bytes of a file of `file_size` bytes. `file` names it in errors.
SafetensorsHeader parse_safetensors_header(const std::string& file, const std::string& header_json,
                                           uint64_t file_size);
// Reads the 8-byte length and the header from `src`, then validates.
SafetensorsHeader read_safetensors_header(ByteSource& src);

// Writer side: a header for tensors laid out back to back in the given order (offsets are computed),
// padded with spaces to a multiple of 8 like the reference writer. Returns the full prefix: u64 N + JSON.
struct TensorSpec {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t nbytes() const;
};
std::string build_safetensors_prefix(const std::vector<TensorSpec>& tensors,
                                     const std::map<std::string, std::string>& metadata);

}  // namespace squint
