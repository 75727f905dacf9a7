#pragma once
// An MLX model back to a plain float checkpoint in HF layout: quantized modules dequantized, expert stacks
// written as separate experts again, config.json without the quantization blocks.
#include <optional>
#include <string>
#include <vector>

#include "convert/mlx_write.h"
#include "io/mlx_model.h"

namespace squint {

struct DequantTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const LogicalTensor* src = nullptr;
  uint64_t row0 = 0;  // first row of src (an expert's slice of a stack)
  uint64_t rows = 0;
  uint64_t nbytes() const;
};

struct DequantLayout {
  std::vector<DequantTensor> tensors;
  std::vector<std::string> shard_names;
  std::vector<std::vector<std::size_t>> shards;
  nlohmann::json config;
  nlohmann::json index;
  uint64_t total_bytes = 0;
};

// `dtype`: the float dtype of every float output (nullopt: quantized modules take their scales' dtype,
// float tensors keep theirs).
DequantLayout plan_dequantize(const MlxModel& m, std::optional<DType> dtype, uint64_t max_shard_bytes = kMlxMaxShardBytes);

void write_dequant_tensor(const MlxModel& m, const DequantTensor& t, const ParallelFor& pf, const ByteSink& sink);

}  // namespace squint
