#include "gguf_quantize.h"

#include <fmt/core.h>

#include <chrono>
#include <map>

#include "atomic_output.h"
#include "command.h"
#include "convert/gguf_llama.h"
#include "file_source.h"
#include "progress.h"
#include "util/error.h"
#include "util/units.h"

namespace squint {

namespace {
uint32_t keep_type(DType d) { return d == DType::F32 ? ggml_id::F32 : d == DType::BF16 ? ggml_id::BF16 : ggml_id::F16; }
}  // namespace

int run_quantize_gguf(const GgufQuantizeArgs& a) {
  const bool quiet = global_options().quiet;
  const bool with_budget = !a.budget.budget.empty() || a.budget.bpw > 0 || a.budget.min_safe;
  const int sources = (with_budget ? 1 : 0) + (a.plan.empty() ? 0 : 1) + (a.type.empty() ? 0 : 1);
  if (sources > 1) fail("quantize --format gguf: give one of --type, --plan or a budget (--budget, --bpw, --min-safe)");
  if (with_budget) fail("quantize --format gguf: budget planning in GGUF types needs `squint analyze --format gguf` (not in this build); use --type");
  if (!a.plan.empty()) fail("quantize --format gguf: plans in GGUF types are not supported by this build yet; use --type");
  std::optional<uint32_t> uniform;
  if (!a.type.empty()) {
    uniform = ggml_type_from_name(a.type);
    if (!uniform) fail("--type: unknown GGUF type '" + a.type + "' (e.g. F32, F16, BF16, Q8_0, Q4_K)");
    if (!gguf_type_encodable(*uniform)) fail("--type " + a.type + ": squint cannot write this type yet");
  }
  if (path_exists(a.out) && !a.force) fail(a.out + ": already exists (pass --force to replace it)");
  auto t0 = std::chrono::steady_clock::now();
  ModelPath mp = resolve_model_path(a.model);
  Checkpoint ck = open_checkpoint(*mp.provider, mp.single_file);
  std::vector<std::string> notes;
  std::map<std::string, int> fallbacks;
  auto type_for = [&](const TensorInfo& t) -> uint32_t {
    if (!uniform) return keep_type(t.dtype);
    const GgufTypeSize s = gguf_type_size(*uniform);
    if (t.cols() % s.block == 0) return *uniform;
    ++fallbacks[s.name];  // a row length the type cannot hold: kept in F16 (no padding, no silent change)
    notes.push_back(fmt::format("{}: rows of {} are not a multiple of {}'s block of {}; kept in F16", t.name, t.cols(), s.name, s.block));
    return ggml_id::F16;
  };
  GgufModelLayout L = gguf_llama_layout(ck, type_for, !a.no_qk_permute);
  std::vector<std::string> warnings = L.warnings;
  std::vector<GgufKV> tok = gguf_tokenizer_from_files(*mp.provider, ck.config.raw, warnings);
  for (const auto& w : warnings)
    if (!quiet) fmt::print(stderr, "squint: warning: {}\n", w);
  for (const auto& n : notes)
    if (!quiet) fmt::print(stderr, "squint: note: {}\n", n);

  AtomicFile f(a.out, a.force);
  Progress prog("quantize", !quiet);
  const uint64_t size = stream_gguf(ck, L, tok, [&](const uint8_t* p, std::size_t n) { f.write(p, n); },
                                    [&](uint64_t d, uint64_t t, const std::string& name) { prog.update(d, t, d, name); });
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
               L.tensors.size(), m, human_size(size), secs, static_cast<double>(size) / secs / 1e9);
  }
  return 0;
}

}  // namespace squint
