#include "gguf_quantize.h"

#include <fmt/core.h>

#include <chrono>
#include <map>

#include "analysis/analysis.h"
#include "atomic_output.h"
#include "command.h"
#include "convert/gguf_llama.h"
#include "file_source.h"
#include "model_input.h"
#include "parallel.h"
#include "progress.h"
#include "util/error.h"
#include "util/units.h"

namespace squint {

namespace {

uint32_t float_type(DType d) { return d == DType::F32 ? ggml_id::F32 : d == DType::BF16 ? ggml_id::BF16 : ggml_id::F16; }

// Per-tensor types from a GGUF plan. Quantized tensors get the plan's type and are quantized from the values
// the analysis measured (the source rounded to its output dtype), kept matrices are written in that dtype,
// so the file's tensor bytes are the plan's total_bytes and `gate` finds the plan's SQNR.
struct PlanTypes {
  const Plan& plan;
  const Checkpoint& ck;
  uint32_t operator()(const TensorInfo& t) const {
    const PlanTensor* pt = plan.find(t.name);
    if (!pt) fail("plan has no entry for tensor '" + t.name + "' of " + ck.location);
    if (pt->keep()) return float_type(output_dtype_for(t.dtype, plan.f32_out_dtype));
    const GgmlTypeInfo* gi = ggml_type_from_name(std::string_view(pt->type));
    if (!gi || gi->block <= 1) fail("plan: tensor '" + t.name + "' has no GGUF quantization type");
    if (t.cols() % static_cast<uint64_t>(gi->block))
      fail("plan: tensor '" + t.name + "' has rows of " + std::to_string(t.cols()) + ", not a multiple of " + gi->name +
           "'s block of " + std::to_string(gi->block));
    return static_cast<uint32_t>(gi->type);
  }
};

}  // namespace

int run_quantize_gguf(const GgufQuantizeArgs& a) {
  const bool quiet = global_options().quiet;
  const bool with_budget = static_cast<bool>(a.budget_plan);
  const int sources = (with_budget ? 1 : 0) + (a.plan.empty() ? 0 : 1) + (a.type.empty() ? 0 : 1);
  if (sources > 1) fail("quantize: give only one of --type, --plan or a budget (--budget, --bpw, --min-safe)");
  std::optional<uint32_t> uniform;
  if (!a.type.empty()) {
    uniform = gguf_type_id_from_name(a.type);
    if (!uniform) fail("--type: unknown GGUF type '" + a.type + "' (e.g. F32, F16, BF16, Q8_0, Q4_K)");
    if (!gguf_type_encodable(*uniform)) fail("--type " + a.type + ": squint cannot write this type");
  }
  if (path_exists(a.out) && !a.force) fail(a.out + ": already exists (pass --force to replace it)");
  auto t0 = std::chrono::steady_clock::now();
  ModelPath mp = resolve_model_path(a.model);
  Checkpoint ck = open_checkpoint(*mp.provider, mp.single_file);
  std::optional<Plan> plan;
  if (!a.plan.empty()) plan = parse_plan(read_text_file(a.plan), a.plan);
  std::optional<ModelImatrix> mi;
  if (!a.imatrix.empty()) mi = load_model_imatrix(a.imatrix, ck);  // before a budget's analysis: fail early
  if (with_budget) plan = a.budget_plan(ck);
  if (plan) {
    if (plan->format != QFormat::Gguf)
      fail((a.plan.empty() ? std::string("plan") : a.plan) + ": an MLX plan (bits/group); make a GGUF one with `squint analyze --format gguf` + `squint plan`");
    if (plan->fingerprint != ck.fingerprint)
      fail("plan was made for a different model: plan fingerprint " + plan->fingerprint + ", model " + ck.location +
           " has " + ck.fingerprint);
    // The plan's errors were measured with (or without) one imatrix; quantizing with another is another file.
    check_plan_imatrix(plan->imatrix, mi ? &mi->ref : nullptr, a.plan.empty() ? std::string("the plan") : a.plan);
  }
  std::vector<std::string> notes;
  std::function<uint32_t(const TensorInfo&)> type_for = [&](const TensorInfo& t) -> uint32_t {
    if (!uniform) return float_type(t.dtype);
    const GgufTypeSize s = gguf_type_size(*uniform);
    if (t.cols() % s.block == 0) return *uniform;
    // A row length the type cannot hold: kept in its float type (no padding, no silent change of type).
    notes.push_back(t.name);
    return float_type(t.dtype);
  };
  if (plan) type_for = PlanTypes{*plan, ck};
  const GgufFaults faults = a.negative_control.empty() ? GgufFaults{} : gguf_fault_named(a.negative_control);
  GgufModelLayout L = gguf_llama_layout(ck, type_for, faults);
  for (auto& t : L.tensors) {
    const TensorInfo* ti = t.hf_name.empty() ? nullptr : ck.find(t.hf_name);
    if (!ti || gguf_type_size(t.type).block <= 1) continue;
    if (plan) t.quant_input = output_dtype_for(ti->dtype, plan->f32_out_dtype);
    if (mi) t.imatrix = mi->find_gguf(t.gguf_name);  // no entry: no importance weights, as llama.cpp
  }
  std::vector<std::string> warnings = L.warnings;
  std::vector<GgufKV> tok = gguf_tokenizer_from_files(*mp.provider, ck.config.raw, warnings, faults);
  for (const auto& w : warnings)
    if (!quiet) fmt::print(stderr, "squint: warning: {}\n", w);
  if (!notes.empty() && !quiet)  // one line, however many tensors
    fmt::print(stderr, "squint: note: {} of {} tensors kept in their float type: row length not a multiple of {}'s block of {} ({}{})\n",
               notes.size(), L.tensors.size(), a.type, gguf_type_size(*uniform).block, notes.front(),
               notes.size() > 1 ? fmt::format(", ... {} more", notes.size() - 1) : std::string());

  const GgufSizes sz = gguf_layout_sizes(L);
  if (plan && sz.planned_bytes != plan->total_bytes && !quiet)
    fmt::print(stderr, "squint: warning: the plan counts {} tensor bytes, the file holds {} (a plan from an older analysis?)\n",
               plan->total_bytes, sz.planned_bytes);

  AtomicFile f(a.out, a.force);
  Progress prog("quantize", !quiet);
  auto pool = make_thread_pool(global_options().threads);
  const uint64_t size = stream_gguf(ck, L, tok, [&](const uint8_t* p, std::size_t n) { f.write(p, n); },
                                    [&](uint64_t d, uint64_t t, const std::string& name) { prog.update(d, t, d, name); }, pool);
  prog.finish();
  if (f.written() != size) fail("internal error: wrote " + std::to_string(f.written()) + " bytes, expected " + std::to_string(size));
  f.commit();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet) {
    std::map<std::string, int> mix;
    for (const auto& t : L.tensors) ++mix[gguf_type_size(t.type).name];
    std::string m;
    for (const auto& [k, v] : mix) m += fmt::format("{}{} {}", m.empty() ? "" : ", ", v, k);
    fmt::print(stderr, "wrote {}: GGUF v3, arch {}, {} tensors ({}), {} ({:.2f} s, {:.3f} GB/s)\n", a.out, L.arch,
               L.tensors.size(), m, show_size(size, a.size_unit), secs, static_cast<double>(size) / secs / 1e9);
    fmt::print(stderr, "  tensor data {} B ({:.4f} bits/weight){}; header+metadata+padding {} B{}\n", sz.planned_bytes,
               sz.params ? 8.0 * static_cast<double>(sz.planned_bytes) / static_cast<double>(sz.params) : 0.0,
               plan ? fmt::format(", plan total {} B", plan->total_bytes) : std::string(), size - sz.planned_bytes - sz.generated_bytes,
               sz.generated_bytes ? fmt::format(", generated tensors {} B", sz.generated_bytes) : std::string());
  }
  return 0;
}

}  // namespace squint
