#include "model/gguf_hparams.h"

#include <cmath>
#include <cstring>

#include "util/error.h"

namespace squint {

GgufKV gguf_kv(std::string k, GgufValue v) { return {std::move(k), std::move(v)}; }
GgufValue gguf_u32(int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); }

std::vector<GgufKV> decoder_gguf_kv(const std::string& a, const ModelHparams& h, const std::string& name) {
  std::vector<GgufKV> kv = {gguf_kv("general.architecture", GgufValue::string(a)),
                            gguf_kv("general.name", GgufValue::string(name)),
                            gguf_kv(a + ".vocab_size", gguf_u32(h.vocab)),
                            gguf_kv(a + ".context_length", gguf_u32(h.context > 0 ? h.context : 2048)),
                            gguf_kv(a + ".embedding_length", gguf_u32(h.hidden)),
                            gguf_kv(a + ".block_count", gguf_u32(h.layers)),
                            gguf_kv(a + ".feed_forward_length", gguf_u32(h.intermediate)),
                            gguf_kv(a + ".attention.head_count", gguf_u32(h.heads)),
                            gguf_kv(a + ".attention.head_count_kv", gguf_u32(h.kv_heads)),
                            gguf_kv(a + ".attention.layer_norm_rms_epsilon", GgufValue::f32(h.eps)),
                            gguf_kv(a + ".rope.freq_base", GgufValue::f32(static_cast<float>(h.rope.theta))),
                            gguf_kv(a + ".rope.dimension_count", gguf_u32(h.rope.dims > 0 ? h.rope.dims : h.head_dim))};
  if (h.head_dim * h.heads != h.hidden) {
    kv.push_back(gguf_kv(a + ".attention.key_length", gguf_u32(h.head_dim)));
    kv.push_back(gguf_kv(a + ".attention.value_length", gguf_u32(h.head_dim)));
  }
  if (h.rope.type == "linear") {
    kv.push_back(gguf_kv(a + ".rope.scaling.type", GgufValue::string("linear")));
    kv.push_back(gguf_kv(a + ".rope.scaling.factor", GgufValue::f32(static_cast<float>(h.rope.factor))));
  }
  return kv;
}

std::vector<float> gguf_rope_freqs(const ModelHparams& h) {
  std::vector<float> out;
  const RopeSpec& c = h.rope;
  if (c.type != "llama3") return out;
  const int dims = c.dims > 0 ? c.dims : h.head_dim;
  const double lo_w = c.original_max_pos / c.low_freq_factor, hi_w = c.original_max_pos / c.high_freq_factor;
  for (int i = 0; i < dims / 2; ++i) {
    const double f = 1.0 / std::pow(c.theta, 2.0 * i / dims), wl = 2.0 * M_PI / f;
    double r;
    if (wl < hi_w) r = 1.0;
    else if (wl > lo_w) r = c.factor;
    else {
      const double smooth = (c.original_max_pos / wl - c.low_freq_factor) / (c.high_freq_factor - c.low_freq_factor);
      r = 1.0 / ((1 - smooth) / c.factor + smooth);
    }
    out.push_back(static_cast<float>(r));
  }
  return out;
}

std::string gguf_architecture(const GgufFile& g) {
  const GgufValue* av = g.find("general.architecture");
  if (!av) fail(g.file + ": no general.architecture");
  return av->as_string(g.file + ": general.architecture");
}

GgufHparamsReader::GgufHparamsReader(const GgufFile& g) : g_(g), arch_(gguf_architecture(g)) {}

const GgufValue* GgufHparamsReader::get(const std::string& k, bool required) const {
  const GgufValue* v = g_.find(arch_ + "." + k);
  if (!v && required) fail(g_.file + ": missing metadata key " + arch_ + "." + k);
  return v;
}

int GgufHparamsReader::integer(const std::string& k, int64_t def, bool required) const {
  const GgufValue* v = get(k, required);
  const int64_t x = v ? v->as_int(g_.file + ": " + arch_ + "." + k) : def;
  if (x < 0 || x > (1ll << 31) - 1) fail(g_.file + ": " + arch_ + "." + k + " = " + std::to_string(x) + " is out of range");
  return static_cast<int>(x);
}

double GgufHparamsReader::number(const std::string& k, double def) const {
  const GgufValue* v = get(k, false);
  return v ? v->as_double(g_.file + ": " + arch_ + "." + k) : def;
}

ModelHparams GgufHparamsReader::decoder(ByteSource* src) const {
  ModelHparams c;
  c.model_type = arch_;
  c.hidden = integer("embedding_length", 0, true);
  c.layers = integer("block_count", 0, true);
  c.intermediate = integer("feed_forward_length", 0, true);
  c.heads = integer("attention.head_count", 0, true);
  c.kv_heads = integer("attention.head_count_kv", c.heads);
  if (c.hidden <= 0 || c.layers <= 0 || c.heads <= 0 || c.kv_heads <= 0 || c.heads % c.kv_heads)
    fail(g_.file + ": inconsistent " + arch_ + " hyperparameters");
  c.head_dim = integer("attention.key_length", c.hidden / c.heads);
  c.context = integer("context_length", 0);
  const GgufTensorInfo* emb = g_.tensor("token_embd.weight");
  if (!emb || emb->ne.size() != 2) fail(g_.file + ": no 2-D token_embd.weight");
  c.vocab = static_cast<int>(emb->ne[1]);
  c.eps = static_cast<float>(number("attention.layer_norm_rms_epsilon", 1e-5));
  c.rope.theta = number("rope.freq_base", 10000.0);
  const int rot = integer("rope.dimension_count", c.head_dim);
  if (rot != c.head_dim) c.rope.dims = rot;
  if (const GgufValue* v = get("rope.scaling.type", false)) {
    const std::string st = v->as_string(g_.file + ": rope.scaling.type");
    if (st == "linear") {
      c.rope.type = "linear";
      c.rope.factor = get("rope.scaling.factor", true)->as_double(g_.file + ": rope.scaling.factor");
    } else if (st != "none") {
      fail(g_.file + ": rope scaling '" + st + "' is not supported");
    }
  }
  c.tied = g_.tensor("output.weight") == nullptr;
  if (const GgufTensorInfo* rf = g_.tensor("rope_freqs.weight")) {
    if (!src) fail(g_.file + ": internal error: rope_freqs needs the file's data");
    const int dims = c.rope.dims > 0 ? c.rope.dims : c.head_dim;
    if (rf->numel() != static_cast<uint64_t>(dims / 2)) fail(g_.file + ": rope_freqs.weight has the wrong length");
    std::vector<uint8_t> raw(rf->nbytes);
    src->read(g_.absolute_offset(*rf), raw.size(), raw.data());
    if (rf->type != 0) fail(g_.file + ": rope_freqs.weight is not F32");
    c.rope.freq_factors.resize(rf->numel());
    std::memcpy(c.rope.freq_factors.data(), raw.data(), raw.size());
  }
  if (const GgufValue* v = g_.find("tokenizer.ggml.bos_token_id")) c.bos = static_cast<int>(v->as_int("bos id"));
  if (const GgufValue* v = g_.find("tokenizer.ggml.eos_token_id")) c.eos = static_cast<int>(v->as_int("eos id"));
  c.layer_moe.assign(static_cast<std::size_t>(c.layers), false);
  return c;
}

}  // namespace squint
