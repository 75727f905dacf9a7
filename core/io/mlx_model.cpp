#include "io/mlx_model.h"

#include <algorithm>
#include <map>

#include "util/chunks.h"
#include "util/error.h"
#include "util/json_guard.h"
#include "util/shape_str.h"

namespace squint {

using nlohmann::json;

namespace {

// mlx-lm hands a per-module dict to to_quantized(**dict): keys it leaves out take to_quantized's
// defaults (group_size 64, bits 4, affine), not the global ones.
QConfig module_entry_config(const json& e, const std::string& module, const std::string& file) {
  QConfig c{4, 64};
  if (e.contains("mode") && !(e["mode"].is_string() && e["mode"].get<std::string>() == "affine"))
    fail(file + ": quantization entry for '" + module + "': mode " + e["mode"].dump() +
         " is not supported (only affine)");
  if (e.contains("bits")) {
    if (!e["bits"].is_number_integer()) fail(file + ": quantization entry for '" + module + "': bits is not an integer");
    c.bits = json_int<int>(e["bits"], file + ": quantization entry for '" + module + "': bits");
  }
  if (e.contains("group_size")) {
    if (!e["group_size"].is_number_integer())
      fail(file + ": quantization entry for '" + module + "': group_size is not an integer");
    c.group = json_int<int>(e["group_size"], file + ": quantization entry for '" + module + "': group_size");
  }
  if (c.bits < 1 || c.bits > 8 || c.group <= 0)
    fail(file + ": quantization entry for '" + module + "': unsupported bits " + std::to_string(c.bits) +
         " / group_size " + std::to_string(c.group));
  return c;
}

}  // namespace

MlxQuantConfig parse_mlx_quant_config(const json& config, const std::string& file) {
  MlxQuantConfig q;
  if (!config.is_object()) return q;
  const json* blk = nullptr;
  if (config.contains("quantization") && config["quantization"].is_object())
    blk = &config["quantization"];
  else if (config.contains("quantization_config") && config["quantization_config"].is_object())
    blk = &config["quantization_config"];
  if (!blk) return q;
  q.present = true;
  q.per_module = *blk;
  const json& b = *blk;
  if (b.contains("mode") && !(b["mode"].is_string() && b["mode"].get<std::string>() == "affine"))
    fail(file + ": quantization mode " + b["mode"].dump() + " is not supported (only affine)");
  if (b.contains("quant_method") && b["quant_method"].is_string())
    fail(file + ": quantization_config with quant_method '" + b["quant_method"].get<std::string>() +
         "' is not an MLX affine quantization");
  q.global = module_entry_config(b, "(global)", file);
  return q;
}

MlxModel open_mlx_model(const FileProvider& files) {
  MlxModel m;
  m.ck = open_checkpoint(files);
  const std::string cfg_file = "config.json";
  MlxQuantConfig qc = parse_mlx_quant_config(m.ck.config.raw, cfg_file);

  std::map<std::string, const TensorInfo*> by_name;
  for (const auto& t : m.ck.tensors) by_name[t.name] = &t;
  auto file_of = [&](const TensorInfo* t) { return m.ck.files.at(t->file); };

  // Modules stored quantized: those with P.scales.
  std::map<std::string, bool> consumed;  // tensor names folded into a quantized module
  std::map<std::string, LogicalTensor> quantized;  // by weight name
  for (const auto& t : m.ck.tensors) {
    if (!t.name.ends_with(".scales")) continue;
    const std::string P = t.name.substr(0, t.name.size() - 7);
    const std::string where = file_of(&t) + ": module '" + P + "'";
    auto wi = by_name.find(P + ".weight");
    auto bi = by_name.find(P + ".biases");
    if (wi == by_name.end()) fail(where + ": has scales but no '" + P + ".weight'");
    if (bi == by_name.end()) fail(where + ": has scales but no biases ('" + P + ".biases' is missing)");
    const TensorInfo *w = wi->second, *s = &t, *b = bi->second;
    QConfig c = qc.global;
    if (qc.present && qc.per_module.contains(P)) {
      const json& e = qc.per_module[P];
      if (e.is_boolean()) {
        if (!e.get<bool>())
          fail(cfg_file + ": quantization entry for '" + P + "' is false but the weights hold " + P + ".scales");
      } else if (e.is_object()) {
        c = module_entry_config(e, P, cfg_file);
      } else {
        fail(cfg_file + ": quantization entry for '" + P + "' is neither an object nor a boolean");
      }
    } else if (!qc.present) {
      fail(where + ": stored quantized (has scales) but config.json has no \"quantization\" block giving its bits");
    }
    if (w->dtype != DType::U32)
      fail(where + ": weight dtype is " + dtype_name(w->dtype) + ", expected U32 packed codes");
    if (!is_float_measurable(s->dtype) || s->dtype != b->dtype)
      fail(where + ": scales/biases dtypes " + dtype_name(s->dtype) + "/" + dtype_name(b->dtype) +
           " are not one float dtype");
    if (s->shape != b->shape)
      fail(where + ": scales shape " + shape_str(s->shape) + " differs from biases shape " + shape_str(b->shape));
    if (w->shape.size() < 2 || w->shape.size() != s->shape.size() ||
        !std::equal(w->shape.begin(), w->shape.end() - 1, s->shape.begin()))
      fail(where + ": weight shape " + shape_str(w->shape) + " does not match scales shape " + shape_str(s->shape));
    const int64_t in = s->shape.back() * static_cast<int64_t>(c.group);
    if (w->shape.back() * 32 != in * c.bits)
      fail(where + ": config.json says " + std::to_string(c.bits) + "-bit, group " + std::to_string(c.group) +
           ", but the packed weight " + shape_str(w->shape) + " and scales " + shape_str(s->shape) +
           " imply " + (in > 0 && (w->shape.back() * 32) % in == 0 ? std::to_string(w->shape.back() * 32 / in) : std::string("a non-integer")) +
           " bits per weight");
    LogicalTensor lt;
    lt.name = w->name;
    lt.shape = w->shape;
    lt.shape.back() = in;
    lt.dtype = s->dtype;
    lt.quant = c;
    lt.weight = w;
    lt.scales = s;
    lt.biases = b;
    consumed[w->name] = consumed[s->name] = consumed[b->name] = true;
    quantized[w->name] = lt;
  }
  for (const auto& t : m.ck.tensors) {
    if (consumed.count(t.name)) {
      if (t.name.ends_with(".weight")) m.tensors.push_back(quantized.at(t.name));
      continue;
    }
    if (t.name.ends_with(".weight") && t.dtype == DType::U32) {
      const std::string P = t.name.substr(0, t.name.size() - 7);
      fail(file_of(&t) + ": module '" + P + "': U32 packed weight without scales ('" + P + ".scales' is missing)");
    }
    if (t.name.ends_with(".biases") && by_name.count(t.name.substr(0, t.name.size() - 7) + ".weight") &&
        by_name.at(t.name.substr(0, t.name.size() - 7) + ".weight")->dtype == DType::U32)
      continue;  // reported above through the weight
    LogicalTensor lt;
    lt.name = t.name;
    lt.shape = t.shape;
    lt.dtype = t.dtype;
    lt.weight = &t;
    m.tensors.push_back(lt);
  }
  return m;
}

bool read_logical_rows_f32(const MlxModel& m, const LogicalTensor& t, uint64_t row0, uint64_t nrows, float* out) {
  const uint64_t cols = logical_cols(t);
  if (row0 + nrows > logical_rows(t)) fail(t.name + ": internal error: row range past the tensor");
  if (nrows == 0) return true;
  if (!t.quant) {
    const TensorInfo& w = *t.weight;
    if (!is_float_measurable(w.dtype))
      fail(m.ck.files.at(w.file) + ": tensor '" + w.name + "': dtype " + dtype_name(w.dtype) + " cannot be read as float");
    const uint64_t es = dtype_bits(w.dtype) / 8;
    const uint64_t n = nrows * cols;
    if (w.dtype == DType::F32) {
      m.ck.sources.at(w.file)->read(w.offset + row0 * cols * es, n * es, reinterpret_cast<uint8_t*>(out));
      return to_f32(DType::F32, reinterpret_cast<const uint8_t*>(out), n, out);
    }
    std::vector<uint8_t> raw(n * es);
    m.ck.sources.at(w.file)->read(w.offset + row0 * cols * es, raw.size(), raw.data());
    return to_f32(w.dtype, raw.data(), n, out);
  }
  const QConfig c = *t.quant;
  const uint64_t row_bytes = cols * c.bits / 8;
  const uint64_t gpr = cols / c.group;
  const uint64_t ses = dtype_bits(t.scales->dtype) / 8;
  std::vector<uint8_t> packed(nrows * row_bytes), raw(nrows * gpr * ses);
  std::vector<float> s(nrows * gpr), b(nrows * gpr);
  m.ck.sources.at(t.weight->file)->read(t.weight->offset + row0 * row_bytes, packed.size(), packed.data());
  bool ok = true;
  m.ck.sources.at(t.scales->file)->read(t.scales->offset + row0 * gpr * ses, raw.size(), raw.data());
  ok &= to_f32(t.scales->dtype, raw.data(), s.size(), s.data());
  m.ck.sources.at(t.biases->file)->read(t.biases->offset + row0 * gpr * ses, raw.size(), raw.data());
  ok &= to_f32(t.biases->dtype, raw.data(), b.size(), b.data());
  dequantize_rows(packed.data(), s.data(), b.data(), nrows, cols, c, out);
  return ok;
}

bool read_logical_f32(const MlxModel& m, const LogicalTensor& t, float* out) {
  const uint64_t rows = logical_rows(t), cols = logical_cols(t);
  // Bounded scratch: about 16M elements of packed input at a time.
  const uint64_t step = std::max<uint64_t>(1, kBatchElems / std::max<uint64_t>(cols, 1));
  bool ok = true;
  for (uint64_t r = 0; r < rows; r += step) {
    const uint64_t n = std::min(step, rows - r);
    ok &= read_logical_rows_f32(m, t, r, n, out + r * cols);
  }
  return ok;
}

}  // namespace squint
