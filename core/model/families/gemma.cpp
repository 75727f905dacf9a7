// Gemma 2 (model_type gemma2) and Gemma 3's text model (gemma3_text, and the language model inside the
// multimodal gemma3 wrapper), as HF transformers' modeling_gemma2.py / modeling_gemma3.py run them and
// llama.cpp's src/models/gemma2.cpp / gemma3.cpp build them:
//  - RMSNorm multiplies by 1 + w (the loader adds the 1; convert_hf_to_gguf.py stores 1 + w in GGUF);
//  - embeddings scaled by sqrt(hidden) (float32, unrounded: llama.cpp's sqrtf(n_embd); HF rounds it to the
//    activations' dtype, which is float32 in a float32 run);
//  - GeGLU with the tanh GELU (hidden_activation gelu_pytorch_tanh);
//  - the sandwich: input_layernorm → attention → post_attention_layernorm → residual,
//    pre_feedforward_layernorm → MLP → post_feedforward_layernorm → residual;
//  - scores scaled by query_pre_attn_scalar^-1/2; Gemma 3: q/k RMSNorm per head (also 1 + w);
//  - sliding-window layers (layer_types, or Gemma 2's alternation / Gemma 3's sliding_window_pattern) with
//    their own RoPE (Gemma 3: rope_local_base_freq, unscaled; the global layers get rope_scaling);
//  - Gemma 2: tanh soft-capping of attention scores and of the final logits.
// The multimodal wrapper's vision tower and projector are not run: eval reads the language model only and the
// GGUF writer leaves them out (llama.cpp runs them from a separate mmproj file, which squint does not write).
#include <cmath>
#include <cstdio>

#include "model/config_keys.h"
#include "model/families/common.h"
#include "model/families/registry.h"
#include "model/gguf_hparams.h"
#include "util/error.h"

