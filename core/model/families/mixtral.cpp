// Mixtral: the Llama layer with a sparse MoE block instead of the MLP — a router (block_sparse_moe.gate)
// picks num_experts_per_tok of num_local_experts experts per token (softmax, top-k, renormalised: HF's
// MixtralSparseMoeBlock), each a SwiGLU MLP named w1 (gate), w3 (up), w2 (down).
// GGUF: llama.cpp's `llama` architecture with llama.expert_count / expert_used_count, the router as
// blk.N.ffn_gate_inp (kept F32 by llama-quantize) and the experts stacked into ffn_{gate,up,down}_exps.
#include "model/config_keys.h"
#include "model/families/common.h"
#include "model/families/registry.h"
#include "model/gguf_hparams.h"
#include "util/error.h"

namespace squint::families {

namespace {

class MixtralFamily final : public Family {
 public:
  std::string name() const override { return "mixtral"; }
  std::vector<std::string> model_types() const override { return {"mixtral"}; }

  ModelHparams from_config(const nlohmann::json& cfg, const std::string& where) const override {
    ConfigReader c(cfg, where);
    ModelHparams h = decoder_hparams(c);
    h.family = name();
    h.model_type = config_model_type(cfg);
    h.experts = c.integer("num_local_experts", 0);
    h.experts_used = c.integer("num_experts_per_tok", 2);
    if (h.experts <= 0) fail(where + ": num_local_experts must be positive for a mixtral model");
    if (h.experts_used <= 0 || h.experts_used > h.experts)
      fail(where + ": num_experts_per_tok = " + std::to_string(h.experts_used) + " is not between 1 and num_local_experts = " +
           std::to_string(h.experts));
    if (h.intermediate <= 0) fail(where + ": intermediate_size must be positive");
    h.norm_topk = true;
    h.layer_moe.assign(static_cast<std::size_t>(h.layers), true);
    return h;
  }

  ModelWeights load(const ModelHparams& h, WeightLoader& w) const override {
    return load_prenorm_decoder(w, h, [&](int, const std::string& p, LayerWeights& L) {
      L.moe.router = w.matrix(p + "block_sparse_moe.gate.weight", h.experts, h.hidden);
      for (int e = 0; e < h.experts; ++e)
        L.moe.experts.push_back(
            load_mlp(w, h, p + "block_sparse_moe.experts." + std::to_string(e) + ".", h.intermediate, "w1", "w3", "w2"));
    });
  }

  std::vector<TensorShape> tensors(const ModelHparams& h) const override {
    const int64_t H = h.hidden, I = h.intermediate;
    return prenorm_decoder_tensors(h, false, false, [&](int, const std::string& p, std::vector<TensorShape>& t) {
      t.push_back({p + "block_sparse_moe.gate.weight", {h.experts, H}});
      for (int e = 0; e < h.experts; ++e) {
        const std::string q = p + "block_sparse_moe.experts." + std::to_string(e) + ".";
        t.push_back({q + "w1.weight", {I, H}});
        t.push_back({q + "w2.weight", {H, I}});
        t.push_back({q + "w3.weight", {I, H}});
      }
    });
  }

  std::string gguf_arch(const ModelHparams&) const override { return "llama"; }
  bool reads_gguf(const std::string& arch, const GgufFile& g) const override {
    const GgufValue* e = g.find("llama.expert_count");
    return arch == "llama" && e && e->as_int(g.file + ": llama.expert_count") > 0;
  }
  std::vector<GgufKV> gguf_kv(const ModelHparams& h, const std::string& model_name) const override {
    std::vector<GgufKV> kv = decoder_gguf_kv("llama", h, model_name);
    kv.push_back(gguf_kv_pair("llama.expert_count", h.experts));
    kv.push_back(gguf_kv_pair("llama.expert_used_count", h.experts_used));
    return kv;
  }
  ModelHparams from_gguf(const GgufFile& g, ByteSource* src) const override {
    GgufHparamsReader r(g);
    ModelHparams h = r.decoder(src);
    h.family = name();
    h.experts = r.integer("expert_count", 0, true);
    h.experts_used = r.integer("expert_used_count", 0, true);
    if (h.experts_used <= 0 || h.experts_used > h.experts) fail(g.file + ": llama.expert_used_count is out of range");
    h.layer_moe.assign(static_cast<std::size_t>(h.layers), true);
    return h;
  }
  std::vector<GgufNameRule> gguf_names(const ModelHparams&) const override {
    std::vector<GgufNameRule> r = llama_gguf_names(true, false);
    r.push_back({"model.layers.{L}.block_sparse_moe.gate.weight", "blk.{L}.ffn_gate_inp.weight"});
    r.push_back({"model.layers.{L}.block_sparse_moe.experts.{E}.w1.weight", "blk.{L}.ffn_gate_exps.weight"});
    r.push_back({"model.layers.{L}.block_sparse_moe.experts.{E}.w3.weight", "blk.{L}.ffn_up_exps.weight"});
    r.push_back({"model.layers.{L}.block_sparse_moe.experts.{E}.w2.weight", "blk.{L}.ffn_down_exps.weight"});
    return r;
  }

 private:
  static GgufKV gguf_kv_pair(const std::string& k, int v) { return squint::gguf_kv(k, gguf_u32(v)); }
};

}  // namespace

const Family& mixtral_family() {
  static const MixtralFamily f;
  return f;
}

}  // namespace squint::families
