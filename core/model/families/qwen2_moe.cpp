// Qwen2-MoE (HF Qwen2MoeForCausalLM, e.g. Qwen1.5-MoE-A2.7B, Qwen2-57B-A14B): the Qwen2 layer (q/k/v biases
// unless qkv_bias = false) with a sparse MoE block: softmax top-k routing over `mlp.gate`, renormalised only
// when norm_topk_prob (HF default false), plus a shared expert of width shared_expert_intermediate_size whose
// output is scaled by sigmoid(mlp.shared_expert_gate · x); layers listed in mlp_only_layers or off the
// decoder_sparse_step are dense MLPs of width intermediate_size.
// GGUF: llama.cpp's `qwen2moe` (src/models/qwen2moe.cpp): every layer MoE, no renormalisation, an output
// tensor always, q/k/v of width hidden. MLX: mlx-lm's models/qwen2_moe.py (same restrictions, q/k/v biases
// always, head_dim = hidden / heads, linear RoPE scaling only).
#include "model/families/common.h"
#include "model/families/qwen_moe.h"
#include "model/families/registry.h"
#include "util/error.h"

namespace squint::families {

namespace {

class Qwen2MoeFamily final : public Family {
 public:
  std::string name() const override { return "qwen2_moe"; }
  std::vector<std::string> model_types() const override { return {"qwen2_moe"}; }

  ModelHparams from_config(const nlohmann::json& cfg, const std::string& where) const override {
    ConfigReader c(cfg, where);
    ModelHparams h = decoder_hparams(c);
    h.family = name();
    h.model_type = config_model_type(cfg);
    // configuration_qwen2_moe.py's defaults.
    read_qwen_moe(c, h,
                  {.experts = 60,
                   .experts_used = 4,
                   .expert_intermediate = 1408,
                   .shared_intermediate = 5632,
                   .intermediate = 5632,
                   .shared_expert = true});
    h.qkv_bias = c.boolean("qkv_bias", true);
    return h;
  }

  ModelWeights load(const ModelHparams& h, WeightLoader& w) const override {
    return load_prenorm_decoder(w, h, [&](int l, const std::string&, LayerWeights& L) { load_qwen_moe_mlp(w, h, l, L); });
  }

  std::vector<TensorShape> tensors(const ModelHparams& h) const override {
    return prenorm_decoder_tensors(h, h.qkv_bias, false,
                                   [&](int l, const std::string&, std::vector<TensorShape>& t) { qwen_moe_mlp_tensors(h, l, t); });
  }

  std::string gguf_arch(const ModelHparams&) const override { return "qwen2moe"; }
  bool reads_gguf(const std::string& arch, const GgufFile&) const override { return arch == "qwen2moe"; }
  std::vector<GgufKV> gguf_kv(const ModelHparams& h, const std::string& model_name) const override {
    // qwen2moe's loader: `output` is required (no tied fallback), attn_q / attn_output are hidden x hidden.
    if (h.tied)
      fail("qwen2_moe with tie_word_embeddings = true has no GGUF form: llama.cpp's qwen2moe needs an output tensor");
    if (h.heads * h.head_dim != h.hidden)
      fail(
          "qwen2_moe with head_dim x heads != hidden_size has no GGUF form: llama.cpp's qwen2moe sizes q by "
          "hidden_size");
    return qwen_moe_gguf_kv("qwen2moe", h, model_name, false);
  }
  ModelHparams from_gguf(const GgufFile& g, ByteSource* src) const override {
    ModelHparams h = qwen_moe_from_gguf(g, src, name(), false);
    h.qkv_bias = g.tensor("blk.0.attn_q.bias") != nullptr;
    return h;
  }
  std::vector<GgufNameRule> gguf_names(const ModelHparams&) const override {
    std::vector<GgufNameRule> r = llama_gguf_names(false, false);
    qwen_moe_gguf_names(true, r);
    return r;
  }

  void mlx_config(const ModelHparams& h, nlohmann::json& cfg) const override {
    // mlx-lm's qwen2_moe.py: every layer Qwen2MoeSparseMoeBlock, scores never renormalised, lm_head always,
    // q/k/v with biases, head_dim = hidden // heads, rope_scaling 'linear' only.
    const char* why = nullptr;
    for (int l = 0; l < h.layers && !why; ++l)
      if (!h.moe(l)) why = "dense layers (mlp_only_layers / decoder_sparse_step): every layer of mlx-lm's is MoE";
    if (!why && h.norm_topk) why = "norm_topk_prob = true: mlx-lm's never renormalises the top-k weights";
    if (!why && h.tied) why = "tie_word_embeddings = true: mlx-lm's always loads an lm_head";
    if (!why && !h.qkv_bias) why = "qkv_bias = false: mlx-lm's q/k/v projections always have biases";
    if (!why && h.heads * h.head_dim != h.hidden)
      why = "head_dim x heads != hidden_size: mlx-lm's uses hidden_size / heads";
    if (!why && h.rope.type != "default" && h.rope.type != "linear") why = "rope_scaling other than linear";
    if (why) fail(std::string("qwen2_moe with ") + why + " (mlx_lm/models/qwen2_moe.py); it has no MLX form");
    qwen_moe_mlx_keys(h, cfg);
  }
};

}  // namespace

const Family& qwen2_moe_family() {
  static const Qwen2MoeFamily f;
  return f;
}

}  // namespace squint::families
