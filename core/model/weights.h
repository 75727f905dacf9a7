#pragma once
// Where a model's weights come from (a float or MLX checkpoint, a GGUF file, a plan quantized in memory,
// matched noise) and what one layer holds once loaded. Weights are asked for by their Hugging Face names;
// each source maps those to its own layout (GGUF names, stacked experts).
#include <Eigen/Dense>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/linear.h"

namespace squint {

// Gets a logical weight (dequantized float32, HF shape) by HF name, or returns false if absent.
using WeightSource = std::function<bool(const std::string& name, std::vector<int64_t>* shape, std::vector<float>* data)>;
// Gets a weight matrix by HF name as a Linear in the form its file stores it (model/stored_linear.h), or nullptr
// when it is not offered that way (absent, or only as floats: the loader then asks the WeightSource). A family's
// load() never sees which of the two it got.
using LinearSource = std::function<LinearPtr(const std::string& name)>;

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

// Every matrix of `w` by its HF name (embed and a tied lm_head are one entry).
std::map<std::string, LinearPtr> linears_by_name(const ModelWeights& w);
// A model's matrices offered to another model's loader, except `changed` (names whose values differ there):
// a candidate plan's model is then the base model with only those replaced, sharing the rest (shared_ptr).
LinearSource shared_linears(const ModelWeights& base, const std::set<std::string>& changed);

// Reads weights of the expected shapes from a source, with one-line errors naming the weight.
class WeightLoader {
 public:
  explicit WeightLoader(const WeightSource& src, LinearSource linears = {}) : src_(src), linears_(std::move(linears)) {}
  LinearPtr matrix(const std::string& name, int64_t rows, int64_t cols);
  // A vector of n values; absent and !required: empty. `add` is added to every value (Gemma's 1 + w norms).
  Eigen::VectorXf vector(const std::string& name, int64_t n, bool required, float add = 0.0f);
  // nullptr when absent (one read: a source dequantizes what it is asked for).
  LinearPtr optional_matrix(const std::string& name, int64_t rows, int64_t cols);

 private:
  LinearPtr to_linear(const std::string& name, int64_t rows, int64_t cols);
  // The Linear `linears_` offers for `name`, checked against [rows, cols]; nullptr when it offers none.
  LinearPtr offered(const std::string& name, int64_t rows, int64_t cols);
  const WeightSource& src_;
  LinearSource linears_;
  std::vector<int64_t> shape_;
  std::vector<float> data_;
};

}  // namespace squint