namespace squint::families {

namespace {

using nlohmann::json;

// Where the language model's tensors live: a text checkpoint (Gemma2ForCausalLM, Gemma3ForCausalLM), the
// multimodal wrapper as published (Gemma3ForConditionalGeneration: language_model.model.*, what mlx-lm's
// gemma3.py sanitize expects) and as newer transformers save it (model.language_model.*, lm_head at the top).
struct NameLayout {
  const char* model;
  const char* head;
};
constexpr NameLayout kTextLayout{"model.", "lm_head.weight"};
constexpr NameLayout kWrapperLayouts[] = {{"language_model.model.", "language_model.lm_head.weight"},
                                          {"model.language_model.", "lm_head.weight"}};

bool starts(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// The HF configuration classes' defaults (Gemma2Config, Gemma3TextConfig): published wrapper configs list only
// what differs from them (google/gemma-3-4b-it's text_config has six keys).
json defaults(int version) {
  json d = {{"hidden_size", 2304},
            {"intermediate_size", 9216},
            {"num_hidden_layers", 26},
            {"num_attention_heads", 8},
            {"num_key_value_heads", 4},
            {"head_dim", 256},
            {"rms_norm_eps", 1e-6},
            {"query_pre_attn_scalar", 256},
            {"sliding_window", 4096},
            {"tie_word_embeddings", true},
            {"bos_token_id", 2},
            {"eos_token_id", 1},
            {"hidden_activation", "gelu_pytorch_tanh"}};
  if (version == 2) {
    d.update({{"vocab_size", 256000},
              {"max_position_embeddings", 8192},
              {"rope_theta", 10000.0},
              {"attn_logit_softcapping", 50.0},
              {"final_logit_softcapping", 30.0}});
  } else {
    d.update({{"vocab_size", 262208},
              {"max_position_embeddings", 131072},
              {"rope_theta", 1000000.0},
              {"rope_local_base_freq", 10000.0},
              {"sliding_window_pattern", 6}});
  }
  return d;
}

// A soft-cap: a positive number, or null/absent (none).
float softcap(const ConfigReader& c, const char* key) {
  if (!c.has(key)) return 0.0f;
  const double v = c.number(key, 0.0);
  if (!(v > 0)) c.fail_key(key, "must be a positive number or null");
  return static_cast<float>(v);
}

// Which layers slide: layer_types when given, else every `period`-th layer is global (layer i slides when
// (i + 1) % period != 0: HF's default layer_types for both versions).
std::vector<bool> sliding_layers(const ConfigReader& c, int layers, int period) {
  std::vector<bool> s(static_cast<std::size_t>(layers));
  if (c.has("layer_types")) {
    const json& lt = c.text()["layer_types"];
    if (!lt.is_array() || lt.size() != static_cast<std::size_t>(layers))
      c.fail_key("layer_types", "must list one type per layer (" + std::to_string(layers) + ")");
    for (std::size_t i = 0; i < lt.size(); ++i) {
      const std::string t = lt[i].is_string() ? lt[i].get<std::string>() : std::string("?");
      if (t != "sliding_attention" && t != "full_attention")
        c.fail_key("layer_types", "has '" + t + "' (squint runs sliding_attention and full_attention)");
      s[i] = t == "sliding_attention";
    }
    return s;
  }
  if (period <= 0) c.fail_key("sliding_window_pattern", "must be positive");
  for (int i = 0; i < layers; ++i) s[static_cast<std::size_t>(i)] = (i + 1) % period != 0;
  return s;
}

// The period P with layer i sliding iff i % P < P − 1, or 0 when every layer slides (llama.cpp's
// set_swa_pattern, which is how its gemma2 and gemma3 loaders read attention.sliding_window_pattern); -1 when
// the layers follow no such pattern.
int sliding_period(const ModelHparams& h) {
  bool all = h.layers > 0;
  for (int i = 0; i < h.layers; ++i) all = all && h.sliding(i);
  if (all) return 0;
  for (int p = 1; p <= h.layers; ++p) {
    bool ok = true;
    for (int i = 0; i < h.layers && ok; ++i) ok = h.sliding(i) == (i % p < p - 1);
    if (ok) return p;
  }
  return -1;
}

class GemmaFamily final : public Family {
 public:
  explicit GemmaFamily(int version) : v_(version) {}
  std::string name() const override { return v_ == 2 ? "gemma2" : "gemma3"; }
  std::vector<std::string> model_types() const override {
    if (v_ == 2) return {"gemma2"};
    return {"gemma3_text", "gemma3"};
  }

  ModelHparams from_config(const json& cfg, const std::string& where) const override {
    const json& text = text_config(cfg);
    const bool wrapper = &text != &cfg;
    json merged = defaults(v_);
    for (const auto& [k, val] : text.items()) merged[k] = val;
    // A wrapper may give these at its top level only (HF reads them there).
    if (wrapper) {
      for (const char* k : {"bos_token_id", "eos_token_id", "tie_word_embeddings"})
        if (cfg.contains(k) && !cfg[k].is_null()) merged[k] = cfg[k];
      if (!text.contains("vocab_size") && cfg.contains("vocab_size"))
        merged["vocab_size"] = cfg["vocab_size"];  // mlx-lm's gemma3.py too
    }
    const ConfigReader c(merged, where);
    for (const char* k : {"rope_scaling", "rope_parameters"})
      if (c.has(k) && !c.text()[k].is_object()) c.fail_key(k, "is not an object");
    ModelHparams h = decoder_hparams(c);
    h.family = name();
    h.model_type = config_model_type(cfg);
    if (wrapper)
      h.model_type =
          cfg.contains("model_type") && cfg["model_type"].is_string() ? cfg["model_type"].get<std::string>() : "gemma3";
    if (wrapper && (v_ == 2 || h.model_type != "gemma3"))
      fail(where + ": a '" + h.model_type + "' model around a " + name() +
           " text model is not supported (squint runs " + (v_ == 2 ? "gemma2" : "gemma3 and gemma3_text") + ")");
    if (h.intermediate <= 0) fail(where + ": intermediate_size must be positive");
    const json& av = c.text()["hidden_activation"];
    const std::string act = av.is_string() ? av.get<std::string>() : av.dump();
    if (act != "gelu_pytorch_tanh")
      fail(where + ": hidden_activation '" + act + "' is not supported for " + name() +
           " (squint runs gelu_pytorch_tanh)");
    if (c.boolean("attention_bias", false)) fail(where + ": attention_bias = true is not supported for " + name());
    if (c.boolean("use_bidirectional_attention", false))
      fail(where + ": use_bidirectional_attention = true (an embedding model, e.g. EmbeddingGemma) is not supported");
    h.act = Activation::GeluTanh;
    h.embed_scale = std::sqrt(static_cast<float>(h.hidden));
    const double qpas = c.number("query_pre_attn_scalar", 256);
    if (!(qpas > 0)) c.fail_key("query_pre_attn_scalar", "must be positive");
    h.attn_scale = static_cast<float>(1.0 / std::sqrt(qpas));
    h.attn_softcap = softcap(c, "attn_logit_softcapping");
    h.final_softcap = softcap(c, "final_logit_softcapping");
    h.sliding_window = c.integer("sliding_window", 0);
    if (h.sliding_window < 0) c.fail_key("sliding_window", "must not be negative");
    int period = 2;
    if (v_ == 3)
      period = c.has("sliding_window_pattern") ? c.integer("sliding_window_pattern", 6)
                                               : c.integer("_sliding_window_pattern", 6);
    h.layer_sliding = sliding_layers(c, h.layers, period);
    if (h.sliding_window == 0) h.layer_sliding.assign(h.layer_sliding.size(), false);
    // RoPE: Gemma 2 has one for every layer; Gemma 3's sliding layers have their own base and no scaling.
    // transformers' newer rope_parameters holds the same (per layer type for Gemma 3).
    if (v_ == 2) {
      if (c.has("rope_parameters")) read_rope_scaling(c.text()["rope_parameters"], h.rope, where + ": rope_parameters");
      h.rope_local = h.rope;
    } else {
      h.rope_local = RopeSpec{};
      h.rope_local.theta = c.number("rope_local_base_freq", 10000.0);
      if (c.has("rope_parameters")) {
        const json& rp = c.text()["rope_parameters"];
        if (rp.contains("full_attention") || rp.contains("sliding_attention")) {
          for (const char* k : {"full_attention", "sliding_attention"})
            if (rp.contains(k) && !rp[k].is_object()) fail(where + ": rope_parameters." + k + " is not an object");
          if (rp.contains("full_attention"))
            read_rope_scaling(rp["full_attention"], h.rope, where + ": rope_parameters.full_attention");
          if (rp.contains("sliding_attention"))
            read_rope_scaling(rp["sliding_attention"], h.rope_local, where + ": rope_parameters.sliding_attention");
        } else {
          read_rope_scaling(rp, h.rope, where + ": rope_parameters");
        }
      }
    }
    return h;
  }

  ModelWeights load(const ModelHparams& h, WeightLoader& w) const override {
    const NameLayout L = layout(h, w);
    ModelWeights m = load_prenorm_decoder(
        w, h, [&](int, const std::string& p, LayerWeights& Lw) { Lw.mlp = load_mlp(w, h, p + "mlp.", h.intermediate); },
        names(L));
    for (int l = 0; l < h.layers; ++l) {
      const AttnWeights& a = m.layers[static_cast<std::size_t>(l)].attn;
      const std::string p = std::string(L.model) + "layers." + std::to_string(l) + ".self_attn.";
      if (v_ == 3 && (!a.q_norm.size() || !a.k_norm.size()))
        fail("missing weight '" + p + (a.q_norm.size() ? "k" : "q") + "_norm.weight'");
      if (a.bq.size() || a.bk.size() || a.bv.size())
        fail("weight '" + p + "q_proj.bias' (attention biases) is not part of " + name());
    }
    return m;
  }

  std::vector<TensorShape> tensors(const ModelHparams& h) const override {
    const NameLayout L = h.model_type == "gemma3" ? kWrapperLayouts[0] : kTextLayout;
    std::vector<TensorShape> t = prenorm_decoder_tensors(
        h, false, v_ == 3,
        [&](int, const std::string& p, std::vector<TensorShape>& out) {
          mlp_tensors(h, p + "mlp.", h.intermediate, out);
        },
        names(L));
    if (h.model_type == "gemma3") {
      // A stub of the wrapper's vision side (SigLIP patch embedding, its last norm, the projector), real names,
      // 32 wide: enough for tests to see that every verb leaves it alone or carries it as it should.
      t.push_back({"vision_tower.vision_model.embeddings.patch_embedding.weight", {32, 3, 14, 14}});
      t.push_back({"vision_tower.vision_model.post_layernorm.weight", {32}});
      t.push_back({"multi_modal_projector.mm_input_projection_weight", {32, h.hidden}});
      t.push_back({"multi_modal_projector.mm_soft_emb_norm.weight", {32}});
    }
    return t;
  }

  bool outside_text_model(const std::string& n) const override {
    return v_ == 3 && (starts(n, "vision_tower.") || starts(n, "multi_modal_projector.") ||
                       starts(n, "model.vision_tower.") || starts(n, "model.multi_modal_projector."));
  }

  // mlx-lm (ml-explore/mlx-lm at d78bf58e) mlx_lm/models/gemma2.py, gemma3_text.py and gemma3.py: the module
  // paths are the HF names (gemma3.py's sanitize drops the wrapper's vision_tower and multi_modal_projector
  // and hands language_model.* to gemma3_text.py), so only the config needs care.
  void mlx_config(const ModelHparams& h, json& cfg) const override {
    const bool wrapper = cfg.contains("text_config") && cfg["text_config"].is_object();
    json& t = wrapper ? cfg["text_config"] : cfg;
    auto refuse = [&](const std::string& why) { fail("mlx-lm's " + model_file() + " cannot run this model: " + why); };
    auto set_default = [&t](const char* k, const json& v) {
      if (!t.contains(k) || t[k].is_null()) t[k] = v;
    };
    if (v_ == 2) {
      // gemma2.py ties the LM head to the embedding, always soft-caps, has no RoPE scaling, needs head_dim and
      // defaults query_pre_attn_scalar to 144 (HF: 256). It has no sliding window either: like any Gemma 2 it
      // converts, it runs contexts longer than sliding_window differently from HF (not refused: that is mlx-lm's).
      if (!h.tied) refuse("untied embeddings (gemma2.py has no lm_head)");
      if (h.attn_softcap <= 0 || h.final_softcap <= 0) refuse("soft-capping disabled (gemma2.py always applies it)");
      if (h.rope.type != "default") refuse("rope_scaling (gemma2.py has none)");
      set_default("head_dim", h.head_dim);
      set_default("query_pre_attn_scalar", 256);
      set_default("rope_theta", h.rope.theta);
      return;
    }
    // gemma3_text.py: sliding layers by sliding_window_pattern only (layer i slides iff (i + 1) % P != 0), no
    // soft-capping, unscaled local RoPE; rope_theta / rope_local_base_freq / rope_scaling (not rope_parameters).
    if (h.attn_softcap > 0 || h.final_softcap > 0) refuse("soft-capping (gemma3_text.py has none)");
    if (h.rope_local.type != "default") refuse("RoPE scaling on the sliding layers");
    const int period = sliding_period(h);
    if (period <= 0) refuse("its sliding layers are not every layer but each P-th (sliding_window_pattern)");
    t["sliding_window_pattern"] = period;
    if (h.sliding_window > 0) set_default("sliding_window", h.sliding_window);
    set_default("rope_theta", h.rope.theta);
    set_default("rope_local_base_freq", h.rope_local.theta);
    if (h.rope.type != "default") {
      json rs = {{"rope_type", h.rope.type}, {"factor", h.rope.factor}};
      if (h.rope.type == "llama3")
        rs.update({{"low_freq_factor", h.rope.low_freq_factor},
                   {"high_freq_factor", h.rope.high_freq_factor},
                   {"original_max_position_embeddings", h.rope.original_max_pos}});
      set_default("rope_scaling", rs);
    }
    // gemma3.py overwrites text_config's vocab_size with the wrapper's (default 262208).
    if (wrapper) cfg["vocab_size"] = h.vocab;
  }

  // gemma3.py's sanitize takes weights["language_model"]: the wrapper as Google publishes it. Newer transformers
  // save model.language_model.* (and lm_head at the top), which it cannot find.
  std::string mlx_unreadable(const std::string& n) const override {
    if (v_ == 3 && starts(n, "model.language_model."))
      return "mlx-lm's gemma3.py reads the language model under language_model.model.* (the layout Google publishes); "
             "this checkpoint's newer transformers layout (model.language_model.*) is not converted to MLX";
    return "";
  }

  std::string gguf_arch(const ModelHparams&) const override { return name(); }
  bool reads_gguf(const std::string& arch, const GgufFile&) const override { return arch == name(); }

  std::vector<GgufKV> gguf_kv(const ModelHparams& h, const std::string& model_name) const override {
    const std::string a = name();
    auto refuse = [&](const std::string& why) {
      fail("llama.cpp's " + a + " architecture cannot run this model: " + why);
    };
    // llama.cpp ignores query_pre_attn_scalar: its loaders scale by 1/sqrt(head_dim), or 1/sqrt(hidden/heads)
    // for the 27B layer counts (gemma2: 46, gemma3: 62), as Google's reference config does.
    const bool big = h.layers == (v_ == 2 ? 46 : 62);
    const double llama_scale = 1.0 / std::sqrt(static_cast<double>(big ? h.hidden / h.heads : h.head_dim));
    if (std::abs(h.attn_scale / llama_scale - 1.0) > 1e-6) {
      char qpas[32];
      std::snprintf(qpas, sizeof qpas, "%.6g", 1.0 / (static_cast<double>(h.attn_scale) * h.attn_scale));
      refuse(std::string("query_pre_attn_scalar = ") + qpas + " but it scales attention by 1/sqrt(" +
             std::to_string(big ? h.hidden / h.heads : h.head_dim) + ")");
    }
    if (v_ == 2 && (h.attn_softcap <= 0 || h.final_softcap <= 0))
      refuse("its gemma2 graph always soft-caps attention scores and logits; this config disables one");
    if (v_ == 3 && h.attn_softcap > 0)
      refuse("attn_logit_softcapping is set; the gemma3 graph has no attention soft-capping");
    if (v_ == 2 && !h.tied) refuse("untied embeddings (the gemma2 graph reads its LM head from token_embd)");
    if (h.rope.type == "llama3" || h.rope_local.type == "llama3") refuse("llama3 RoPE scaling");
    if (v_ == 3 && (h.rope_local.type != "default" || h.rope_local.factor != 1.0))
      refuse("RoPE scaling on the sliding layers (llama.cpp scales the global layers only)");
    const int period = sliding_period(h);
    if (period < 0)
      refuse("its sliding layers follow no repeating pattern (attention.sliding_window_pattern is one period)");
    std::vector<GgufKV> kv = decoder_gguf_kv(a, h, model_name);
    // Written always, as convert_hf_to_gguf.py does (decoder_gguf_kv adds them only when head_dim is unusual).
    if (h.head_dim * h.heads == h.hidden) {
      kv.push_back(squint::gguf_kv(a + ".attention.key_length", gguf_u32(h.head_dim)));
      kv.push_back(squint::gguf_kv(a + ".attention.value_length", gguf_u32(h.head_dim)));
    }
    if (h.attn_softcap > 0)
      kv.push_back(squint::gguf_kv(a + ".attn_logit_softcapping", GgufValue::f32(h.attn_softcap)));
    if (h.final_softcap > 0)
      kv.push_back(squint::gguf_kv(a + ".final_logit_softcapping", GgufValue::f32(h.final_softcap)));
    // Gemma 3 without attention.sliding_window runs every layer globally in llama.cpp; Gemma 2's graph always
    // has one, so "no sliding layer" is pattern 1 there.
    const bool slides = period != 1;
    if (slides || v_ == 2) {
      kv.push_back(
          squint::gguf_kv(a + ".attention.sliding_window", gguf_u32(h.sliding_window > 0 ? h.sliding_window : 4096)));
      kv.push_back(squint::gguf_kv(a + ".attention.sliding_window_pattern", gguf_u32(period)));
    }
    if (v_ == 3 && slides)
      kv.push_back(squint::gguf_kv(a + ".rope.freq_base_swa", GgufValue::f32(static_cast<float>(h.rope_local.theta))));
    return kv;
  }

  ModelHparams from_gguf(const GgufFile& g, ByteSource* src) const override {
    GgufHparamsReader r(g);
    ModelHparams h = r.decoder(src);
    h.family = name();
    h.model_type = v_ == 2 ? "gemma2" : "gemma3_text";
    h.act = Activation::GeluTanh;
    h.embed_scale = std::sqrt(static_cast<float>(h.hidden));
    // The scale llama.cpp's loader uses (see gguf_kv).
    const bool big = h.layers == (v_ == 2 ? 46 : 62);
    h.attn_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(big ? h.hidden / h.heads : h.head_dim)));
    if (h.rope.dims > 0) fail(g.file + ": " + name() + " with partial rotary embeddings is not supported");
    if (v_ == 2) {
      h.attn_softcap = static_cast<float>(r.number("attn_logit_softcapping", 50.0));
      h.final_softcap = static_cast<float>(r.number("final_logit_softcapping", 30.0));
      h.sliding_window = r.integer("attention.sliding_window", 4096);
      h.rope_local = h.rope;
      h.rope_local.theta = r.number("rope.freq_base_swa", h.rope.theta);
    } else {
      h.final_softcap = static_cast<float>(r.number("final_logit_softcapping", 0.0));
      h.sliding_window = r.integer("attention.sliding_window", 0);
      h.rope_local = RopeSpec{};
      h.rope_local.theta = r.number("rope.freq_base_swa", 10000.0);
    }
    const GgufValue* pv = r.get("attention.sliding_window_pattern", false);
    if (pv && !pv->is_integer())
      fail(g.file + ": " + name() + ".attention.sliding_window_pattern is not one number (squint reads a period)");
    const int period = r.integer("attention.sliding_window_pattern", v_ == 2 ? 2 : 6);
    h.layer_sliding.assign(static_cast<std::size_t>(h.layers), false);
    if (h.sliding_window > 0)
      for (int i = 0; i < h.layers; ++i)
        h.layer_sliding[static_cast<std::size_t>(i)] = period == 0 || i % period < period - 1;
    return h;
  }

