#include "convert/gguf_llama.h"

#include <cmath>
#include <cstring>
#include <regex>

#include "io/dtype.h"
#include "quant/ggml_quants.h"
#include "util/chunks.h"
#include "util/error.h"
#include "util/json_guard.h"

namespace squint {

namespace {

GgufKV kv(std::string k, GgufValue v) { return {std::move(k), std::move(v)}; }

const nlohmann::json& text_config(const nlohmann::json& j) { return j.contains("text_config") ? j["text_config"] : j; }

// (HF suffix after "model.layers.N.", GGUF suffix after "blk.N.")
const std::pair<const char*, const char*> kLayerNames[] = {
    {"self_attn.q_proj.weight", "attn_q.weight"},     {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},     {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},         {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},         {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"}, {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},          {"mlp.down_proj.weight", "ffn_down.weight"},
    {"input_layernorm.weight", "attn_norm.weight"},   {"post_attention_layernorm.weight", "ffn_norm.weight"},
};
// HF name -> GGUF name of the tensors outside the layers.
const std::pair<const char*, const char*> kTopNames[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
};

// A tensor name through the tables above, HF -> GGUF (`to_gguf`) or back: both directions read one table.
std::optional<std::string> map_tensor_name(const std::string& n, bool to_gguf) {
  for (const auto& [h, g] : kTopNames)
    if (n == (to_gguf ? h : g)) return std::string(to_gguf ? g : h);
  static const std::regex hf_layer(R"(model\.layers\.(\d+)\.(.+))"), gguf_layer(R"(blk\.(\d+)\.(.+))");
  std::smatch m;
  if (!std::regex_match(n, m, to_gguf ? hf_layer : gguf_layer)) return std::nullopt;
  for (const auto& [h, g] : kLayerNames)
    if (m[2] == (to_gguf ? h : g)) return (to_gguf ? "blk." : "model.layers.") + m[1].str() + "." + (to_gguf ? g : h);
  return std::nullopt;
}

}  // namespace

std::optional<uint32_t> ggml_type_from_name(const std::string& name) {
  for (uint32_t id = 0; id < 64; ++id) {
    GgufTypeSize s = gguf_type_size(id);
    if (s.name && name == s.name) return id;
  }
  return std::nullopt;
}

std::string gguf_arch_for(const nlohmann::json& config, const std::string& where) {
  const nlohmann::json& j = text_config(config);
  const std::string mt = j.value("model_type", config.value("model_type", std::string()));
  for (const char* k : {"num_local_experts", "num_experts", "n_routed_experts"})
    if (j.contains(k) && j[k].is_number() && j[k].get<double>() > 0)
      fail(where + ": mixture-of-experts models do not convert to GGUF with squint (model_type '" + mt + "')");
  if (mt == "llama" || mt == "mistral") return "llama";  // SmolLM is model_type llama
  if (mt == "qwen2") return "qwen2";
  if (mt == "qwen3") return "qwen3";
  fail(where + ": model_type '" + mt + "' does not convert to GGUF (supported: llama, mistral, qwen2, qwen3)");
}

std::optional<std::string> gguf_tensor_name(const std::string& hf) { return map_tensor_name(hf, true); }
std::optional<std::string> hf_tensor_name(const std::string& g) { return map_tensor_name(g, false); }

void permute_qk_rows(const float* src, float* dst, uint64_t rows, uint64_t cols, int heads, bool inverse) {
  // convert_hf_to_gguf.py: w.reshape(heads, 2, rows/heads/2, cols).swapaxes(1, 2): within a head, the row
  // 2i+j of the result is the row j*hd/2 + i of the HF weight.
  const uint64_t hd = rows / static_cast<uint64_t>(heads), half = hd / 2;
  for (uint64_t h = 0; h < static_cast<uint64_t>(heads); ++h)
    for (uint64_t i = 0; i < half; ++i)
      for (uint64_t j = 0; j < 2; ++j) {
        const uint64_t permuted = h * hd + 2 * i + j, hf = h * hd + j * half + i;
        const uint64_t from = inverse ? permuted : hf, to = inverse ? hf : permuted;
        std::memcpy(dst + to * cols, src + from * cols, cols * sizeof(float));
      }
}

GgufModelLayout gguf_llama_layout(const Checkpoint& ck, const std::function<uint32_t(const TensorInfo&)>& type_for, bool permute) {
  const std::string where = ck.location + "/config.json";
  if (!ck.config.raw.is_object()) fail(ck.location + ": no config.json (GGUF needs the model's hyperparameters)");
  GgufModelLayout L;
  L.arch = gguf_arch_for(ck.config.raw, where);
  const LlamaConfig c = llama_config_from_json(ck.config.raw);
  const nlohmann::json& j = text_config(ck.config.raw);
  if (c.heads % c.kv_heads) fail(where + ": num_attention_heads is not a multiple of num_key_value_heads");
  const std::string a = L.arch;
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  L.kv = {kv("general.architecture", GgufValue::string(a)),
          kv("general.name", GgufValue::string(j.value("_name_or_path", std::string("squint model")))),
          kv(a + ".vocab_size", u32(c.vocab)),
          kv(a + ".context_length", u32(j.contains("max_position_embeddings") && j["max_position_embeddings"].is_number_integer()
                                            ? j["max_position_embeddings"].get<int64_t>() : 2048)),
          kv(a + ".embedding_length", u32(c.hidden)),
          kv(a + ".block_count", u32(c.layers)),
          kv(a + ".feed_forward_length", u32(c.intermediate)),
          kv(a + ".attention.head_count", u32(c.heads)),
          kv(a + ".attention.head_count_kv", u32(c.kv_heads)),
          kv(a + ".attention.layer_norm_rms_epsilon", GgufValue::f32(c.eps)),
          kv(a + ".rope.freq_base", GgufValue::f32(static_cast<float>(c.rope_theta))),
          kv(a + ".rope.dimension_count", u32(c.head_dim))};
  if (c.head_dim * c.heads != c.hidden) {
    L.kv.push_back(kv(a + ".attention.key_length", u32(c.head_dim)));
    L.kv.push_back(kv(a + ".attention.value_length", u32(c.head_dim)));
  }
  if (c.rope_type == "linear") {
    L.kv.push_back(kv(a + ".rope.scaling.type", GgufValue::string("linear")));
    L.kv.push_back(kv(a + ".rope.scaling.factor", GgufValue::f32(static_cast<float>(c.rope_factor))));
  }
  if (c.rope_type == "llama3") {
    // convert_hf_to_gguf.py LlamaModel.generate_extra_tensors: per-frequency divisors in rope_freqs.weight.
    GgufTensorPlan t;
    t.gguf_name = "rope_freqs.weight";
    t.ne = {static_cast<uint64_t>(c.head_dim / 2)};
    const double lo_w = c.original_max_pos / c.low_freq_factor, hi_w = c.original_max_pos / c.high_freq_factor;
    for (int i = 0; i < c.head_dim / 2; ++i) {
      const double f = 1.0 / std::pow(c.rope_theta, 2.0 * i / c.head_dim), wl = 2.0 * M_PI / f;
      double r;
      if (wl < hi_w) r = 1.0;
      else if (wl > lo_w) r = c.rope_factor;
      else {
        const double smooth = (c.original_max_pos / wl - c.low_freq_factor) / (c.high_freq_factor - c.low_freq_factor);
        r = 1.0 / ((1 - smooth) / c.rope_factor + smooth);
      }
      t.generated.push_back(static_cast<float>(r));
    }
    L.tensors.push_back(std::move(t));
  }
  bool has_lm_head = false;
  for (const auto& t : ck.tensors) {
    if (t.name.find("rotary_emb.inv_freq") != std::string::npos) continue;
    if (t.name == "lm_head.weight" && c.tied) continue;  // the loader reuses token_embd
    auto g = gguf_tensor_name(t.name);
    if (!g) fail(ck.location + ": tensor '" + t.name + "' has no GGUF equivalent in llama.cpp's " + a + " architecture");
    if (!is_float_measurable(t.dtype)) fail(ck.location + ": tensor '" + t.name + "' is " + dtype_name(t.dtype) + "; GGUF conversion needs F32, F16 or BF16");
    if ((g->ends_with("attn_q_norm.weight") || g->ends_with("attn_k_norm.weight")) && a != "qwen3")
      fail(ck.location + ": tensor '" + t.name + "' (q/k norm) is only supported for qwen3");
    if (t.name == "lm_head.weight") has_lm_head = true;
    GgufTensorPlan p;
    p.gguf_name = *g;
    p.hf_name = t.name;
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) p.ne.push_back(static_cast<uint64_t>(*it));
    p.type = t.shape.size() >= 2 ? type_for(t) : ggml_id::F32;
    gguf_row_bytes(p.type, p.cols(), ck.location + ": tensor '" + t.name + "'");
    if (permute && a == "llama" && (g->ends_with("attn_q.weight") || g->ends_with("attn_q.bias") ||
                                    g->ends_with("attn_k.weight") || g->ends_with("attn_k.bias"))) {
      const bool q = g->find("attn_q.") != std::string::npos;
      p.permute_heads = q ? c.heads : c.kv_heads;
      const uint64_t rows = t.shape.empty() ? 0 : static_cast<uint64_t>(t.shape[0]);
      if (rows % (2 * static_cast<uint64_t>(p.permute_heads)))
        fail(ck.location + ": tensor '" + t.name + "' has " + std::to_string(rows) + " rows, not a multiple of 2 x " +
             std::to_string(p.permute_heads) + " heads");
    }
    L.tensors.push_back(std::move(p));
  }
  if (!c.tied && !has_lm_head) L.warnings.push_back("config says untied embeddings but there is no lm_head.weight; llama.cpp will reuse token_embd");
  return L;
}

namespace {
bool is_float_type(uint32_t t) { return t == ggml_id::F32 || t == ggml_id::F16 || t == ggml_id::BF16; }
DType float_dtype(uint32_t t) { return t == ggml_id::F32 ? DType::F32 : t == ggml_id::F16 ? DType::F16 : DType::BF16; }
// A quantized type of the ggml port (the 12 candidates), or nullptr.
const GgmlTypeInfo* port_type(uint32_t t) {
  const GgmlTypeInfo* i = ggml_type_from_id(t);
  return i && i->block > 1 ? i : nullptr;
}
std::string type_label(uint32_t t) { return gguf_type_size(t).name ? gguf_type_size(t).name : "id " + std::to_string(t); }
}  // namespace

GgufSizes gguf_layout_sizes(const GgufModelLayout& L) {
  GgufSizes s;
  for (const auto& t : L.tensors) {
    const uint64_t b = t.rows() * gguf_row_bytes(t.type, t.cols(), t.gguf_name);
    (t.hf_name.empty() ? s.generated_bytes : s.planned_bytes) += b;
    if (!t.hf_name.empty()) s.params += t.rows() * t.cols();
  }
  return s;
}

bool gguf_type_encodable(uint32_t t) { return is_float_type(t) || port_type(t) != nullptr; }
bool gguf_type_decodable(uint32_t t) { return gguf_type_encodable(t); }

void gguf_encode_rows(uint32_t type, const float* x, uint64_t rows, uint64_t cols, uint8_t* dst) {
  if (is_float_type(type)) return from_f32(float_dtype(type), x, rows * cols, dst);
  const GgmlTypeInfo* q = port_type(type);
  if (!q) fail("squint cannot write GGUF type " + type_label(type));
  // Blocks run along a row, so rows are independent: quantizing a row-permuted matrix equals permuting the
  // quantized rows (the Q/K permutation is applied to the float rows before this call).
  ggml_quantize_rows(q->type, x, rows, cols, dst);
}

void gguf_decode_rows(uint32_t type, const uint8_t* src, uint64_t rows, uint64_t cols, float* dst) {
  if (is_float_type(type)) {
    to_f32(float_dtype(type), src, rows * cols, dst);  // NaN/Inf pass through: the gate and eval report them
    return;
  }
  const GgmlTypeInfo* q = port_type(type);
  if (!q) fail("squint cannot read GGUF type " + type_label(type) + " (it reads F32, F16, BF16, Q4_0..Q8_0, Q2_K..Q6_K, IQ4_NL, IQ4_XS)");
  ggml_dequantize_rows(q->type, src, rows, cols, dst);
}

LlamaConfig llama_config_from_gguf(const GgufFile& g, ByteSource* src) {
  const GgufValue* av = g.find("general.architecture");
  if (!av) fail(g.file + ": no general.architecture");
  const std::string a = av->as_string(g.file + ": general.architecture");
  if (a != "llama" && a != "qwen2" && a != "qwen3")
    fail(g.file + ": architecture '" + a + "' is not supported by squint's forward pass (llama, qwen2, qwen3)");
  auto get = [&](const std::string& k, bool required) -> const GgufValue* {
    const GgufValue* v = g.find(a + "." + k);
    if (!v && required) fail(g.file + ": missing metadata key " + a + "." + k);
    return v;
  };
  auto geti = [&](const std::string& k, int64_t def, bool required = false) -> int {
    const GgufValue* v = get(k, required);
    int64_t x = v ? v->as_int(g.file + ": " + a + "." + k) : def;
    if (x < 0 || x > (1ll << 31) - 1) fail(g.file + ": " + a + "." + k + " = " + std::to_string(x) + " is out of range");
    return static_cast<int>(x);
  };
  LlamaConfig c;
  c.hidden = geti("embedding_length", 0, true);
  c.layers = geti("block_count", 0, true);
  c.intermediate = geti("feed_forward_length", 0, true);
  c.heads = geti("attention.head_count", 0, true);
  c.kv_heads = geti("attention.head_count_kv", c.heads);
  if (c.hidden <= 0 || c.layers <= 0 || c.heads <= 0 || c.kv_heads <= 0 || c.heads % c.kv_heads)
    fail(g.file + ": inconsistent llama hyperparameters");
  c.head_dim = geti("attention.key_length", c.hidden / c.heads);
  const GgufTensorInfo* emb = g.tensor("token_embd.weight");
  if (!emb || emb->ne.size() != 2) fail(g.file + ": no 2-D token_embd.weight");
  c.vocab = static_cast<int>(emb->ne[1]);
  if (const GgufValue* v = get("attention.layer_norm_rms_epsilon", false)) c.eps = static_cast<float>(v->as_double(g.file + ": rms epsilon"));
  if (const GgufValue* v = get("rope.freq_base", false)) c.rope_theta = v->as_double(g.file + ": rope.freq_base");
  if (const GgufValue* v = get("rope.scaling.type", false)) {
    const std::string st = v->as_string(g.file + ": rope.scaling.type");
    if (st == "linear") {
      c.rope_type = "linear";
      const GgufValue* f = get("rope.scaling.factor", true);
      c.rope_factor = f->as_double(g.file + ": rope.scaling.factor");
    } else if (st != "none") {
      fail(g.file + ": rope scaling '" + st + "' is not supported");
    }
  }
  c.tied = g.tensor("output.weight") == nullptr;
  if (const GgufTensorInfo* rf = g.tensor("rope_freqs.weight")) {
    if (!src) fail(g.file + ": internal error: rope_freqs needs the file's data");
    if (rf->numel() != static_cast<uint64_t>(c.head_dim / 2)) fail(g.file + ": rope_freqs.weight has the wrong length");
    c.rope_freq_factors = read_gguf_tensor_f32(g, *src, *rf);
  }
  if (const GgufValue* v = g.find("tokenizer.ggml.bos_token_id")) c.bos = static_cast<int>(v->as_int("bos id"));
  if (const GgufValue* v = g.find("tokenizer.ggml.eos_token_id")) c.eos = static_cast<int>(v->as_int("eos id"));
  return c;
}

std::vector<float> read_gguf_tensor_f32(const GgufFile& g, ByteSource& src, const GgufTensorInfo& t) {
  std::vector<uint8_t> raw(t.nbytes);
  src.read(g.absolute_offset(t), t.nbytes, raw.data());
  std::vector<float> out(t.numel());
  gguf_decode_rows(t.type, raw.data(), t.rows(), t.cols(), out.data());
  return out;
}

WeightSource weights_from_gguf(const GgufFile& g, ByteSource& src) {
  const std::string arch = g.find("general.architecture") ? g.find("general.architecture")->as_string("architecture") : "";
  const LlamaConfig c = llama_config_from_gguf(g, &src);
  return [&g, &src, arch, c](const std::string& name, std::vector<int64_t>* shape, std::vector<float>* data) {
    auto gn = gguf_tensor_name(name);
    if (!gn) return false;
    const GgufTensorInfo* t = g.tensor(*gn);
    if (!t) return false;
    *data = read_gguf_tensor_f32(g, src, *t);
    shape->assign(t->ne.rbegin(), t->ne.rend());
    for (auto& d : *shape) d = static_cast<int64_t>(d);
    const bool q = gn->find("attn_q.") != std::string::npos, k = gn->find("attn_k.") != std::string::npos;
    if (arch == "llama" && (q || k)) {
      const int heads = q ? c.heads : c.kv_heads;
      const uint64_t rows = t->ne.size() >= 2 ? t->ne[1] : t->ne[0], cols = t->ne.size() >= 2 ? t->ne[0] : 1;
      if (rows % (2 * static_cast<uint64_t>(heads))) fail(g.file + ": tensor '" + *gn + "' rows do not split into heads");
      std::vector<float> un(data->size());
      permute_qk_rows(data->data(), un.data(), rows, cols, heads, true);
      data->swap(un);
    }
    return true;
  };
}

}  // namespace squint

