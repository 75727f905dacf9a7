#pragma once
// Synthetic Llama-shaped checkpoints: the demo model squint ships instead of weights, and benchmark
// inputs at real shapes. Values are generated from a counter-based RNG, so any slice of any tensor can be
// produced independently (in parallel, in chunks) and the bytes are identical everywhere.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "io/safetensors.h"

namespace squint {

struct SynthSpec {
  int hidden = 256;
  int intermediate = 704;
  int layers = 4;
  int heads = 8;
  int kv_heads = 4;
  int vocab = 2048;
  int experts = 0;  // > 0: Mixtral-style MoE with separately stored experts
  bool tied = false;
  // 1-D tensors (norms) are drawn around this value: 1 for norms that multiply by w, 0 for Gemma's, which
  // store w for a multiplier 1 + w (both start near a multiplier of 1, as trained models' norms do).
  float norm_center = 1.0f;
  DType dtype = DType::BF16;
  uint64_t seed = 42;
  // Keys of a family preset written over the Llama/Mixtral config above (model_type, the family's own
  // hyperparameters, in that family's real config.json names); the tensors follow from the family.
  nlohmann::json extra = nlohmann::json::object();
  // A few input channels with 3-10x the scale, like trained LLMs' outlier features (analysis realism). The
  // family presets leave them out: they exist to compare runtimes, and llama.cpp's 8-bit activations lose
  // precision next to outliers, which would blur a comparison of conversions.
  bool outlier_channels = true;
};

// Named presets: "demo" (default, ~6M params), "tiny" (tests), "llama3-8b" (real Llama-3-8B layer shapes;
// pick the layer count to set the size), "moe"/"mixtral" (small Mixtral), "qwen2-moe", "qwen3-moe" (small, all
// layers MoE), "qwen3-moe-mixed" (a dense layer too, which llama.cpp's qwen3moe cannot run), "gemma2", "gemma3"
// (text), "gemma3-mm" (the multimodal wrapper with a stub vision tower), "phi3" and "phi3-long" (longrope
// in its short and long regime).
SynthSpec synth_preset(const std::string& name);
std::vector<std::string> synth_preset_names();

std::vector<TensorSpec> synth_tensors(const SynthSpec& s);
nlohmann::json synth_config(const SynthSpec& s);

// Writes elements [begin, begin+n) of tensor `t` (little-endian, in t.dtype) into out.
void synth_fill(const SynthSpec& s, const TensorSpec& t, uint64_t begin, uint64_t n, uint8_t* out);

// The checkpoint `s` describes, held in memory (model.safetensors + config.json), as the page holds a dropped
// model: for tests and benchmarks that need a model without files.
Checkpoint synth_in_memory(const SynthSpec& s);

}  // namespace squint
