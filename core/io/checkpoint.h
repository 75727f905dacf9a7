#pragma once
// A checkpoint: one safetensors file or shards + model.safetensors.index.json, plus config.json.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "io/byte_source.h"
#include "io/safetensors.h"

namespace squint {

struct ModelConfig {
  nlohmann::json raw;               // config.json as read (null when absent)
  int num_layers = -1;              // num_hidden_layers (or inferred from names when absent)
  bool tied_embeddings = false;     // tie_word_embeddings
  int num_experts = 0;              // num_local_experts / num_experts / n_routed_experts
  std::optional<DType> torch_dtype;  // config's dtype, when it names a float dtype
};

struct Checkpoint {
  std::string location;
  std::vector<std::string> files;                  // safetensors files, in index order
  std::vector<std::unique_ptr<ByteSource>> sources;  // one open source per file
  std::vector<SafetensorsHeader> headers;
  std::vector<TensorInfo> tensors;                 // all tensors, file by file in header order
  ModelConfig config;
  std::string fingerprint;                         // "xxh64:<hex>" of the canonical tensor table
  std::vector<std::string> warnings;

  const TensorInfo* find(const std::string& name) const;
  uint64_t total_params() const;
  uint64_t total_bytes() const;
};

// Opens the checkpoint held by `files`. With `single_file`, only that safetensors file is read; otherwise
// model.safetensors.index.json, else model.safetensors, else every *.safetensors file. Throws squint::Error.
Checkpoint open_checkpoint(const FileProvider& files, const std::optional<std::string>& single_file = std::nullopt);

// Parses config.json text (exposed for tests and the browser).
ModelConfig parse_model_config(const std::string& text, const std::string& file);

// Reads a measurable tensor into `out` (numel floats). Returns false if it holds NaN/Inf. `scratch` is reused.
bool read_tensor_f32(const Checkpoint& ck, const TensorInfo& t, float* out, std::vector<uint8_t>& scratch);
// Raw bytes of a tensor.
void read_tensor_bytes(const Checkpoint& ck, const TensorInfo& t, uint8_t* out);

// Fingerprint of a tensor table: xxh64 over (name, dtype, shape) sorted by name. Identical for a model and
// its re-sharding, different for any change of names, dtypes or shapes.
std::string fingerprint_tensors(const std::vector<TensorInfo>& tensors);

}  // namespace squint