#include "convert/gguf_tokenizer.h"

namespace squint {

std::vector<GgufKV> gguf_tokenizer_from_files(const FileProvider& files, const nlohmann::json& config,
                                              std::vector<std::string>& warnings) {
  const LlamaConfig c = llama_config_from_json(config);
  TokenizerOptions o;
  o.vocab_size = c.vocab;
  if (config.contains("bos_token_id") && config["bos_token_id"].is_number_integer()) o.bos = json_int<int>(config["bos_token_id"], "config.json: bos_token_id");
  if (config.contains("eos_token_id") && config["eos_token_id"].is_number_integer()) o.eos = json_int<int>(config["eos_token_id"], "config.json: eos_token_id");
  std::string tcfg;
  if (files.exists("tokenizer_config.json")) {
    tcfg = read_all_text(*files.open("tokenizer_config.json"));
    auto j = nlohmann::json::parse(tcfg, nullptr, false);
    if (j.is_object()) {
      if (j.contains("add_bos_token") && j["add_bos_token"].is_boolean()) o.add_bos = j["add_bos_token"].get<bool>();
      if (j.contains("add_eos_token") && j["add_eos_token"].is_boolean()) o.add_eos = j["add_eos_token"].get<bool>();
    }
  }
  if (files.exists("tokenizer.model")) {
    auto src = files.open("tokenizer.model");
    std::string bytes = read_all_text(*src, 256ull << 20);
    return gguf_tokenizer_sentencepiece(parse_sentencepiece_model(bytes, src->name()), o, warnings);
  }
  if (files.exists("tokenizer.json")) {
    auto src = files.open("tokenizer.json");
    if (!files.exists("tokenizer_config.json")) o.add_bos = false;  // byte-level BPE models rarely add BOS unless told
    const std::string mt = text_config(config).value("model_type", config.value("model_type", std::string()));
    return gguf_tokenizer_hf(read_all_text(*src, 256ull << 20), tcfg, mt, o, warnings, src->name());
  }
  fail(files.location() + ": no tokenizer.model or tokenizer.json (GGUF files carry their tokenizer)");
}

GgufLayoutHeader gguf_layout_header(const GgufModelLayout& L, const std::vector<GgufKV>& extra_kv) {
  GgufLayoutHeader h;
  h.kv = L.kv;
  h.kv.insert(h.kv.end(), extra_kv.begin(), extra_kv.end());
  for (const auto& t : L.tensors) h.specs.push_back({t.gguf_name, t.ne, t.type});
  for (const auto& s : h.specs) h.tensor_bytes += s.nbytes();
  return h;
}

uint64_t stream_gguf(const Checkpoint& ck, const GgufModelLayout& L, const std::vector<GgufKV>& extra_kv, const ByteSink& sink,
                     const std::function<void(uint64_t, uint64_t, const std::string&)>& progress, const ParallelFor& pf) {
  const GgufLayoutHeader h = gguf_layout_header(L, extra_kv);
  const std::vector<GgufTensorSpec>& specs = h.specs;
  GgufStreamWriter w(h.kv, specs, sink);
  const uint64_t total = h.tensor_bytes;
  uint64_t done = 0;
  // Rows are independent (blocks run along a row), so a tensor is read, rounded and encoded in batches of rows
  // (util/chunks.h's streaming batch), each batch's rows encoded in parallel in fixed sub-chunks: the bytes do
  // not depend on the batching or the thread count, and memory stays ~kBatchElems floats instead of a whole
  // embedding. A Q/K tensor (permuted as whole rows across the tensor) is done in one batch; those are small.
  constexpr uint64_t kSubRows = 16;
  std::vector<float> x, y;
  std::vector<uint8_t> raw, out;
  for (std::size_t i = 0; i < L.tensors.size(); ++i) {
    const GgufTensorPlan& t = L.tensors[i];
    const uint64_t rows = t.rows(), cols = t.cols();
    const uint64_t row_bytes = rows ? specs[i].nbytes() / rows : 0;
    const TensorInfo* ti = nullptr;
    if (!t.hf_name.empty()) {
      ti = ck.find(t.hf_name);
      if (!ti) fail(ck.location + ": tensor '" + t.hf_name + "' disappeared");
      if (ti->numel() != rows * cols) fail("internal error: GGUF tensor '" + t.gguf_name + "' has the wrong element count");
      if (!is_float_measurable(ti->dtype))
        fail(ck.files.at(ti->file) + ": tensor '" + ti->name + "': dtype " + dtype_name(ti->dtype) + " cannot be read as float");
    } else if (t.generated.size() != rows * cols) {
      fail("internal error: GGUF tensor '" + t.gguf_name + "' has the wrong element count");
    }
    const uint64_t step = t.permute_heads > 0 ? std::max<uint64_t>(rows, 1) : rows_per_batch(cols);
    if (rows == 0) w.write(out.data(), 0);
    for (uint64_t r0 = 0; r0 < rows; r0 += step) {
      const uint64_t n = std::min(step, rows - r0);
      x.resize(n * cols);
      if (!ti) {
        std::copy(t.generated.begin() + static_cast<std::ptrdiff_t>(r0 * cols),
                  t.generated.begin() + static_cast<std::ptrdiff_t>((r0 + n) * cols), x.begin());
      } else {
        const uint64_t es = dtype_bits(ti->dtype) / 8;
        raw.resize(n * cols * es);
        ck.sources.at(ti->file)->read(ti->offset + r0 * cols * es, raw.size(), raw.data());
        if (!to_f32(ti->dtype, raw.data(), n * cols, x.data())) fail(ck.location + ": tensor '" + t.hf_name + "' holds NaN or Inf");
      }
      if (t.quant_input != DType::F32)
        for (auto& v : x) v = round_to_dtype(v, t.quant_input);
      if (t.permute_heads > 0) {
        y.resize(x.size());
        permute_qk_rows(x.data(), y.data(), n, cols, t.permute_heads, false);
        x.swap(y);
      }
      out.resize(n * row_bytes);
      const uint64_t subs = (n + kSubRows - 1) / kSubRows;
      pf(static_cast<std::size_t>(subs), [&](std::size_t k) {
        const uint64_t s0 = k * kSubRows, sn = std::min(kSubRows, n - s0);
        gguf_encode_rows(t.type, x.data() + s0 * cols, sn, cols, out.data() + s0 * row_bytes);
      });
      w.write(out.data(), out.size());
      done += out.size();
    }
    if (progress) progress(done, total, t.gguf_name);
  }
  w.finish();
  return w.file_size();
}

}  // namespace squint
