#pragma once
// A decoder-only transformer of any registered family (model/family.h) on the CPU, in float32 arithmetic:
// embedding (optionally scaled), per layer RMSNorm → attention (GQA, RoPE, q/k norms, sliding windows,
// soft-capping) → optional post-norm → residual, RMSNorm → dense gated MLP or routed experts (only the
// chosen experts run) → optional post-norm → residual; final norm, LM head, optional logit soft-capping.
// What differs between families is in their hyperparameters and weights, not in branches here.
#include <memory>
#include <string>
#include <vector>

#include "model/hparams.h"
#include "model/layers.h"
#include "model/weights.h"

namespace squint {

// Σ x_j² of the inputs of a dense model's linear layers by site (for analyze --calibrate): per layer the
// attention input, the o_proj input, the MLP input and the down_proj input; plus the lm_head input.
struct InputMoments {
  std::vector<Eigen::VectorXd> attn_in, attn_out, mlp_in, mlp_down;
  Eigen::VectorXd head;
  uint64_t tokens = 0;
  void add(const InputMoments& o);  // sums; empty = zero
};

class Model {
 public:
  // Loads the weights through the family named by h.family (refused when unknown); matrices that `linears`
  // offers (stored precision, or shared with another model) are taken from it, the rest from `weights`.
  Model(const ModelHparams& h, const WeightSource& weights, const LinearSource& linears = {});
  Model(const ModelHparams& h, ModelWeights w);
  const ModelHparams& hparams() const { return h_; }
  const ModelHparams& config() const { return h_; }
  const ModelWeights& weights() const { return w_; }
  // Logits [T, vocab] for a sequence of token ids (positions 0..T-1).
  RowMat logits(const std::vector<int>& tokens) const;
  // Σ −log p(tokens[t] | tokens[<t]) for t = 1..T-1, and the count of predicted tokens.
  double nll(const std::vector<int>& tokens, std::size_t* count) const;
  std::vector<int> generate_greedy(std::vector<int> prompt, int n) const;
  // Runs the sequence and adds every linear layer's input statistics to *s (experts: their routed tokens).
  void accumulate_activations(const std::vector<int>& tokens, ActivationStats* s) const;
  // The same by site, for dense models (analysis/column_weights.h's sites).
  void accumulate_input_moments(const std::vector<int>& tokens, InputMoments* m) const;
  // The experts each token chose in each MoE layer ([layer][token], best first; empty for dense layers).
  std::vector<std::vector<std::vector<int>>> routing(const std::vector<int>& tokens) const;

 private:
  struct Trace;  // what a forward pass records besides the hidden states
  RowMat forward_hidden(const std::vector<int>& tokens, Trace* trace = nullptr) const;
  void layer(int li, RowMat& x, const std::vector<RopeTable>& ropes, Trace* trace) const;
  RowMat mlp(const MlpWeights& m, const RowMat& h, Trace* trace) const;
  RowMat moe(int li, const MoeWeights& m, const RowMat& h, Trace* trace) const;
  ModelHparams h_;
  ModelWeights w_;
  std::vector<float> inv_freq_, inv_freq_local_;
};

}  // namespace squint
