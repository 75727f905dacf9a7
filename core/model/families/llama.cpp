// The Llama family: Llama 2/3, Mistral, Qwen2 (q/k/v biases), Qwen3 (q/k RMSNorm), SmolLM (model_type llama).
// GGUF: llama.cpp's llama / qwen2 / qwen3 architectures; only `llama` interleaves RoPE, so only its Q/K rows
// are permuted (convert_hf_to_gguf.py LlamaModel.permute).
#include "model/families/common.h"
#include "model/families/registry.h"
#include "model/config_keys.h"
#include "model/gguf_hparams.h"
#include "util/error.h"

namespace squint::families {

namespace {

class LlamaFamily final : public Family {
 public:
  std::string name() const override { return "llama"; }
  std::vector<std::string> model_types() const override { return {"llama", "mistral", "qwen2", "qwen3"}; }

  ModelHparams from_config(const nlohmann::json& cfg, const std::string& where) const override {
    ConfigReader c(cfg, where);
    ModelHparams h = decoder_hparams(c);
    h.family = name();
    h.model_type = config_model_type(cfg);
    if (h.intermediate <= 0) fail(where + ": intermediate_size must be positive");
    // o_proj / MLP biases are not part of this forward pass: refuse rather than drop them.
    if (c.boolean("attention_bias", false) && (h.model_type == "llama" || h.model_type == "mistral"))
      fail(where + ": attention_bias = true (biases on every projection) is not supported for " + h.model_type);
    if (c.boolean("mlp_bias", false)) fail(where + ": mlp_bias = true is not supported");
    // Mistral's sliding_window (4096 in v0.1) only matters beyond 4096 tokens; llama.cpp's llama graph ignores
    // it too, so both runtimes agree (windows of squint's evaluations are shorter).
    return h;
  }

  ModelWeights load(const ModelHparams& h, WeightLoader& w) const override {
    return load_prenorm_decoder(
        w, h, [&](int, const std::string& p, LayerWeights& L) { L.mlp = load_mlp(w, h, p + "mlp.", h.intermediate); });
  }

  std::vector<TensorShape> tensors(const ModelHparams& h) const override {
    return prenorm_decoder_tensors(h, h.model_type == "qwen2", h.model_type == "qwen3",
                                   [&](int, const std::string& p, std::vector<TensorShape>& t) { mlp_tensors(h, p + "mlp.", h.intermediate, t); });
  }

  std::string gguf_arch(const ModelHparams& h) const override {
    if (h.model_type == "qwen2" || h.model_type == "qwen3") return h.model_type;
    return "llama";
  }
  bool reads_gguf(const std::string& arch, const GgufFile& g) const override {
    if (arch == "qwen2" || arch == "qwen3") return true;
    const GgufValue* e = g.find("llama.expert_count");
    return arch == "llama" && (!e || e->as_int(g.file + ": llama.expert_count") == 0);
  }
  std::vector<GgufKV> gguf_kv(const ModelHparams& h, const std::string& name) const override {
    return decoder_gguf_kv(gguf_arch(h), h, name);
  }
  ModelHparams from_gguf(const GgufFile& g, ByteSource* src) const override {
    ModelHparams h = GgufHparamsReader(g).decoder(src);
    h.family = this->name();
    return h;
  }
  std::vector<GgufNameRule> gguf_names(const ModelHparams& h) const override {
    return llama_gguf_names(gguf_arch(h) == "llama", gguf_arch(h) == "qwen3");
  }
};

}  // namespace

const Family& llama_family() {
  static const LlamaFamily f;
  return f;
}

}  // namespace squint::families
