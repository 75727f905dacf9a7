// Qwen3-MoE (HF Qwen3MoeForCausalLM, e.g. Qwen3-30B-A3B): the Qwen3 layer (per-head RMSNorm of q and k before
// RoPE, no biases, head_dim independent of hidden / heads) with a sparse MoE block: softmax top-k routing over
// `mlp.gate`, renormalised when norm_topk_prob, no shared expert; layers listed in mlp_only_layers or off the
// decoder_sparse_step are dense MLPs of width intermediate_size.
// GGUF: llama.cpp's `qwen3moe` (src/models/qwen3moe.cpp): every layer MoE and always renormalised. MLX: mlx-lm's
// models/qwen3_moe.py, which runs dense layers and both routings but no RoPE scaling.
#include "model/families/common.h"
#include "model/families/qwen_moe.h"
#include "model/families/registry.h"
#include "util/error.h"

namespace squint::families {

namespace {

class Qwen3MoeFamily final : public Family {
 public:
  std::string name() const override { return "qwen3_moe"; }
  std::vector<std::string> model_types() const override { return {"qwen3_moe"}; }

  ModelHparams from_config(const nlohmann::json& cfg, const std::string& where) const override {
    ConfigReader c(cfg, where);
    ModelHparams h = decoder_hparams(c);
    h.family = name();
    h.model_type = config_model_type(cfg);
    // configuration_qwen3_moe.py's defaults.
    read_qwen_moe(c, h, {.experts = 128, .experts_used = 8, .expert_intermediate = 768, .intermediate = 6144});
    // attention_bias puts biases on o_proj too, which this forward pass does not have: refuse, not drop.
    if (c.boolean("attention_bias", false)) fail(where + ": attention_bias = true is not supported for qwen3_moe");
    return h;
  }

  ModelWeights load(const ModelHparams& h, WeightLoader& w) const override {
    return load_prenorm_decoder(w, h, [&](int l, const std::string& p, LayerWeights& L) {
      for (const auto* n : {&L.attn.q_norm, &L.attn.k_norm})
        if (!n->size())
          fail("missing weight '" + p + "self_attn." + (n == &L.attn.q_norm ? "q" : "k") + "_norm.weight'");
      load_qwen_moe_mlp(w, h, l, L);
    });
  }

  std::vector<TensorShape> tensors(const ModelHparams& h) const override {
    return prenorm_decoder_tensors(h, false, true,
                                   [&](int l, const std::string&, std::vector<TensorShape>& t) { qwen_moe_mlp_tensors(h, l, t); });
  }

  std::string gguf_arch(const ModelHparams&) const override { return "qwen3moe"; }
  bool reads_gguf(const std::string& arch, const GgufFile&) const override { return arch == "qwen3moe"; }
  std::vector<GgufKV> gguf_kv(const ModelHparams& h, const std::string& model_name) const override {
    return qwen_moe_gguf_kv("qwen3moe", h, model_name, true);
  }
  ModelHparams from_gguf(const GgufFile& g, ByteSource* src) const override {
    return qwen_moe_from_gguf(g, src, name(), true);
  }
  std::vector<GgufNameRule> gguf_names(const ModelHparams&) const override {
    std::vector<GgufNameRule> r = llama_gguf_names(false, true);
    qwen_moe_gguf_names(false, r);
    return r;
  }

  void mlx_config(const ModelHparams& h, nlohmann::json& cfg) const override {
    // mlx-lm's qwen3_moe.py builds nn.RoPE(head_dim, base=rope_theta) and ignores rope_scaling.
    if (h.rope.type != "default" || !h.rope.freq_factors.empty())
      fail("qwen3_moe with rope_scaling has no MLX form: mlx_lm/models/qwen3_moe.py ignores rope_scaling");
    qwen_moe_mlx_keys(h, cfg);
  }
};

}  // namespace

const Family& qwen3_moe_family() {
  static const Qwen3MoeFamily f;
  return f;
}

}  // namespace squint::families
