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

std::vector<GgufRopeTensor> gguf_rope_tensors(const ModelHparams& h) {
  if (h.rope.type == "longrope")
    return {{"rope_factors_long.weight", h.rope.long_factor}, {"rope_factors_short.weight", h.rope.short_factor}};
  if (std::vector<float> rf = gguf_rope_freqs(h); !rf.empty()) return {{"rope_freqs.weight", std::move(rf)}};
  return {};
}

bool is_gguf_rope_tensor(const std::string& n) {
  return n == "rope_freqs.weight" || n == "rope_factors_long.weight" || n == "rope_factors_short.weight";
}

std::vector<float> read_gguf_f32_vector(const GgufFile& g, ByteSource* src, const std::string& name, uint64_t n) {
  const GgufTensorInfo* t = g.tensor(name);
  if (!t) fail(g.file + ": no tensor " + name);
  if (!src) fail(g.file + ": internal error: " + name + " needs the file's data");
  if (t->type != 0) fail(g.file + ": " + name + " is not F32");
  if (t->numel() != n)
    fail(g.file + ": " + name + " has " + std::to_string(t->numel()) + " values, expected " + std::to_string(n));
  std::vector<float> v(n);
  src->read(g.absolute_offset(*t), n * sizeof(float), reinterpret_cast<uint8_t*>(v.data()));
  for (float x : v)
    if (!std::isfinite(x) || x <= 0) fail(g.file + ": " + name + " holds a value that is not a positive number");
  return v;
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
  const uint64_t half = static_cast<uint64_t>(c.rope.dims > 0 ? c.rope.dims : c.head_dim) / 2;
  if (g_.tensor("rope_freqs.weight")) c.rope.freq_factors = read_gguf_f32_vector(g_, src, "rope_freqs.weight", half);
  // longrope (llama.cpp's get_rope_factors: long ones when the context exceeds the original one).
  if (g_.tensor("rope_factors_long.weight") || g_.tensor("rope_factors_short.weight")) {
    c.rope.type = "longrope";
    c.rope.long_factor = read_gguf_f32_vector(g_, src, "rope_factors_long.weight", half);
    c.rope.short_factor = read_gguf_f32_vector(g_, src, "rope_factors_short.weight", half);
    c.rope.original_max_pos = integer("rope.scaling.original_context_length", c.context);
    c.rope.attn_factor = number("rope.scaling.attn_factor", 1.0);
    if (!(c.rope.attn_factor > 0 && std::isfinite(c.rope.attn_factor)))
      fail(g_.file + ": " + arch_ + ".rope.scaling.attn_factor is not a positive number");
  }
  if (const GgufValue* v = g_.find("tokenizer.ggml.bos_token_id")) c.bos = static_cast<int>(v->as_int("bos id"));
  if (const GgufValue* v = g_.find("tokenizer.ggml.eos_token_id")) c.eos = static_cast<int>(v->as_int("eos id"));
  c.layer_moe.assign(static_cast<std::size_t>(c.layers), false);
  return c;
}

}  // namespace squint
