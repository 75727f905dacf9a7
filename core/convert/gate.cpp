#include "convert/gate.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "analysis/analysis.h"
#include "convert/mlx_names.h"
#include "util/error.h"
#include "util/shape_str.h"

namespace squint {

using nlohmann::json;

std::pair<double, double> block_signal_error(const float* ref, const float* deq, std::size_t rows, std::size_t cols,
                                             int group) {
  const double signal = measure_rows(ref, ref, rows, cols, nullptr, 0, DType::F32, nullptr);
  double err = 0;
  const std::size_t n = rows * cols;
  for (std::size_t g0 = 0; g0 < n; g0 += group) {
    float e = 0.0f;
    for (int j = 0; j < group; ++j) {
      const float d = ref[g0 + j] - deq[g0 + j];
      e = e + d * d;
    }
    err += static_cast<double>(e);
  }
  return {signal, err};
}

GateReport new_gate_report(const std::string& source, double floor_db) {
  GateReport r;
  r.source = source;
  r.floor_db = floor_db;
  r.min_db = kMaxSqnrDb;
  return r;
}

void add_gate_tensor(GateReport& r, const std::string& name, QConfig config, uint64_t params, const ErrorSummary& e) {
  GateTensor g;
  g.name = name;
  g.config = config;
  g.params = params;
  g.nrmse = e.nrmse;
  g.sqnr_db = e.sqnr_db;
  g.below = g.sqnr_db < r.floor_db;
  r.below += g.below;
  r.min_db = std::min(r.min_db, g.sqnr_db);
  r.tensors.push_back(g);
}

ErrorSummary gate_tensor_chunks(const Checkpoint& original, const TensorInfo& t, const ParallelFor& pf,
                                const GateChunkSums& sums, const std::string& where) {
  const uint64_t cols = t.cols();
  const ChunkPlan plan = plan_chunks(t.shape);
  const std::size_t nchunks = plan.chunks();
  std::vector<std::pair<double, double>> outs(nchunks);
  std::vector<char> finite(nchunks, 1);
  const std::size_t es = dtype_bits(t.dtype) / 8;
  pf(nchunks, [&](std::size_t ci) {
    uint64_t r0, r1;
    plan.rows(ci, &r0, &r1);
    const uint64_t n = (r1 - r0) * cols;
    std::vector<uint8_t> raw(n * es);
    std::vector<float> ref(n);
    original.sources.at(t.file)->read(t.offset + r0 * cols * es, raw.size(), raw.data());
    if (!to_f32(t.dtype, raw.data(), n, ref.data()) || !sums(r0, r1, ref.data(), &outs[ci])) finite[ci] = 0;
  });
  for (char f : finite)
    if (!f) fail(where + ": NaN or Inf in the original or the dequantized values");
  return summarize_chunks(outs, plan);
}

GateReport gate_models(const Checkpoint& original, const MlxModel& q, double floor_db, const ParallelFor& pf,
                       const std::function<void(std::size_t, std::size_t)>& progress) {
  GateReport r = new_gate_report("model", floor_db);
  std::map<std::string, const LogicalTensor*> by_name;
  std::map<std::string, uint64_t> covered;  // logical tensor -> rows accounted for
  for (const auto& t : q.tensors) by_name[t.name] = &t;
  const std::string qloc = q.ck.location, oloc = original.location;

  std::size_t done = 0;
  for (const auto& t : original.tensors) {
    const LogicalTensor* lt = nullptr;
    uint64_t base_row = 0;
    if (auto it = by_name.find(t.name); it != by_name.end()) {
      lt = it->second;
      if (lt->shape != t.shape)
        fail(qloc + ": tensor '" + t.name + "' has logical shape " + shape_str(lt->shape) + " but " + oloc + " has " +
             shape_str(t.shape));
    } else if (auto en = expert_stack_name(t.name); en && by_name.count(en->stacked)) {
      lt = by_name.at(en->stacked);
      std::vector<int64_t> want = t.shape;
      if (lt->shape.size() != want.size() + 1 || !std::equal(want.begin(), want.end(), lt->shape.begin() + 1) ||
          en->expert >= lt->shape[0])
        fail(qloc + ": expert stack '" + lt->name + "' has logical shape " + shape_str(lt->shape) +
             ", which does not hold expert " + std::to_string(en->expert) + " of shape " + shape_str(t.shape) + " ('" +
             t.name + "')");
      base_row = static_cast<uint64_t>(en->expert) * t.rows();
    } else {
      fail(qloc + ": tensor '" + t.name + "' of " + oloc + " is missing");
    }
    covered[lt->name] += t.rows();
    if (!lt->quant) {
      ++r.kept;
      if (progress) progress(++done, original.tensors.size());
      continue;
    }
    if (!is_float_measurable(t.dtype))
      fail(oloc + ": tensor '" + t.name + "' has dtype " + dtype_name(t.dtype) + " but is quantized in " + qloc);

    const QConfig c = *lt->quant;
    const uint64_t cols = t.cols();
    const ErrorSummary sum = gate_tensor_chunks(
        original, t, pf,
        [&](uint64_t r0, uint64_t r1, const float* ref, std::pair<double, double>* out) {
          std::vector<float> deq((r1 - r0) * cols);
          if (!read_logical_rows_f32(q, *lt, base_row + r0, r1 - r0, deq.data())) return false;
          *out = block_signal_error(ref, deq.data(), r1 - r0, cols, c.group);
          return true;
        },
        qloc + ": tensor '" + t.name + "'");
    add_gate_tensor(r, t.name, c, t.numel(), sum);
    if (progress) progress(++done, original.tensors.size());
  }
  for (const auto& t : q.tensors) {
    auto it = covered.find(t.name);
    if (it == covered.end())
      fail(qloc + ": tensor '" + t.name + "' has no counterpart in " + oloc);
    if (it->second != logical_rows(t))
      fail(qloc + ": expert stack '" + t.name + "': only part of its experts exist in " + oloc);
  }
  return r;
}

GateReport gate_plan(const Checkpoint& original, const Plan& plan, double floor_db) {
  if (plan.fingerprint != original.fingerprint)
    fail("plan was made for a different model: plan fingerprint " + plan.fingerprint + ", model " + original.location +
         " has " + original.fingerprint);
  GateReport r = new_gate_report("plan", floor_db);
  for (const auto& pt : plan.tensors) {
    if (!original.find(pt.name)) fail("plan names tensor '" + pt.name + "', which is not in " + original.location);
    if (pt.keep()) {
      ++r.kept;
      continue;
    }
    add_gate_tensor(r, pt.name, pt.config(), pt.params, {pt.nrmse, pt.sqnr_db});  // GGUF plans: the type
  }
  return r;
}

std::vector<const GateTensor*> worst_tensors(const GateReport& r, std::size_t n) {
  std::vector<const GateTensor*> v;
  for (const auto& t : r.tensors) v.push_back(&t);
  std::stable_sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->sqnr_db < b->sqnr_db; });
  if (v.size() > n) v.resize(n);
  return v;
}

json gate_report_json(const GateReport& r) {
  json ts = json::array();
  for (const auto& t : r.tensors) {
    json e = {{"name", t.name}, {"bits", t.config.bits}, {"group_size", t.config.group}, {"params", t.params},
              {"nrmse", t.nrmse}, {"sqnr_db", t.sqnr_db}, {"below_floor", t.below}};
    if (t.config.gguf()) e["type"] = config_name(t.config);  // GGUF: bits/group_size are the type's nominal ones
    ts.push_back(e);
  }
  return {{"format", "squint.gate"},
          {"version", 1},
          {"source", r.source},
          {"floor_db", r.floor_db},
          {"pass", r.pass()},
          {"quantized", r.tensors.size()},
          {"kept", r.kept},
          {"below_floor", r.below},
          {"min_sqnr_db", r.tensors.empty() ? json(nullptr) : json(r.min_db)},
          {"tensors", ts}};
}

}  // namespace squint
