#include "io/shards.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace squint {

std::vector<std::string> shard_file_names(std::size_t count) {
  std::vector<std::string> out;
  for (std::size_t s = 0; s < count; ++s) {
    char buf[64];
    if (count == 1)
      std::snprintf(buf, sizeof buf, "model.safetensors");
    else
      std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", s + 1, count);
    out.push_back(buf);
  }
  return out;
}

nlohmann::json shard_index(const std::vector<std::vector<std::string>>& tensors, const std::vector<std::string>& files,
                           uint64_t total_size, const nlohmann::json& extra_metadata) {
  nlohmann::json wm = nlohmann::json::object();
  for (std::size_t s = 0; s < tensors.size(); ++s)
    for (const auto& name : tensors[s]) wm[name] = files.at(s);
  nlohmann::json meta = {{"total_size", total_size}};
  if (extra_metadata.is_object()) meta.update(extra_metadata);
  return {{"metadata", meta}, {"weight_map", wm}};
}

nlohmann::json config_without_quantization(const nlohmann::json& raw) {
  nlohmann::json c = raw.is_object() ? raw : nlohmann::json::object();
  c.erase("quantization");
  c.erase("quantization_config");
  return c;
}

}  // namespace squint
