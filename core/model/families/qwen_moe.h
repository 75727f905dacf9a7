#pragma once
// What Qwen2-MoE and Qwen3-MoE share (Hugging Face's Qwen2MoeSparseMoeBlock / Qwen3MoeSparseMoeBlock): the MoE
// keys of config.json and which layers are sparse, the `mlp.` block's weights and tensors (router `mlp.gate`,
// experts `mlp.experts.E.{gate,up,down}_proj`, Qwen2-MoE's `mlp.shared_expert.*` and `mlp.shared_expert_gate`;
// a dense layer's `mlp.{gate,up,down}_proj`), their GGUF names and keys (llama.cpp's qwen2moe / qwen3moe,
// src/models/qwen2moe.cpp and qwen3moe.cpp), and the refusals both runtimes share.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/config_keys.h"
#include "model/family.h"

namespace squint::families {

// A family's Hugging Face defaults for keys its config.json may leave out (configuration_qwen*_moe.py).
struct QwenMoeDefaults {
  int experts = 0, experts_used = 0, expert_intermediate = 0, shared_intermediate = 0, intermediate = 0;
  bool shared_expert = false;  // Qwen2-MoE: a shared expert with its sigmoid gate in every MoE layer
};

// Reads the MoE keys into h: num_experts, num_experts_per_tok, moe_intermediate_size,
// shared_expert_intermediate_size (shared_expert only), norm_topk_prob, decoder_sparse_step, mlp_only_layers
// (HF: layer l is sparse iff l is not in mlp_only_layers and (l + 1) % decoder_sparse_step == 0), and
// rms_norm_eps / intermediate_size with the family's defaults. Refuses sliding windows (use_sliding_window,
// layer_types) and activations other than SiLU, which these forward passes do not implement.
void read_qwen_moe(const ConfigReader& c, ModelHparams& h, const QwenMoeDefaults& d);

// The MLP of layer l: routed experts (+ the shared expert when h.shared_intermediate > 0) if h.moe(l), else the
// dense MLP of width h.intermediate.
void load_qwen_moe_mlp(WeightLoader& w, const ModelHparams& h, int l, LayerWeights& L);
void qwen_moe_mlp_tensors(const ModelHparams& h, int l, std::vector<TensorShape>& out);

// GGUF, as convert_hf_to_gguf.py's Qwen2MoeModel writes it (conversion/qwen.py): the architecture's shared keys
// plus expert_count, expert_used_count, expert_feed_forward_length (+ expert_shared_feed_forward_length).
// Refuses what llama.cpp's graph for `arch` cannot express: dense layers (its loader wants ffn_gate_inp in
// every layer), a norm_topk_prob other than the graph's fixed `renormalises` (build_moe_ffn's norm_w), and
// llama3 RoPE scaling (these graphs pass no rope_freqs).
std::vector<GgufKV> qwen_moe_gguf_kv(const std::string& arch, const ModelHparams& h, const std::string& name,
                                     bool renormalises);
ModelHparams qwen_moe_from_gguf(const GgufFile& g, ByteSource* src, const std::string& family, bool renormalises);
// The names of the `mlp.` block (after llama_gguf_names' dense ones): ffn_gate_inp, ffn_{gate,up,down}_exps,
// and with a shared expert ffn_{gate,up,down}_shexp and ffn_gate_inp_shexp.
void qwen_moe_gguf_names(bool shared_expert, std::vector<GgufNameRule>& r);

// mlx-lm's model files require some keys HF gives defaults to (dataclass fields without one) and read others
// with defaults of their own (qwen2_moe.py: rope_theta 1e6): writes the values squint runs with, so mlx-lm
// runs the same model.
void qwen_moe_mlx_keys(const ModelHparams& h, nlohmann::json& cfg);

}  // namespace squint::families