  std::vector<GgufNameRule> gguf_names(const ModelHparams&) const override {
    std::vector<GgufNameRule> r;
    auto add = [&r](const NameLayout& L) {
      const std::string P = L.model, B = P + "layers.{L}.";
      const GgufTransform one = GgufTransform::AddOne;
      for (const GgufNameRule& x : std::vector<GgufNameRule>{
               {P + "embed_tokens.weight", "token_embd.weight"},
               {P + "norm.weight", "output_norm.weight", one},
               {L.head, "output.weight"},
               {B + "self_attn.q_proj.weight", "blk.{L}.attn_q.weight"},
               {B + "self_attn.k_proj.weight", "blk.{L}.attn_k.weight"},
               {B + "self_attn.v_proj.weight", "blk.{L}.attn_v.weight"},
               {B + "self_attn.o_proj.weight", "blk.{L}.attn_output.weight"},
               {B + "self_attn.q_norm.weight", "blk.{L}.attn_q_norm.weight", one},
               {B + "self_attn.k_norm.weight", "blk.{L}.attn_k_norm.weight", one},
               {B + "mlp.gate_proj.weight", "blk.{L}.ffn_gate.weight"},
               {B + "mlp.up_proj.weight", "blk.{L}.ffn_up.weight"},
               {B + "mlp.down_proj.weight", "blk.{L}.ffn_down.weight"},
               {B + "input_layernorm.weight", "blk.{L}.attn_norm.weight", one},
               {B + "post_attention_layernorm.weight", "blk.{L}.post_attention_norm.weight", one},
               {B + "pre_feedforward_layernorm.weight", "blk.{L}.ffn_norm.weight", one},
               {B + "post_feedforward_layernorm.weight", "blk.{L}.post_ffw_norm.weight", one},
           })
        r.push_back(x);
    };
    add(kTextLayout);
    if (v_ == 3)
      for (const NameLayout& L : kWrapperLayouts) add(L);
    return r;
  }

 private:
  // The layout of the checkpoint at hand, found by its final norm (a text checkpoint first).
  NameLayout layout(const ModelHparams& h, WeightLoader& w) const {
    if (v_ == 2 || w.vector(std::string(kTextLayout.model) + "norm.weight", h.hidden, false).size()) return kTextLayout;
    for (const NameLayout& L : kWrapperLayouts)
      if (w.vector(std::string(L.model) + "norm.weight", h.hidden, false).size()) return L;
    fail(
        "missing weight 'model.norm.weight' (nor language_model.model.norm.weight or "
        "model.language_model.norm.weight)");
  }

  static DecoderNames names(const NameLayout& L) {
    DecoderNames n;
    n.model = L.model;
    n.head = L.head;
    n.norm_add = 1.0f;
    n.sandwich = true;
    return n;
  }

  std::string model_file() const { return v_ == 2 ? "gemma2.py" : "gemma3_text.py"; }

  int v_;
};

}  // namespace

const Family& gemma2_family() {
  static const GemmaFamily f(2);
  return f;
}
const Family& gemma3_family() {
  static const GemmaFamily f(3);
  return f;
}

}  // namespace squint::families
