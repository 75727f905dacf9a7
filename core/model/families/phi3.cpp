// Phi-3 (model_type phi3: Phi-3/3.5-mini, Phi-4, Phi-4-mini), as HF transformers' modeling_phi3.py runs it and
// llama.cpp's src/models/phi3.cpp builds it: the Llama layer with the attention projections fused into one
// qkv_proj ([q; k; v] rows) and the MLP's into one gate_up_proj ([gate; up] rows), both kept fused; RoPE over
// the first partial_rotary_factor · head_dim dimensions of each head; su/longrope scaling (short factors up to
// original_max_position_embeddings tokens, long ones beyond, cos/sin times the attention factor); an optional
// sliding window on every layer.
// GGUF: conversion/phi.py Phi3MiniModel (llama-src): attn_qkv, ffn_up holding gate and up, rope_factors_long /
// rope_factors_short, rope.scaling.attn_factor and original_context_length. MLX: mlx-lm's models/phi3.py.
#include <cmath>

#include "model/config_keys.h"
#include "model/families/common.h"
#include "model/families/registry.h"
#include "model/gguf_hparams.h"
#include "util/error.h"

namespace squint::families {

namespace {

using nlohmann::json;

// A positive finite number list of n values (short_factor / long_factor).
std::vector<float> longrope_factors(const json& r, const char* key, std::size_t n, const std::string& where) {
  if (!r.contains(key) || !r[key].is_array()) fail(where + ": " + key + " must be a list of numbers");
  const json& a = r[key];
  if (a.size() != n)
    fail(where + ": " + key + " has " + std::to_string(a.size()) + " values; the rotary dimensions need " +
         std::to_string(n));
  std::vector<float> v;
  for (const json& x : a) {
    if (!x.is_number() || !(x.get<double>() > 0) || !std::isfinite(x.get<double>()))
      fail(where + ": " + key + " holds a value that is not a positive number");
    v.push_back(x.get<float>());
  }
  return v;
}

DecoderNames phi3_names() {
  DecoderNames n;
  n.fused_qkv = true;
  return n;
}

class Phi3Family final : public Family {
 public:
  std::string name() const override { return "phi3"; }
  std::vector<std::string> model_types() const override { return {"phi3"}; }

  ModelHparams from_config(const json& cfg, const std::string& where) const override {
    // rope_scaling is read here (su/longrope are Phi-3's); the shared reader sees the rest.
    json rest = cfg;
    json& tr = rest.contains("text_config") ? rest["text_config"] : rest;
    json rs = tr.is_object() && tr.contains("rope_scaling") ? tr["rope_scaling"] : json();
    if (tr.is_object()) tr.erase("rope_scaling");
    if (tr.is_object() && tr.contains("rope_parameters"))
      fail(where + ": rope_parameters is not read for phi3 (squint reads rope_scaling, as Phi-3 configs give it)");
    const ConfigReader c(rest, where);
    ModelHparams h = decoder_hparams(c);
    h.family = name();
    h.model_type = config_model_type(cfg);
    if (h.intermediate <= 0) fail(where + ": intermediate_size must be positive");
    const json& av = c.text().contains("hidden_act") ? c.text()["hidden_act"] : json("silu");
    if (av != "silu") fail(where + ": hidden_act " + av.dump() + " is not supported for phi3 (squint runs silu)");
    for (const char* k : {"attention_bias", "mlp_bias"})
      if (c.boolean(k, false)) fail(where + ": " + k + " = true is not supported for phi3");
    // Rotary dimensions: modeling_phi3.py int(head_dim · partial_rotary_factor).
    const double prf = c.number("partial_rotary_factor", 1.0);
    if (!(prf > 0 && prf <= 1)) c.fail_key("partial_rotary_factor", "must be in (0, 1]");
    const int dims = static_cast<int>(h.head_dim * prf);
    if (dims <= 0 || dims % 2)
      c.fail_key("partial_rotary_factor",
                 "gives " + std::to_string(dims) + " rotary dimensions, not a positive even number");
    if (dims < h.head_dim) h.rope.dims = dims;
    h.rope.original_max_pos = c.integer("original_max_position_embeddings", h.context);
    if (!rs.is_null()) read_scaling(rs, h, dims, where + ": rope_scaling");
    h.sliding_window = c.integer("sliding_window", 0);
    if (h.sliding_window < 0) c.fail_key("sliding_window", "must not be negative");
    h.layer_sliding.assign(static_cast<std::size_t>(h.layers), h.sliding_window > 0);
    h.rope_local = h.rope;  // every layer slides, with the one RoPE
    return h;
  }

