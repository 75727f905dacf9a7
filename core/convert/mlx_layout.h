#pragma once
// Conversion of a float checkpoint + plan into an mlx-lm model (formats.md A.2-A.5), the layout: the plan
// validated against the checkpoint, which tensors the output holds (packed/scales/biases, expert stacks)
// and how they are split into shards. Names are in mlx_names.h, config.json in mlx_config.h, the
// per-unit quantize/write step in mlx_write.h.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "plan/plan.h"
#include "quant/affine.h"

namespace squint {

constexpr uint64_t kMlxMaxShardBytes = 5ull << 30;  // mlx-lm's MAX_FILE_SIZE_GB = 5

enum class UnitKind { Copy, Cast, Quantize };

// One module's worth of output: one source tensor, or the experts of one stack (rows concatenated).
struct ConvertUnit {
  std::string name;                        // output weight name (P.weight, or the tensor's name)
  std::vector<const TensorInfo*> sources;  // > 1: an expert stack, in expert order
  UnitKind kind = UnitKind::Copy;
  QConfig config;                          // kind == Quantize
  DType out_dtype = DType::F32;            // kept tensor dtype, or scales/biases dtype
  std::vector<TensorSpec> outputs;         // weight[, scales, biases], in file order
  uint64_t params = 0;                     // logical parameters
  uint64_t out_bytes() const;
  uint64_t src_bytes() const;
};

struct ConvertLayout {
  std::vector<ConvertUnit> units;
  std::vector<std::string> shard_names;
  std::vector<std::vector<std::size_t>> shards;  // unit indices per shard
  nlohmann::json config;                         // output config.json
  nlohmann::json index;                          // model.safetensors.index.json
  uint64_t total_bytes = 0, total_params = 0;
  std::size_t quantized_modules = 0;
  QConfig global;                                // the most common choice
};

// Validates the plan against the checkpoint (fingerprint, tensor names, valid configs, one config per
// expert stack) and lays out the output. Throws squint::Error naming the tensor.
ConvertLayout plan_conversion(const Checkpoint& ck, const Plan& plan, uint64_t max_shard_bytes = kMlxMaxShardBytes);

}  // namespace squint
