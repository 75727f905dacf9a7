#include "convert/gguf_llama.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "io/dtype.h"
#include "model/checkpoint_check.h"
#include "model/config_keys.h"
#include "model/family.h"
#include "model/gguf_hparams.h"
#include "quant/ggml_quants.h"
#include "util/chunks.h"
#include "util/error.h"
#include "util/json_guard.h"

namespace squint {

std::optional<uint32_t> gguf_type_id_from_name(const std::string& name) {
  for (uint32_t id = 0; id < 64; ++id) {
    GgufTypeSize s = gguf_type_size(id);
    if (s.name && name == s.name) return id;
  }
  return std::nullopt;
}

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

GgufFaults gguf_fault_named(const std::string& n) {
  GgufFaults f;
  if (n == "no-qk-permute") f.no_qk_permute = true;
  else if (n == "reverse-experts") f.reverse_experts = true;
  else if (n == "no-norm-add-one") f.no_norm_add_one = true;
  else if (n == "swap-shared-gate-up") f.swap_shared_gate_up = true;
  else if (n == "swap-gate-up-halves")
    f.swap_gate_up_halves = true;
  else if (n == "vocab-without-bytes") f.vocab_without_bytes = true;
  else
    fail("unknown GGUF negative control '" + n +
         "' (no-qk-permute, reverse-experts, no-norm-add-one, swap-shared-gate-up, swap-gate-up-halves, "
         "vocab-without-bytes)");
  return f;
}

GgufModelLayout gguf_llama_layout(const Checkpoint& ck, const std::function<uint32_t(const TensorInfo&)>& type_for,
                                  const GgufFaults& faults) {
  const bool permute = !faults.no_qk_permute;
  const std::string where = ck.location + "/config.json";
  if (!ck.config.raw.is_object()) fail(ck.location + ": no config.json (GGUF needs the model's hyperparameters)");
  const Family& fam = family_for_config(ck.config.raw, where);
  check_family_tensors(ck);
  const ModelHparams c = fam.from_config(ck.config.raw, where);
  const nlohmann::json& j = text_config(ck.config.raw);
  GgufModelLayout L;
  L.arch = fam.gguf_arch(c);
  L.kv = fam.gguf_kv(c, j.contains("_name_or_path") && j["_name_or_path"].is_string() ? j["_name_or_path"].get<std::string>()
                                                                                       : std::string("squint model"));
  const std::vector<GgufNameRule> rules = fam.gguf_names(c);
  for (GgufRopeTensor& rt : gguf_rope_tensors(c)) {
    GgufTensorPlan t;
    t.gguf_name = rt.name;
    t.ne = {static_cast<uint64_t>(rt.values.size())};
    t.generated = std::move(rt.values);
    L.tensors.push_back(std::move(t));
  }
  bool has_lm_head = false;
  std::size_t outside = 0;
  std::map<std::string, std::size_t> stacks;  // GGUF name of an expert stack -> its index in L.tensors
  for (const auto& t : ck.tensors) {
    if (t.name.find("rotary_emb.inv_freq") != std::string::npos) continue;
    if (t.name == "lm_head.weight" && c.tied) continue;  // the loader reuses token_embd
    if (fam.outside_text_model(t.name)) {
      ++outside;
      continue;
    }
    auto m = gguf_name_of(rules, t.name);
    if (!m) fail(ck.location + ": tensor '" + t.name + "' has no GGUF equivalent in llama.cpp's " + L.arch + " architecture");
    if (m->name == "output.weight" && c.tied) continue;  // a wrapper's language_model.lm_head.weight
    if (faults.swap_shared_gate_up) {
      for (auto [from, to] :
           {std::pair<const char*, const char*>{"ffn_gate_shexp", "ffn_up_shexp"}, {"ffn_up_shexp", "ffn_gate_shexp"}})
        if (const auto k = m->name.find(from); k != std::string::npos) {
          m->name.replace(k, std::string(from).size(), to);
          break;
        }
    }
    if (!is_float_measurable(t.dtype)) fail(ck.location + ": tensor '" + t.name + "' is " + dtype_name(t.dtype) + "; GGUF conversion needs F32, F16 or BF16");
    if (m->name == "output.weight") has_lm_head = true;
    // llama.cpp never quantizes routers (llama-quantize skips ffn_gate_inp; the converter writes it F32).
    const bool router = m->name.find("ffn_gate_inp") != std::string::npos;
    const uint32_t type = t.shape.size() >= 2 && !router ? type_for(t) : ggml_id::F32;
    if (m->stacked) {
      if (t.shape.size() != 2) fail(ck.location + ": expert tensor '" + t.name + "' is not a matrix");
      if (m->expert >= c.experts)
        fail(ck.location + ": tensor '" + t.name + "' is expert " + std::to_string(m->expert) + " but config.json has " +
             std::to_string(c.experts) + " experts");
      auto [it, fresh] = stacks.emplace(m->name, L.tensors.size());
      if (fresh) {
        GgufTensorPlan p;
        p.gguf_name = m->name;
        p.ne = {static_cast<uint64_t>(t.shape[1]), static_cast<uint64_t>(t.shape[0]), static_cast<uint64_t>(c.experts)};
        p.type = type;
        p.experts.resize(static_cast<std::size_t>(c.experts));
        L.tensors.push_back(std::move(p));
      }
      GgufTensorPlan& p = L.tensors[it->second];
      if (p.ne[0] != static_cast<uint64_t>(t.shape[1]) || p.ne[1] != static_cast<uint64_t>(t.shape[0]))
        fail(ck.location + ": tensor '" + t.name + "' does not have the shape of the other experts of " + m->name);
      if (type != p.type) fail(ck.location + ": tensor '" + t.name + "': the experts of one projection must share one type (" + m->name + ")");
      std::string& slot = p.experts[static_cast<std::size_t>(m->expert)];
      if (!slot.empty()) fail(ck.location + ": tensor '" + t.name + "' is a second copy of expert " + std::to_string(m->expert));
      slot = t.name;
      continue;
    }
    GgufTensorPlan p;
    p.gguf_name = m->name;
    p.hf_name = t.name;
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) p.ne.push_back(static_cast<uint64_t>(*it));
    p.type = type;
    p.add_one = m->transform == GgufTransform::AddOne && !faults.no_norm_add_one;
    p.swap_halves = faults.swap_gate_up_halves && t.name.ends_with("mlp.gate_up_proj.weight");
    gguf_row_bytes(p.type, p.cols(), ck.location + ": tensor '" + t.name + "'");
    if (permute && (m->transform == GgufTransform::PermuteQ || m->transform == GgufTransform::PermuteK)) {
      p.permute_heads = m->transform == GgufTransform::PermuteQ ? c.heads : c.kv_heads;
      const uint64_t rows = t.shape.empty() ? 0 : static_cast<uint64_t>(t.shape[0]);
      if (rows % (2 * static_cast<uint64_t>(p.permute_heads)))
        fail(ck.location + ": tensor '" + t.name + "' has " + std::to_string(rows) + " rows, not a multiple of 2 x " +
             std::to_string(p.permute_heads) + " heads");
    }
    L.tensors.push_back(std::move(p));
  }
  for (auto& [name, i] : stacks) {
    GgufTensorPlan& p = L.tensors[i];
    for (std::size_t e = 0; e < p.experts.size(); ++e)
      if (p.experts[e].empty()) fail(ck.location + ": expert " + std::to_string(e) + " of " + name + " is missing");
    if (faults.reverse_experts) std::reverse(p.experts.begin(), p.experts.end());
    p.hf_name = p.experts.front();
    gguf_row_bytes(p.type, p.cols(), ck.location + ": tensor '" + p.hf_name + "'");
  }
  if (!c.tied && !has_lm_head) L.warnings.push_back("config says untied embeddings but there is no lm_head.weight; llama.cpp will reuse token_embd");
  if (outside > 0)
    L.warnings.push_back(std::to_string(outside) +
                         " tensors of the vision tower and projector are left out: llama.cpp runs them " +
                         "from a separate mmproj GGUF, which squint does not write (this file is the text model)");
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

void gguf_encode_rows(uint32_t type, const float* x, uint64_t rows, uint64_t cols, uint8_t* dst, const float* imatrix) {
  if (is_float_type(type)) return from_f32(float_dtype(type), x, rows * cols, dst);
  const GgmlTypeInfo* q = port_type(type);
  if (!q) fail("squint cannot write GGUF type " + type_label(type));
  // Blocks run along a row, so rows are independent: quantizing a row-permuted matrix equals permuting the
  // quantized rows (the Q/K permutation is applied to the float rows before this call).
  ggml_quantize_rows(q->type, x, rows, cols, dst, imatrix);
}

void gguf_decode_rows(uint32_t type, const uint8_t* src, uint64_t rows, uint64_t cols, float* dst) {
  if (is_float_type(type)) {
    to_f32(float_dtype(type), src, rows * cols, dst);  // NaN/Inf pass through: the gate and eval report them
    return;
  }
  const GgmlTypeInfo* q = port_type(type);
  if (!q)
    fail("squint cannot read GGUF type " + type_label(type) +
         " (it reads F32, F16, BF16, Q4_0..Q8_0, Q2_K..Q6_K, IQ1_S, IQ1_M, IQ2_XXS..IQ2_S, IQ3_XXS, IQ3_S, IQ4_NL, "
         "IQ4_XS)");
  ggml_dequantize_rows(q->type, src, rows, cols, dst);
}

std::vector<float> read_gguf_tensor_f32(const GgufFile& g, ByteSource& src, const GgufTensorInfo& t) {
  std::vector<uint8_t> raw(t.nbytes);
  src.read(g.absolute_offset(t), t.nbytes, raw.data());
  std::vector<float> out(t.numel());
  gguf_decode_rows(t.type, raw.data(), t.rows(), t.cols(), out.data());
  return out;
}

WeightSource weights_from_gguf(const GgufFile& g, ByteSource& src) {
  const Family& fam = family_for_gguf(g);
  const ModelHparams c = fam.from_gguf(g, &src);
  const std::string arch = gguf_architecture(g);
  const std::vector<GgufNameRule> rules = fam.gguf_names(c);
  return [&g, &src, c, rules](const std::string& name, std::vector<int64_t>* shape, std::vector<float>* data) {
    const auto m = gguf_name_of(rules, name);
    if (!m) return false;
    const GgufTensorInfo* t = g.tensor(m->name);
    if (!t) return false;
    if (m->stacked) {  // one expert's rows of an [in, out, experts] stack
      if (t->ne.size() != 3 || m->expert >= static_cast<int>(t->ne[2])) return false;
      const uint64_t rows = t->ne[1], cols = t->ne[0], row_bytes = t->nbytes / (t->ne[1] * t->ne[2]);
      std::vector<uint8_t> raw(rows * row_bytes);
      src.read(g.absolute_offset(*t) + static_cast<uint64_t>(m->expert) * rows * row_bytes, raw.size(), raw.data());
      data->resize(rows * cols);
      gguf_decode_rows(t->type, raw.data(), rows, cols, data->data());
      *shape = {static_cast<int64_t>(rows), static_cast<int64_t>(cols)};
      return true;
    }
    *data = read_gguf_tensor_f32(g, src, *t);
    shape->assign(t->ne.rbegin(), t->ne.rend());
    if (m->transform == GgufTransform::AddOne)
      for (auto& v : *data) v -= 1.0f;
    if (m->transform == GgufTransform::PermuteQ || m->transform == GgufTransform::PermuteK) {
      const int heads = m->transform == GgufTransform::PermuteQ ? c.heads : c.kv_heads;
      const uint64_t rows = t->ne.size() >= 2 ? t->ne[1] : t->ne[0], cols = t->ne.size() >= 2 ? t->ne[0] : 1;
      if (rows % (2 * static_cast<uint64_t>(heads))) fail(g.file + ": tensor '" + m->name + "' rows do not split into heads");
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
                                              std::vector<std::string>& warnings, const GgufFaults& faults) {
  const ModelHparams c = hparams_from_config(config, "config.json");
  TokenizerOptions o;
  o.vocab_size = c.vocab;
  o.llama_vocab_without_bytes = faults.vocab_without_bytes;
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
    // The source tensors (an expert stack: each expert's rows in turn), or the generated values.
    std::vector<const TensorInfo*> srcs;
    if (!t.hf_name.empty()) {
      for (const auto& name : t.sources()) {
        const TensorInfo* ti = ck.find(name);
        if (!ti) fail(ck.location + ": tensor '" + name + "' disappeared");
        if (!is_float_measurable(ti->dtype))
          fail(ck.files.at(ti->file) + ": tensor '" + ti->name + "': dtype " + dtype_name(ti->dtype) + " cannot be read as float");
        srcs.push_back(ti);
      }
      uint64_t n = 0;
      for (const TensorInfo* ti : srcs) n += ti->numel();
      if (n != rows * cols) fail("internal error: GGUF tensor '" + t.gguf_name + "' has the wrong element count");
    } else if (t.generated.size() != rows * cols) {
      fail("internal error: GGUF tensor '" + t.gguf_name + "' has the wrong element count");
    }
    if (rows == 0) w.write(out.data(), 0);
    // Importance weights per matrix: a 3-D expert stack's rows are cut where the expert changes, as llama.cpp's
    // quantizer gives each expert's rows that expert's slice. `base`: the stack's row where this source begins.
    const uint64_t per_expert = t.ne.size() >= 3 ? std::max<uint64_t>(t.ne[1], 1) : std::max<uint64_t>(rows, 1);
    if (t.imatrix && t.imatrix->size() != cols * (t.ne.size() >= 3 ? t.ne[2] : 1))
      fail("internal error: GGUF tensor '" + t.gguf_name + "' has the wrong number of importance weights");
    uint64_t base = 0;
    const std::size_t nsrc = srcs.empty() ? 1 : srcs.size();
    for (std::size_t si = 0; si < nsrc; ++si) {
      const TensorInfo* ti = srcs.empty() ? nullptr : srcs[si];
      const uint64_t srows = ti ? ti->numel() / std::max<uint64_t>(cols, 1) : rows;
      const uint64_t step = t.permute_heads > 0 ? std::max<uint64_t>(srows, 1)
                            : t.swap_halves     ? std::max<uint64_t>(srows / 2, 1)
                                                : rows_per_batch(cols);
      for (uint64_t r0 = 0; r0 < srows; r0 += step) {
        const uint64_t n = std::min(step, srows - r0);
        const uint64_t from = t.swap_halves ? (r0 + srows / 2) % srows : r0;  // the source's first row
        x.resize(n * cols);
        if (!ti) {
          std::copy(t.generated.begin() + static_cast<std::ptrdiff_t>(r0 * cols),
                    t.generated.begin() + static_cast<std::ptrdiff_t>((r0 + n) * cols), x.begin());
        } else {
          const uint64_t es = dtype_bits(ti->dtype) / 8;
          raw.resize(n * cols * es);
          ck.sources.at(ti->file)->read(ti->offset + from * cols * es, raw.size(), raw.data());
          if (!to_f32(ti->dtype, raw.data(), n * cols, x.data())) fail(ck.location + ": tensor '" + ti->name + "' holds NaN or Inf");
        }
        if (t.add_one)
          for (auto& v : x) v += 1.0f;
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
          if (!t.imatrix) return gguf_encode_rows(t.type, x.data() + s0 * cols, sn, cols, out.data() + s0 * row_bytes);
          for (uint64_t a = s0; a < s0 + sn;) {
            const uint64_t row = base + r0 + a, e = row / per_expert, b = std::min(s0 + sn, a + (e + 1) * per_expert - row);
            gguf_encode_rows(t.type, x.data() + a * cols, b - a, cols, out.data() + a * row_bytes,
                             t.imatrix->data() + e * cols);
            a = b;
          }
        });
        w.write(out.data(), out.size());
        done += out.size();
      }
      base += srows;
    }
    if (progress) progress(done, total, t.gguf_name);
  }
  w.finish();
  return w.file_size();
}

}  // namespace squint
