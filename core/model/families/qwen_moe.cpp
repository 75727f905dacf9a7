#include "model/families/qwen_moe.h"

#include "model/families/common.h"
#include "model/gguf_hparams.h"
#include "util/error.h"
#include "util/json_guard.h"

namespace squint::families {

void read_qwen_moe(const ConfigReader& c, ModelHparams& h, const QwenMoeDefaults& d) {
  const std::string& where = c.where();
  const nlohmann::json& j = c.text();
  h.intermediate = c.integer("intermediate_size", d.intermediate);
  h.eps = static_cast<float>(c.number("rms_norm_eps", 1e-6));
  h.experts = c.integer("num_experts", d.experts);
  h.experts_used = c.integer("num_experts_per_tok", d.experts_used);
  h.expert_intermediate = c.integer("moe_intermediate_size", d.expert_intermediate);
  h.norm_topk = c.boolean("norm_topk_prob", false);
  if (h.experts <= 0) fail(where + ": num_experts must be positive for a " + h.model_type + " model");
  if (h.experts_used <= 0 || h.experts_used > h.experts)
    fail(where + ": num_experts_per_tok = " + std::to_string(h.experts_used) +
         " is not between 1 and num_experts = " + std::to_string(h.experts));
  if (h.expert_intermediate <= 0) fail(where + ": moe_intermediate_size must be positive");
  if (d.shared_expert) {
    h.shared_intermediate = c.integer("shared_expert_intermediate_size", d.shared_intermediate);
    if (h.shared_intermediate <= 0) fail(where + ": shared_expert_intermediate_size must be positive");
  }
  const int step = c.integer("decoder_sparse_step", 1);
  if (step < 1) fail(where + ": decoder_sparse_step must be at least 1");
  std::vector<bool> dense(static_cast<std::size_t>(h.layers), false);
  if (c.has("mlp_only_layers")) {
    if (!j["mlp_only_layers"].is_array()) fail(where + ": mlp_only_layers is not a list of layer indices");
    for (const auto& v : j["mlp_only_layers"]) {
      const int l = json_int<int>(v, where + ": mlp_only_layers");
      if (l >= 0 && l < h.layers) dense[static_cast<std::size_t>(l)] = true;  // HF ignores indices past the end
    }
  }
  h.layer_moe.assign(static_cast<std::size_t>(h.layers), false);
  for (int l = 0; l < h.layers; ++l)
    h.layer_moe[static_cast<std::size_t>(l)] = !dense[static_cast<std::size_t>(l)] && (l + 1) % step == 0;
  bool any_dense = false;
  for (int l = 0; l < h.layers; ++l) any_dense = any_dense || !h.moe(l);
  if (any_dense && h.intermediate <= 0)
    fail(where + ": intermediate_size must be positive (the model has dense layers)");
  // Sliding-window attention and other activations are not part of this forward pass: refuse rather than
  // run full attention / SiLU where the model says otherwise.
  if (c.boolean("use_sliding_window", false))
    fail(where + ": use_sliding_window = true is not supported for " + h.model_type);
  if (c.has("layer_types") && j["layer_types"].is_array())
    for (const auto& t : j["layer_types"])
      if (t != "full_attention")
        fail(where + ": layer_types other than full_attention are not supported for " + h.model_type);
  if (c.has("hidden_act") && j["hidden_act"] != "silu") fail(where + ": hidden_act must be silu for " + h.model_type);
}

namespace {
std::string expert_prefix(int l, int e) { return layer_prefix(l) + "mlp.experts." + std::to_string(e) + "."; }
}  // namespace

void load_qwen_moe_mlp(WeightLoader& w, const ModelHparams& h, int l, LayerWeights& L) {
  const std::string p = layer_prefix(l) + "mlp.";
  if (!h.moe(l)) {
    L.mlp = load_mlp(w, h, p, h.intermediate);
    return;
  }
  L.moe.router = w.matrix(p + "gate.weight", h.experts, h.hidden);
  for (int e = 0; e < h.experts; ++e) L.moe.experts.push_back(load_mlp(w, h, expert_prefix(l, e), h.expert_width()));
  if (h.shared_intermediate > 0) {
    L.moe.shared = load_mlp(w, h, p + "shared_expert.", h.shared_intermediate);
    L.moe.shared_gate = w.matrix(p + "shared_expert_gate.weight", 1, h.hidden);
  }
}

void qwen_moe_mlp_tensors(const ModelHparams& h, int l, std::vector<TensorShape>& out) {
  const std::string p = layer_prefix(l) + "mlp.";
  if (!h.moe(l)) {
    mlp_tensors(h, p, h.intermediate, out);
    return;
  }
  out.push_back({p + "gate.weight", {h.experts, h.hidden}});
  for (int e = 0; e < h.experts; ++e) mlp_tensors(h, expert_prefix(l, e), h.expert_width(), out);
  if (h.shared_intermediate > 0) {
    mlp_tensors(h, p + "shared_expert.", h.shared_intermediate, out);
    out.push_back({p + "shared_expert_gate.weight", {1, h.hidden}});
  }
}

std::vector<GgufKV> qwen_moe_gguf_kv(const std::string& arch, const ModelHparams& h, const std::string& name,
                                     bool renormalises) {
  for (int l = 0; l < h.layers; ++l)
    if (!h.moe(l))
      fail(h.model_type + " with dense layers (layer " + std::to_string(l) +
           ", from mlp_only_layers / decoder_sparse_step) has no GGUF form: llama.cpp's " + arch +
           " makes every layer MoE");
  if (h.norm_topk != renormalises)
    fail(h.model_type + " with norm_topk_prob = " + (h.norm_topk ? "true" : "false") +
         " has no GGUF form: llama.cpp's " + arch + (renormalises ? " always renormalises" : " never renormalises") +
         " the top-k routing weights");
  if (h.rope.type == "llama3" || !h.rope.freq_factors.empty())
    fail(h.model_type + " with llama3 RoPE scaling has no GGUF form: llama.cpp's " + arch +
         " graph takes no rope_freqs");
  std::vector<GgufKV> kv = decoder_gguf_kv(arch, h, name);
  kv.push_back(gguf_kv(arch + ".expert_count", gguf_u32(h.experts)));
  kv.push_back(gguf_kv(arch + ".expert_used_count", gguf_u32(h.experts_used)));
  kv.push_back(gguf_kv(arch + ".expert_feed_forward_length", gguf_u32(h.expert_width())));
  if (h.shared_intermediate > 0)
    kv.push_back(gguf_kv(arch + ".expert_shared_feed_forward_length", gguf_u32(h.shared_intermediate)));
  return kv;
}

ModelHparams qwen_moe_from_gguf(const GgufFile& g, ByteSource* src, const std::string& family, bool renormalises) {
  GgufHparamsReader r(g);
  ModelHparams h = r.decoder(src);
  h.family = family;
  h.experts = r.integer("expert_count", 0, true);
  h.experts_used = r.integer("expert_used_count", 0, true);
  if (h.experts <= 0 || h.experts_used <= 0 || h.experts_used > h.experts)
    fail(g.file + ": " + r.arch() + ".expert_count / expert_used_count are out of range");
  // llama.cpp's loaders: an absent expert width is n_ff / n_expert_used, an absent shared width n_ff.
  h.expert_intermediate = r.integer("expert_feed_forward_length", h.intermediate / h.experts_used);
  if (r.arch() == "qwen2moe") h.shared_intermediate = r.integer("expert_shared_feed_forward_length", h.intermediate);
  if (h.expert_intermediate <= 0) fail(g.file + ": " + r.arch() + ".expert_feed_forward_length is out of range");
  h.norm_topk = renormalises;
  h.layer_moe.assign(static_cast<std::size_t>(h.layers), true);
  return h;
}

void qwen_moe_gguf_names(bool shared_expert, std::vector<GgufNameRule>& r) {
  const std::string p = "model.layers.{L}.mlp.";
  r.push_back({p + "gate.weight", "blk.{L}.ffn_gate_inp.weight"});
  for (const char* proj : {"gate", "up", "down"})
    r.push_back({p + "experts.{E}." + proj + "_proj.weight", std::string("blk.{L}.ffn_") + proj + "_exps.weight"});
  if (!shared_expert) return;
  for (const char* proj : {"gate", "up", "down"})
    r.push_back({p + "shared_expert." + proj + "_proj.weight", std::string("blk.{L}.ffn_") + proj + "_shexp.weight"});
  // HF [1, hidden]; written as the converter does (ne [hidden, 1], F32), read by llama.cpp as its {n_embd}.
  r.push_back({p + "shared_expert_gate.weight", "blk.{L}.ffn_gate_inp_shexp.weight"});
}

void qwen_moe_mlx_keys(const ModelHparams& h, nlohmann::json& cfg) {
  nlohmann::json& j = cfg;
  auto put = [&](const char* k, const nlohmann::json& v) {
    if (!j.contains(k) || j[k].is_null()) j[k] = v;
  };
  put("num_experts", h.experts);
  put("num_experts_per_tok", h.experts_used);
  put("moe_intermediate_size", h.expert_width());
  put("intermediate_size", h.intermediate);
  put("num_key_value_heads", h.kv_heads);
  put("rms_norm_eps", h.eps);
  put("rope_theta", h.rope.theta);
  put("head_dim", h.head_dim);
  put("tie_word_embeddings", h.tied);
  put("max_position_embeddings", h.context > 0 ? h.context : 32768);
  put("norm_topk_prob", h.norm_topk);
  put("decoder_sparse_step", 1);
  put("mlp_only_layers", nlohmann::json::array());
  if (h.shared_intermediate > 0) put("shared_expert_intermediate_size", h.shared_intermediate);
}

}  // namespace squint::families
