#pragma once
// Loading pieces several families share (their HF names are the Llama ones): attention projections with
// optional biases and q/k norms, the gated MLP, the embedding and LM head.
#include <functional>
#include <string>

#include "model/hparams.h"
#include "model/family.h"
#include "model/weights.h"

namespace squint::families {

// "model.layers.N."
std::string layer_prefix(int layer);
// self_attn.{q,k,v,o}_proj (+ q/k/v biases, required when h.qkv_bias, else when present; q_norm/k_norm when
// present, whose values get `norm_add`).
AttnWeights load_attention(WeightLoader& w, const ModelHparams& h, const std::string& prefix, float norm_add = 0.0f);
// self_attn.qkv_proj ([q; k; v] rows) and o_proj, no biases (Phi-3).
AttnWeights load_fused_attention(WeightLoader& w, const ModelHparams& h, const std::string& prefix);
// {gate,up,down}_proj (or the given names) of width `width` under `prefix`.
MlpWeights load_mlp(WeightLoader& w, const ModelHparams& h, const std::string& prefix, int width,
                    const char* gate = "gate_proj", const char* up = "up_proj", const char* down = "down_proj");

// Where a decoder's tensors live and how its norms read: the defaults are the Llama layout. A multimodal
// wrapper keeps its language model under another prefix (Gemma 3: language_model.model.*); Gemma's norms
// multiply by 1 + w (norm_add 1) and sit around each block as a sandwich: post_attention_layernorm then norms
// the attention output, and pre_/post_feedforward_layernorm surround the feed-forward part.
struct DecoderNames {
  std::string model = "model.";         // embed_tokens, layers.N., norm
  std::string head = "lm_head.weight";  // the untied LM head
  float norm_add = 0.0f;
  bool sandwich = false;
  bool fused_qkv = false;  // Phi-3: one self_attn.qkv_proj ([q; k; v] rows) instead of q/k/v_proj
};

// The pre-norm decoder Llama, Mixtral, Qwen-MoE and Gemma share: the ends, then per layer self_attn,
// input_layernorm and post_attention_layernorm; `ffn(layer, prefix, L)` loads the feed-forward part (a dense MLP
// or an MoE block) into L, after the attention and norms.
using FfnLoader = std::function<void(int layer, const std::string& prefix, LayerWeights& L)>;
ModelWeights load_prenorm_decoder(WeightLoader& w, const ModelHparams& h, const FfnLoader& ffn,
                                  const DecoderNames& n = {});
// Its tensors in checkpoint order; `ffn(layer, prefix, out)` appends the feed-forward part's.
using FfnTensors = std::function<void(int layer, const std::string& prefix, std::vector<TensorShape>& out)>;
std::vector<TensorShape> prenorm_decoder_tensors(const ModelHparams& h, bool biases, bool qk_norm,
                                                 const FfnTensors& ffn, const DecoderNames& n = {});

}  // namespace squint::families

namespace squint::families {

// The tensors of the pieces above, for Family::tensors (same names and shapes as the loaders read).
void attention_tensors(const ModelHparams& h, const std::string& prefix, bool biases, bool qk_norm, std::vector<TensorShape>& out);
void mlp_tensors(const ModelHparams& h, const std::string& prefix, int width, std::vector<TensorShape>& out,
                 const char* gate = "gate_proj", const char* up = "up_proj", const char* down = "down_proj");

}  // namespace squint::families
