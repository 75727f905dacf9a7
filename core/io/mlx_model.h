#pragma once
// Reading MLX-format (mlx-lm) models, quantized or not, as logical float tensors with their HF names.
// Used by gate, dequantize and eval. For module P quantized: P.weight (U32 packed), P.scales, P.biases and
// config.json "quantization" give (bits, group); the logical tensor is P.weight of shape [..., in].
// A plain float checkpoint is an MLX model with no quantized modules.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "quant/affine.h"

namespace squint {

struct LogicalTensor {
  std::string name;              // e.g. "model.layers.0.mlp.down_proj.weight"
  std::vector<int64_t> shape;    // logical (dequantized) shape
  DType dtype;                   // float dtype of the stored tensor (or of the scales when quantized)
  std::optional<QConfig> quant;  // set when stored quantized
  const TensorInfo* weight = nullptr;  // stored tensor (U32 codes when quantized)
  const TensorInfo* scales = nullptr;
  const TensorInfo* biases = nullptr;
};

struct MlxModel {
  Checkpoint ck;
  std::vector<LogicalTensor> tensors;
  const LogicalTensor* find(const std::string& name) const {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
};

// Validates config vs shapes (e.g. a config that claims 8 bits for a 4-bit tensor is an error naming the
// module). `in_features` optionally gives the true input dimension per weight name (from the original
// model) where it cannot be derived.
MlxModel open_mlx_model(const FileProvider& files);

// Dequantized float32 values of a logical tensor (numel floats). Returns false on NaN/Inf.
bool read_logical_f32(const MlxModel& m, const LogicalTensor& t, float* out);

// Rows [row0, row0+nrows) of the logical tensor's matrix view [prod(shape[:-1]), shape[-1]]
// (nrows*shape[-1] floats), so that large tensors can be streamed. Returns false on NaN/Inf.
bool read_logical_rows_f32(const MlxModel& m, const LogicalTensor& t, uint64_t row0, uint64_t nrows, float* out);
inline uint64_t logical_cols(const LogicalTensor& t) { return t.shape.empty() ? 1 : static_cast<uint64_t>(t.shape.back()); }
inline uint64_t logical_rows(const LogicalTensor& t) {
  uint64_t n = 1;
  for (std::size_t i = 0; i + 1 < t.shape.size(); ++i) n *= static_cast<uint64_t>(t.shape[i]);
  return n;
}

// The (bits, group) config.json gives module `module_path` ("quantization" block, mlx-lm load rule):
// nullopt = the module is float (an explicit false entry, or no scales in the weights).
// Exposed for the writer's tests.
struct MlxQuantConfig {
  bool present = false;            // config.json has a "quantization" (or "quantization_config") block
  QConfig global;
  nlohmann::json per_module;       // the block itself (module keys -> object or bool)
};
MlxQuantConfig parse_mlx_quant_config(const nlohmann::json& config, const std::string& file);

}  // namespace squint
