#pragma once
// Synthetic Llama-shaped checkpoints: the demo model squint ships instead of weights, and benchmark
// inputs at real shapes. Values are generated from a counter-based RNG, so any slice of any tensor can be
// produced independently (in parallel, in chunks) and the bytes are identical everywhere.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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
  DType dtype = DType::BF16;
  uint64_t seed = 42;
};

// Named presets: "demo" (default, ~6M params), "tiny" (tests), "llama3-8b" (real Llama-3-8B layer shapes;
// pick the layer count to set the size), "moe" (small Mixtral-like).
SynthSpec synth_preset(const std::string& name);
std::vector<std::string> synth_preset_names();

std::vector<TensorSpec> synth_tensors(const SynthSpec& s);
nlohmann::json synth_config(const SynthSpec& s);

// Writes elements [begin, begin+n) of tensor `t` (little-endian, in t.dtype) into out.
void synth_fill(const SynthSpec& s, const TensorSpec& t, uint64_t begin, uint64_t n, uint8_t* out);

}  // namespace squint
