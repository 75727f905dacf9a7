#pragma once
// Loading a model for evaluation: config, weights (quantized or float), optional matched noise.
#include <memory>
#include <string>

#include "eval/llama.h"

namespace squint {

struct NoiseSpec {
  std::string like;   // quantized MLX model or plan.json whose per-tensor SQNR the noise matches
  uint64_t seed = 42;
};

// The folder that holds the model's files (MODEL may be a .safetensors file inside it).
std::string model_dir(const std::string& path);
std::unique_ptr<LlamaModel> load_llama(const std::string& path, const NoiseSpec* noise = nullptr);

}  // namespace squint