  ModelWeights load(const ModelHparams& h, WeightLoader& w) const override {
    return load_prenorm_decoder(
        w, h,
        [&](int, const std::string& p, LayerWeights& L) {
          L.mlp.gate_up = w.matrix(p + "mlp.gate_up_proj.weight", 2 * static_cast<int64_t>(h.intermediate), h.hidden);
          L.mlp.down = w.matrix(p + "mlp.down_proj.weight", h.hidden, h.intermediate);
        },
        phi3_names());
  }

  std::vector<TensorShape> tensors(const ModelHparams& h) const override {
    return prenorm_decoder_tensors(
        h, false, false,
        [&](int, const std::string& p, std::vector<TensorShape>& t) {
          t.push_back({p + "mlp.gate_up_proj.weight", {2 * static_cast<int64_t>(h.intermediate), h.hidden}});
          t.push_back({p + "mlp.down_proj.weight", {h.hidden, h.intermediate}});
        },
        phi3_names());
  }

  std::string gguf_arch(const ModelHparams&) const override { return "phi3"; }
  bool reads_gguf(const std::string& arch, const GgufFile& g) const override {
    const GgufValue* e = g.find("phi3.expert_count");  // PhiMoE shares the arch name in some converters
    return arch == "phi3" && (!e || e->as_int(g.file + ": phi3.expert_count") == 0);
  }

  std::vector<GgufKV> gguf_kv(const ModelHparams& h, const std::string& model_name) const override {
    // llama.cpp's phi3 loader sizes attn_output as n_embd x n_embd and attn_qkv from n_embd / n_head.
    if (h.head_dim * h.heads != h.hidden)
      fail("llama.cpp's phi3 architecture cannot run this model: head_dim " + std::to_string(h.head_dim) + " x " +
           std::to_string(h.heads) + " heads != hidden_size " + std::to_string(h.hidden));
    if (h.rope.type == "llama3") fail("llama.cpp's phi3 architecture cannot run this model: llama3 RoPE scaling");
    std::vector<GgufKV> kv = decoder_gguf_kv("phi3", h, model_name);
    kv.push_back(squint::gguf_kv("phi3.rope.scaling.original_context_length",
                                 gguf_u32(h.rope.original_max_pos > 0 ? h.rope.original_max_pos : h.context)));
    if (h.rope.type == "longrope")
      kv.push_back(
          squint::gguf_kv("phi3.rope.scaling.attn_factor", GgufValue::f32(static_cast<float>(h.rope.attn_factor))));
    // As the converter writes it; llama.cpp's phi3 loader then disables the window (it warns that Phi SWA is
    // off), so windows longer than sliding_window run differently there (README).
    kv.push_back(squint::gguf_kv("phi3.attention.sliding_window", gguf_u32(h.sliding_window)));
    return kv;
  }

  ModelHparams from_gguf(const GgufFile& g, ByteSource* src) const override {
    GgufHparamsReader r(g);
    ModelHparams h = r.decoder(src);
    h.family = name();
    h.model_type = "phi3";
    if (h.rope.type != "longrope")
      h.rope.original_max_pos = r.integer("rope.scaling.original_context_length", h.context);
    // The model's window as HF runs it (llama.cpp's phi3 graph ignores it).
    h.sliding_window = r.integer("attention.sliding_window", 0);
    h.layer_sliding.assign(static_cast<std::size_t>(h.layers), h.sliding_window > 0);
    h.rope_local = h.rope;
    return h;
  }

  std::vector<GgufNameRule> gguf_names(const ModelHparams&) const override {
    const std::string B = "model.layers.{L}.";
    return {{"model.embed_tokens.weight", "token_embd.weight"},
            {"model.norm.weight", "output_norm.weight"},
            {"lm_head.weight", "output.weight"},
            {B + "input_layernorm.weight", "blk.{L}.attn_norm.weight"},
            {B + "self_attn.qkv_proj.weight", "blk.{L}.attn_qkv.weight"},
            {B + "self_attn.o_proj.weight", "blk.{L}.attn_output.weight"},
            {B + "post_attention_layernorm.weight", "blk.{L}.ffn_norm.weight"},
            {B + "mlp.gate_up_proj.weight", "blk.{L}.ffn_up.weight"},  // [gate; up]: llama.cpp's swiglu halves
            {B + "mlp.down_proj.weight", "blk.{L}.ffn_down.weight"}};
  }

