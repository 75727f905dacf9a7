#pragma once
// mlx-lm's sharding rule (save_model): a new shard starts before any item that would push the current
// one past the limit. Returns item indices per shard (at least one shard, possibly empty).
#include <cstddef>
#include <cstdint>
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

}  // namespace squint
