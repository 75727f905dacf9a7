#pragma once
// Where a model's weights come from (a float or MLX checkpoint, a GGUF file, a plan quantized in memory,
// matched noise) and what one layer holds once loaded. Weights are asked for by their Hugging Face names;
// each source maps those to its own layout (GGUF names, stacked experts).
#include <Eigen/Dense>
#include <functional>
#include <string>
#include <vector>

#include "model/linear.h"

namespace squint {

// Gets a logical weight (dequantized float32, HF shape) by HF name, or returns false if absent.
using WeightSource = std::function<bool(const std::string& name, std::vector<int64_t>* shape, std::vector<float>* data)>;

struct AttnWeights {
  LinearPtr q, k, v, o;
  LinearPtr qkv;                      // fused [q; k; v] rows (Phi-3); then q, k, v are empty
  Eigen::VectorXf bq, bk, bv;         // empty when the model has no attention bias
  Eigen::VectorXf q_norm, k_norm;     // per-head RMSNorm multipliers (Qwen3, Gemma 3), else empty
};
struct MlpWeights {
  LinearPtr gate, up, down;
  LinearPtr gate_up;                  // fused [gate; up] rows (Phi-3); then gate, up are empty
  bool empty() const { return !down; }
};
struct MoeWeights {
  LinearPtr router;                   // [experts, hidden]
  std::vector<MlpWeights> experts;
  MlpWeights shared;                  // Qwen2-MoE's always-on expert (empty when absent)
  LinearPtr shared_gate;              // [1, hidden]: its sigmoid gate
};
struct LayerWeights {
  // RMSNorm multipliers: before attention / after it (Gemma's sandwich; empty = none) / before the MLP /
  // after it (Gemma; empty = none).
  Eigen::VectorXf attn_norm, post_attn_norm, ffn_norm, post_ffn_norm;
  AttnWeights attn;
  MlpWeights mlp;                     // dense layers
  MoeWeights moe;                     // MoE layers (router set)
};
struct ModelWeights {
  LinearPtr embed;                    // [vocab, hidden]
  LinearPtr lm_head;                  // the same object as embed when tied
  Eigen::VectorXf final_norm;
  std::vector<LayerWeights> layers;
};

// Reads weights of the expected shapes from a source, with one-line errors naming the weight.
class WeightLoader {
 public:
  explicit WeightLoader(const WeightSource& src) : src_(src) {}
  LinearPtr matrix(const std::string& name, int64_t rows, int64_t cols);
  // A vector of n values; absent and !required: empty. `add` is added to every value (Gemma's 1 + w norms).
  Eigen::VectorXf vector(const std::string& name, int64_t n, bool required, float add = 0.0f);
  // nullptr when absent (one read: a source dequantizes what it is asked for).
  LinearPtr optional_matrix(const std::string& name, int64_t rows, int64_t cols);

 private:
  LinearPtr to_linear(const std::string& name, int64_t rows, int64_t cols);
  const WeightSource& src_;
  std::vector<int64_t> shape_;
  std::vector<float> data_;
};

}  // namespace squint