  // mlx-lm (ml-explore/mlx-lm at d78bf58e) mlx_lm/models/phi3.py: module paths are the HF names (qkv_proj and
  // gate_up_proj stay fused); head_dim is hidden_size / heads; rope_scaling needs "type" and "long_factor"
  // (su, longrope; linear is read but needs long_factor too); defaults differ from HF's
  // (max_position_embeddings 131072), so the keys it reads are written out.
  void mlx_config(const ModelHparams& h, json& cfg) const override {
    auto refuse = [](const std::string& why) { fail("mlx-lm's phi3.py cannot run this model: " + why); };
    if (h.head_dim * h.heads != h.hidden) refuse("head_dim != hidden_size / num_attention_heads (it derives it)");
    if (h.rope.type == "linear" || h.rope.type == "llama3") refuse(h.rope.type + " RoPE scaling");
    json& t = cfg.contains("text_config") && cfg["text_config"].is_object() ? cfg["text_config"] : cfg;
    auto set_default = [&t](const char* k, const json& v) {
      if (!t.contains(k) || t[k].is_null()) t[k] = v;
    };
    set_default("rope_theta", h.rope.theta);
    set_default("max_position_embeddings", h.context);
    set_default("original_max_position_embeddings", h.rope.original_max_pos);
    set_default("num_key_value_heads", h.kv_heads);
    if (h.rope.type == "longrope") {
      // SuScaledRoPE (rope_utils.py) multiplies by sqrt(1 + ln f / ln original), f = max / original: a
      // configured attention_factor it cannot take is refused. It always rotates with the long factors, which
      // HF uses only beyond original_max_position_embeddings (README: mlx-lm's choice, not the file's).
      const double f = static_cast<double>(h.context) / h.rope.original_max_pos;
      const double its =
          f <= 1.0 ? 1.0 : std::sqrt(1 + std::log(f) / std::log(static_cast<double>(h.rope.original_max_pos)));
      if (std::abs(its / h.rope.attn_factor - 1) > 1e-6)
        refuse("rope_scaling.attention_factor differs from the one it computes");
      json& rs = t["rope_scaling"];
      if (!rs.contains("type")) rs["type"] = rs.value("rope_type", std::string("longrope"));
    }
  }

 private:
  static void read_scaling(const json& r, ModelHparams& h, int dims, const std::string& where) {
    if (!r.is_object()) fail(where + " is not an object");
    const std::string type = r.value("rope_type", r.value("type", std::string("default")));
    if (type == "default") return;
    if (type == "linear") {
      read_rope_scaling(r, h.rope, where);
      return;
    }
    if (type != "su" && type != "longrope")
      fail(where + ": type '" + type + "' is not supported for phi3 (su, longrope, linear)");
    // HF _compute_longrope_parameters: the factor is max / original when the config has the original length
    // (Phi-3's case), and the attention factor sqrt(1 + ln factor / ln original) unless configured.
    h.rope.type = "longrope";
    if (r.contains("original_max_position_embeddings")) {  // newer configs keep it inside rope_scaling
      const json& o = r["original_max_position_embeddings"];
      if (!o.is_number_integer() || o.get<int64_t>() <= 0 || o.get<int64_t>() > (1 << 30))
        fail(where + ": original_max_position_embeddings must be a positive integer");
      h.rope.original_max_pos = o.get<int>();
    }
    if (h.rope.original_max_pos <= 0) fail(where + ": original_max_position_embeddings must be positive");
    if (h.context <= 0) fail(where + ": longrope needs max_position_embeddings");
    h.rope.short_factor = longrope_factors(r, "short_factor", static_cast<std::size_t>(dims / 2), where);
    h.rope.long_factor = longrope_factors(r, "long_factor", static_cast<std::size_t>(dims / 2), where);
    const double factor = static_cast<double>(h.context) / h.rope.original_max_pos;
    h.rope.attn_factor =
        factor <= 1.0 ? 1.0 : std::sqrt(1 + std::log(factor) / std::log(static_cast<double>(h.rope.original_max_pos)));
    if (r.contains("attention_factor") && !r["attention_factor"].is_null()) {
      if (!r["attention_factor"].is_number() || !(r["attention_factor"].get<double>() > 0))
        fail(where + ": attention_factor must be a positive number");
      h.rope.attn_factor = r["attention_factor"].get<double>();
    }
  }
};

}  // namespace

const Family& phi3_family() {
  static const Phi3Family f;
  return f;
}

}  // namespace squint::families
