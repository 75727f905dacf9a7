#pragma once
// A float32 CPU forward pass for the Llama family (Llama 2/3, Mistral, Qwen2/3, SmolLM): embedding, RMSNorm,
// RoPE (HF rotate_half; default, linear and llama3 scaling), grouped-query attention (optional q/k/v bias,
// optional q/k RMSNorm as in Qwen3), SwiGLU, tied or untied lm_head. Weights are dequantized on load, so
// plain float and MLX-quantized checkpoints evaluate alike.
#include <Eigen/Dense>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/mlx_model.h"
#include "util/parallel.h"

namespace squint {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct LlamaConfig {
  int hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, vocab = 0;
  float eps = 1e-5f;
  double rope_theta = 10000.0;
  std::string rope_type = "default";  // default | linear | llama3
  double rope_factor = 1.0, low_freq_factor = 1.0, high_freq_factor = 4.0;
  int original_max_pos = 8192;
  bool tied = false;
  int bos = 1, eos = 2;
  // GGUF's rope_freqs tensor (llama3 scaling as written by convert_hf_to_gguf.py): each frequency is divided
  // by its factor, as llama.cpp does; when set it replaces rope_type's scaling.
  std::vector<float> rope_freq_factors;
};
LlamaConfig llama_config_from_json(const nlohmann::json& cfg);

struct LlamaLayer {
  RowMat wq, wk, wv, wo, wg, wu, wd;  // [out, in]
  Eigen::VectorXf bq, bk, bv;          // empty when the model has no attention bias
  Eigen::VectorXf attn_norm, mlp_norm, q_norm, k_norm;  // q/k norms empty unless Qwen3-style
};

// Gets a logical weight (dequantized float32) by name, or returns false if absent.
// Σ x_j² of every linear layer's input over the tokens seen (for calibration, analysis/column_weights.h):
// per layer the attention input (after input_layernorm), the o_proj input, the MLP input (after
// post_attention_layernorm) and the down_proj input; plus the lm_head input (after the final norm).
struct InputMoments {
  std::vector<Eigen::VectorXd> attn_in, attn_out, mlp_in, mlp_down;
  Eigen::VectorXd head;
  uint64_t tokens = 0;
  void add(const InputMoments& o);  // sums; empty = zero
};

using WeightSource = std::function<bool(const std::string& name, std::vector<int64_t>* shape, std::vector<float>* data)>;

class LlamaModel {
 public:
  LlamaModel(const LlamaConfig& cfg, const WeightSource& weights);
  const LlamaConfig& config() const { return cfg_; }
  // Logits [T, vocab] for a sequence of token ids (positions 0..T-1).
  RowMat logits(const std::vector<int>& tokens) const;
  // Σ −log p(tokens[t] | tokens[<t]) for t = 1..T-1, and the count of predicted tokens.
  double nll(const std::vector<int>& tokens, std::size_t* count) const;
  std::vector<int> generate_greedy(std::vector<int> prompt, int n) const;
  // Runs the sequence and adds its linear-layer input moments to *m (sized on first use).
  void accumulate_input_moments(const std::vector<int>& tokens, InputMoments* m) const;

 private:
  RowMat forward_hidden(const std::vector<int>& tokens, InputMoments* moments = nullptr) const;
  LlamaConfig cfg_;
  RowMat embed_, lm_head_;
  Eigen::VectorXf final_norm_;
  std::vector<LlamaLayer> layers_;
  std::vector<float> inv_freq_;
};

// A WeightSource over an opened MLX/HF model (quantized tensors are dequantized).
WeightSource weights_from(const MlxModel& m);

}  // namespace squint
