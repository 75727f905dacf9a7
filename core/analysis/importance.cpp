#include "analysis/importance.h"

#include "analysis/roles.h"
#include "model/family.h"
#include "util/error.h"
#include "util/json_guard.h"

namespace squint {

std::string ImatrixRef::describe() const {
  std::string s = (file.empty() ? std::string("an imatrix") : file) + " (" + hash;
  if (chunk_count > 0) s += ", " + std::to_string(chunk_count) + " chunks";
  if (chunk_size > 0) s += " of " + std::to_string(chunk_size) + " tokens";
  return s + ")";
}

nlohmann::json imatrix_ref_json(const ImatrixRef& r) {
  return {{"file", r.file},
          {"hash", r.hash},
          {"format", r.format},
          {"chunk_count", r.chunk_count},
          {"chunk_size", r.chunk_size},
          {"datasets", r.datasets},
          {"entries", r.entries}};
}

ImatrixRef imatrix_ref_from_json(const nlohmann::json& j, const std::string& where) {
  const std::string ctx = where + ": imatrix";
  if (!j.is_object()) fail(ctx + " is not an object");
  auto str = [&](const char* k) {
    if (!j.contains(k) || !j[k].is_string()) fail(ctx + ": '" + k + "' must be a string");
    return j[k].get<std::string>();
  };
  ImatrixRef r;
  r.file = str("file");
  r.hash = str("hash");
  if (r.hash.empty()) fail(ctx + ": empty hash");
  r.format = str("format");
  if (r.format != "gguf" && r.format != "dat") fail(ctx + ": unknown format '" + r.format + "' (gguf or dat)");
  r.chunk_count = json_int_or<int32_t>(j, "chunk_count", 0, ctx);
  r.chunk_size = json_int_or<int32_t>(j, "chunk_size", 0, ctx);
  r.entries = json_int_or<uint64_t>(j, "entries", 0, ctx);
  if (j.contains("datasets")) {
    if (!j["datasets"].is_array()) fail(ctx + ": 'datasets' must be an array of strings");
    for (const auto& d : j["datasets"]) {
      if (!d.is_string()) fail(ctx + ": 'datasets' must be an array of strings");
      r.datasets.push_back(d.get<std::string>());
    }
  }
  return r;
}

const std::vector<float>* ModelImatrix::find(const std::string& tensor) const {
  auto it = weights.find(tensor);
  return it == weights.end() ? nullptr : &it->second;
}

const std::vector<float>* ModelImatrix::find_gguf(const std::string& gguf_name) const {
  auto it = by_gguf.find(gguf_name);
  return it == by_gguf.end() ? nullptr : &it->second;
}

ImatrixRef imatrix_ref_of(const Imatrix& m, const std::string& file, const ByteSource& bytes) {
  ImatrixRef r;
  r.file = file;
  r.hash = content_hash(bytes);
  r.format = m.legacy ? "dat" : "gguf";
  r.chunk_count = m.chunk_count;
  r.chunk_size = m.chunk_size;
  r.datasets = m.datasets;
  r.entries = m.entries.size();
  return r;
}

ModelImatrix match_imatrix(const Imatrix& m, const ImatrixRef& ref, const Checkpoint& ck) {
  const std::string who = ref.file.empty() ? std::string("imatrix") : ref.file;
  if (!ck.config.raw.is_object())
    fail(who + ": " + ck.location + " has no config.json (an imatrix names llama.cpp's tensors, by the model's family)");
  const std::vector<GgufNameRule> names = gguf_names_for_config(ck.config.raw, ck.location + "/config.json");
  // The checkpoint's tensors by the name llama.cpp gives them in a GGUF file: one tensor (2-D, or a 3-D
  // [experts, out, in] stack), or a stack's experts stored one tensor each (by expert index).
  struct Target {
    const TensorInfo* whole = nullptr;
    std::map<int, const TensorInfo*> experts;
  };
  std::map<std::string, Target> by_gguf;
  for (const auto& t : ck.tensors) {
    if (t.shape.size() < 2) continue;
    const auto g = gguf_name_of(names, t.name);
    if (!g) continue;
    if (g->stacked)
      by_gguf[g->name].experts[g->expert] = &t;
    else
      by_gguf[g->name].whole = &t;
  }
  ModelImatrix mi;
  mi.ref = ref;
  for (const auto& [name, e] : m.entries) {
    auto it = by_gguf.find(name);
    if (it == by_gguf.end())
      fail(who + ": entry '" + name + "' names no tensor of " + ck.location + " (an imatrix for another model?)");
    const Target& tg = it->second;
    const TensorInfo& t = tg.whole ? *tg.whole : *tg.experts.begin()->second;
    // A 3-D [experts, out, in] stack or a stack of expert tensors has one matrix per expert; a 2-D weight one.
    const uint64_t mats = tg.whole ? (t.shape.size() >= 3 ? static_cast<uint64_t>(t.shape[0]) : 1) : tg.experts.size();
    const uint64_t cols = t.cols();
    bool ok = true;
    for (const auto& [k, x] : tg.experts) ok = ok && x->cols() == cols && k >= 0 && static_cast<uint64_t>(k) < mats;
    // A legacy .dat flattens the experts under one count, so only the total length is known.
    ok = ok && (m.legacy ? e.sums.size() == cols * mats : (e.n_per_row() == cols && e.n_mat() == mats));
    if (!ok)
      fail(who + ": entry '" + name + "' has " +
           (m.legacy ? std::to_string(e.sums.size()) + " values"
                     : std::to_string(e.n_mat()) + " x " + std::to_string(e.n_per_row()) + " values") +
           ", but " + (tg.whole ? "tensor '" + t.name + "'" : std::string("the expert tensors")) + " of " +
           ck.location + " ha" + (tg.whole ? "s " : "ve ") + (mats > 1 ? std::to_string(mats) + " x " : std::string()) +
           std::to_string(cols) + " columns (an imatrix for another model?)");
    std::vector<float> w = imatrix_quant_weights(e, m.legacy);
    for (const auto& [k, x] : tg.experts)  // expert k's tensor: its own slice
      mi.weights[x->name].assign(w.begin() + static_cast<std::ptrdiff_t>(k * cols),
                                 w.begin() + static_cast<std::ptrdiff_t>((k + 1) * cols));
    if (tg.whole) mi.weights[t.name] = w;
    mi.by_gguf[name] = std::move(w);
  }
  return mi;
}

ColumnWeights column_weights_from_imatrix(const ModelImatrix& mi) {
  ColumnWeights w;
  w.kind = "calibrated";
  w.source = "imatrix " + mi.ref.describe();
  w.tensors = mi.weights;
  return w;
}

void check_plan_imatrix(const ImatrixRef& planned, const ImatrixRef* given, const std::string& plan_file) {
  if (planned.empty() && given)
    fail(plan_file + " was made without an imatrix; quantizing it with " + given->describe() +
         " would not give the errors it chose by (re-plan with --imatrix, or drop --imatrix)");
  if (!planned.empty() && !given)
    fail(plan_file + " was made with imatrix " + planned.describe() + "; pass the same file with --imatrix");
  if (!planned.empty() && given && planned.hash != given->hash)
    fail(plan_file + " was made with imatrix " + planned.describe() + ", not " + given->describe());
}

}  // namespace squint
