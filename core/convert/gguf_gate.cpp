#include "convert/gguf_gate.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "analysis/analysis.h"
#include "convert/gguf_llama.h"
#include "model/family.h"
#include "model/gguf_hparams.h"
#include "util/error.h"

namespace squint {

GateReport gate_gguf(const Checkpoint& original, const GgufFile& g, ByteSource& src, double floor_db, const ParallelFor& pf,
                     const std::function<void(std::size_t, std::size_t)>& progress) {
  GateReport r = new_gate_report("model", floor_db);
  const std::string oloc = original.location;
  const bool tied = g.tensor("output.weight") == nullptr;
  const Family& fam = family_for_gguf(g);
  const std::vector<GgufNameRule> rules = fam.gguf_names(fam.from_gguf(g, &src));
  WeightSource weights = weights_from_gguf(g, src);  // dequantized, HF order (conversions undone)
  std::set<std::string> seen;
  std::size_t done = 0;
  for (const auto& t : original.tensors) {
    if (progress) progress(done++, original.tensors.size());
    if (t.name.find("rotary_emb.inv_freq") != std::string::npos) continue;  // not a weight; GGUF has none
    if (fam.outside_text_model(t.name)) continue;                           // not converted (vision tower)
    const auto m = gguf_name_of(rules, t.name);
    if (m && m->name == "output.weight" && tied) continue;  // the file reuses token_embd
    const std::optional<std::string> gn = m ? std::optional<std::string>(m->name) : std::nullopt;
    const GgufTensorInfo* gt = gn ? g.tensor(*gn) : nullptr;
    if (!gt) fail(g.file + ": tensor '" + t.name + "' of " + oloc + " is missing (GGUF name " + (gn ? *gn : "none") + ")");
    seen.insert(*gn);
    std::vector<uint64_t> ne(t.shape.rbegin(), t.shape.rend());
    if (m->stacked) {  // one expert of an [in, out, experts] stack
      if (gt->ne.size() != 3 || ne.size() != 2 || gt->ne[0] != ne[0] || gt->ne[1] != ne[1] ||
          m->expert >= static_cast<int>(gt->ne[2]))
        fail(g.file + ": tensor '" + *gn + "' has no expert " + std::to_string(m->expert) + " of the shape of '" + t.name + "' in " + oloc);
    } else if (gt->ne != ne) {
      fail(g.file + ": tensor '" + *gn + "' does not have the shape of '" + t.name + "' in " + oloc);
    }
    const GgmlTypeInfo* ti = ggml_type_from_id(gt->type);
    if (!ti || ti->block == 1) {  // F32/F16/BF16 (or a type the decoder below refuses)
      if (!ti && !gguf_type_decodable(gt->type))
        fail(g.file + ": tensor '" + *gn + "' has type " + (gguf_type_size(gt->type).name ? gguf_type_size(gt->type).name : "?") +
             ", which squint cannot read");
      ++r.kept;
      continue;
    }
    if (!is_float_measurable(t.dtype))
      fail(oloc + ": tensor '" + t.name + "' has dtype " + dtype_name(t.dtype) + " but is quantized in " + g.file);
    std::vector<int64_t> shape;
    std::vector<float> deq;
    weights(t.name, &shape, &deq);
    const uint64_t cols = t.cols();
    const ErrorSummary sum = gate_tensor_chunks(
        original, t, pf,
        [&](uint64_t r0, uint64_t r1, const float* ref, std::pair<double, double>* out) {
          const float* d = deq.data() + r0 * cols;
          const uint64_t n = (r1 - r0) * cols;
          // Σ ref² as measure_rows sums it and Σ err² element by element in row-major order, as ggml_measure_rows.
          const double signal = measure_rows(ref, ref, r1 - r0, cols, nullptr, 0, DType::F32, nullptr);
          double e = 0.0;
          for (uint64_t i = 0; i < n; ++i) {
            if (!std::isfinite(d[i])) return false;
            const double x = static_cast<double>(ref[i]) - static_cast<double>(d[i]);
            e += x * x;
          }
          *out = {signal, e};
          return true;
        },
        g.file + ": tensor '" + *gn + "'");
    add_gate_tensor(r, t.name, gguf_config(ti->type), t.numel(), sum);
  }
  for (const auto& t : g.tensors)
    if (!seen.count(t.name) && !is_gguf_rope_tensor(t.name))
      fail(g.file + ": tensor '" + t.name + "' has no counterpart in " + oloc);
  if (progress) progress(done, original.tensors.size());
  return r;
}

}  // namespace squint
