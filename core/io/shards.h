#pragma once
// mlx-lm's sharding rule (save_model): a new shard starts before any item that would push the current
// one past the limit. Returns item indices per shard (at least one shard, possibly empty).
// Also the rest of a sharded output's naming, written once for quantize, dequantize and synth: the shard
// file names, model.safetensors.index.json, and a config.json without a quantization block.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace squint {

inline std::vector<std::vector<std::size_t>> split_shards(const std::vector<uint64_t>& sizes, uint64_t max_bytes) {
  std::vector<std::vector<std::size_t>> shards(1);
  uint64_t cur = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (cur > 0 && cur + sizes[i] > max_bytes) {
      shards.emplace_back();
      cur = 0;
    }
    shards.back().push_back(i);
    cur += sizes[i];
  }
  return shards;
}

// "model.safetensors" for one shard, else "model-00001-of-0000N.safetensors" (the HF / mlx-lm names).
std::vector<std::string> shard_file_names(std::size_t count);

// model.safetensors.index.json: {"metadata": {"total_size": N, ...extra}, "weight_map": {tensor: file}}.
// `tensors[s]` are the tensor names stored in `files[s]`; `extra_metadata` (an object or null) is merged.
nlohmann::json shard_index(const std::vector<std::vector<std::string>>& tensors, const std::vector<std::string>& files,
                           uint64_t total_size, const nlohmann::json& extra_metadata);

// A model's config.json as an object, without the quantization blocks (quantization,
// quantization_config) a quantized source carried: the base every written config starts from.
nlohmann::json config_without_quantization(const nlohmann::json& raw);

}  // namespace squint
