// squint convert-gguf MLX_DIR -o OUT.gguf: an MLX-quantized model as a GGUF file, 4/5-bit tensors copied into
// Q4_1/Q5_1 bit-exactly, the rest requantized and reported (core/convert/gguf_transcode.h has the rules).
// The file is written atomically; the report (table on stdout, or --json / --report FILE) says per tensor
// what was copied, what was requantized and the SQNR of what a reader gets back against the MLX values.
#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "convert/gguf_transcode.h"
#include "file_source.h"
#include "input_kind.h"
#include "model_input.h"
#include "output.h"
#include "progress.h"
#include "util/error.h"
#include "util/units.h"

namespace squint {

namespace {

struct ConvertGgufCli {
  std::string model, out;
  OutputCli report;  // --json / --report FILE
  bool force = false;
};

std::string type_name(uint32_t t) { return gguf_type_size(t).name ? gguf_type_size(t).name : "?"; }

nlohmann::json report_json(const ConvertGgufCli& o, const TranscodeReport& r) {
  nlohmann::json ts = nlohmann::json::array();
  uint64_t lossless = 0, lossless_params = 0, params = 0, requant_blocks = 0, copied_blocks = 0;
  for (const auto& t : r.tensors) {
    ts.push_back({{"name", t.name}, {"gguf_name", t.gguf_name}, {"source", t.source}, {"type", type_name(t.type)},
                  {"copied", t.copied}, {"lossless", t.lossless}, {"params", t.params}, {"blocks", t.blocks},
                  {"requantized_blocks", t.requantized_blocks},
                  {"sqnr_db", std::isfinite(t.sqnr_db) ? nlohmann::json(t.sqnr_db) : nlohmann::json(nullptr)}});
    params += t.params;
    if (t.copied) {
      requant_blocks += t.requantized_blocks;
      copied_blocks += t.blocks - t.requantized_blocks;
    }
    if (t.lossless) {
      ++lossless;
      lossless_params += t.params;
    }
  }
  return {{"format", "squint.convert-gguf"}, {"version", 1}, {"model", o.model}, {"output", o.out},
          {"file_bytes", r.file_bytes}, {"tensor_bytes", r.tensor_bytes}, {"tensors_total", r.tensors.size()},
          {"tensors_lossless", lossless}, {"params", params}, {"params_lossless", lossless_params},
          {"copied_blocks", copied_blocks}, {"unrepresentable_blocks", requant_blocks}, {"tensors", ts}};
}

int run_convert_gguf(const ConvertGgufCli& o) {
  const bool quiet = global_options().quiet;
  if (path_exists(o.out) && !o.force) fail(o.out + ": already exists (pass --force to replace it)");
  if (!o.report.file.empty()) check_writable_parent(o.report.file);
  const auto t0 = std::chrono::steady_clock::now();
  expect_mlx_folder(o.model);
  ModelPath mp = resolve_model_path(o.model);
  if (mp.single_file) fail(o.model + ": give the MLX model's folder (its config.json holds the bit widths)");
  MlxModel m = open_mlx_model(*mp.provider);
  Checkpoint logical;
  GgufModelLayout L = gguf_transcode_layout(m, logical);
  std::vector<std::string> warnings = L.warnings;
  nlohmann::json cfg = m.ck.config.raw;
  if (cfg.is_object()) {  // the tokenizer writer reads vocab/bos/eos; MLX's quantization blocks are not for it
    cfg.erase("quantization");
    cfg.erase("quantization_config");
  }
  std::vector<GgufKV> tok = gguf_tokenizer_from_files(*mp.provider, cfg, warnings);
  for (const auto& w : warnings)
    if (!quiet) fmt::print(stderr, "squint: warning: {}\n", w);
  AtomicFile f(o.out, o.force);
  Progress prog("convert-gguf", !quiet);
  const TranscodeReport r = stream_gguf_transcode(m, L, tok, [&](const uint8_t* p, std::size_t n) { f.write(p, n); },
                                                  [&](uint64_t d, uint64_t t, const std::string& name) { prog.update(d, t, d, name); });
  prog.finish();
  if (f.written() != r.file_bytes) fail("internal error: wrote " + std::to_string(f.written()) + " bytes, expected " + std::to_string(r.file_bytes));
  f.commit();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const nlohmann::json doc = report_json(o, r);
  emit_document(o.report, doc);
  if (!quiet && human_stdout(o.report)) {
    fmt::print("{:<48} {:>7} {:>6} {:>9} {:>12}  {}\n", "tensor", "source", "type", "SQNR dB", "requantized", "");  // SQNR vs the MLX values
    for (const auto& t : r.tensors) {
      if (t.source.find('/') == std::string::npos) continue;  // float tensors are kept as they are
      fmt::print("{:<48} {:>7} {:>6} {:>9} {:>12}  {}\n", t.gguf_name, t.source, type_name(t.type),
                 std::isfinite(t.sqnr_db) ? fmt::format("{:.2f}", t.sqnr_db) : "exact",
                 t.blocks ? fmt::format("{}/{}", t.requantized_blocks, t.blocks) : "-", t.lossless ? "lossless" : "requantized");
    }
    fmt::print("{} of {} tensors lossless ({} of {} params); 4/5-bit blocks: {} copied, {} requantized (scale or bias not an F16 value)\n",
               doc["tensors_lossless"].get<uint64_t>(), r.tensors.size(), doc["params_lossless"].get<uint64_t>(),
               doc["params"].get<uint64_t>(), doc["copied_blocks"].get<uint64_t>(), doc["unrepresentable_blocks"].get<uint64_t>());
  }
  if (!quiet)
    fmt::print(stderr, "wrote {}: GGUF v3, arch {}, {} tensors, {} ({:.2f} s, {:.3f} GB/s)\n", o.out, L.arch, L.tensors.size(),
               human_size(r.file_bytes), secs, static_cast<double>(r.file_bytes) / secs / 1e9);
  return 0;
}

RegisterCommand reg_convert_gguf("convert-gguf", 52, [](CLI::App& app) {
  auto o = std::make_shared<ConvertGgufCli>();
  app.description("transcode an MLX-quantized model to one GGUF file: 4/5-bit affine tensors become Q4_1/Q5_1 bit-exactly, "
                  "other widths are requantized (reported per tensor)");
  always(app.add_option("MLX_DIR", o->model, "MLX (mlx-lm) model folder, quantized or not")->required());
  always(app.add_option("-o,--output", o->out, "output .gguf file (must not exist unless --force)")->required());
  always(app.add_flag("--json", o->report.json, "print the conversion report as JSON on stdout instead of the table"));
  always(app.add_option("--report", o->report.file, "also write the conversion report (JSON) to FILE"));
  always(app.add_flag("-f,--force", o->force, "replace OUT if it exists"));
  return [o] { return run_convert_gguf(*o); };
});

}  // namespace

}  // namespace squint
