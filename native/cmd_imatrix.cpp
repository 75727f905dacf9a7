// squint imatrix MODEL --text T -o imatrix.gguf: llama.cpp's importance matrix (per linear weight, Σ x_j² of its
// input and the tokens seen) from squint's forward pass over windows of T, written as llama-imatrix writes it
// (GGUF, or the legacy .dat by extension or --output-format dat). The file feeds `llama-quantize --imatrix` and
// squint's own `--imatrix` (analyze, plan, quantize). Not data-free: it reads text.
#include <fmt/core.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "eval/calibrate.h"
#include "eval/imatrix_collect.h"
#include "eval_model.h"
#include "file_source.h"
#include "input_kind.h"
#include "model_input.h"
#include "output.h"
#include "parallel.h"
#include "progress.h"
#include "util/error.h"
#include "util/units.h"

namespace squint {

namespace {

// llama-imatrix's default chunk (its -c): the default window here too, capped at the model's context.
constexpr int kImatrixChunk = 512;

struct ImatrixCmd {
  std::string model, text, out, output_format, tokenizer_dir;
  OutputCli report;  // --json / --report FILE
  int seq_len = 0, samples = 0;  // seq_len 0: the model's context, at most llama-imatrix's chunk of 512
  uint64_t seed = 42;
  bool process_output = false, force = false;
};

bool ends_with(const std::string& s, const std::string& t) {
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

nlohmann::json report_json(const ImatrixCmd& o, const std::string& format, const Imatrix& m, const EvalWindows& w,
                           uint64_t tokens, const std::string& hash) {
  nlohmann::json es = nlohmann::json::array();
  for (const auto& [name, e] : m.entries) {
    const std::vector<float> q = imatrix_quant_weights(e, false);
    double sum = 0, mx = 0;
    for (float v : q) {
      sum += v;
      mx = std::max<double>(mx, v);
    }
    es.push_back({{"name", name},
                  {"n_per_row", e.n_per_row()},
                  {"n_mat", e.n_mat()},
                  {"counts", e.counts},
                  {"mean", q.empty() ? 0.0 : sum / static_cast<double>(q.size())},
                  {"max", mx}});
  }
  return {{"format", "squint.imatrix"},
          {"version", 1},
          {"model", o.model},
          {"text", o.text},
          {"output", o.out},
          {"output_format", format},
          {"file_hash", hash},
          {"seq_len", w.seq_len},
          {"samples", o.samples},
          {"seed", o.seed},
          {"windows", w.chosen.size()},
          {"windows_in_text", w.count},
          {"tokens", tokens},
          {"chunk_count", m.chunk_count},
          {"chunk_size", m.chunk_size},
          {"datasets", m.datasets},
          {"process_output", o.process_output},
          {"entries", es}};
}

int run_imatrix(const ImatrixCmd& o) {
  const bool quiet = global_options().quiet;
  const std::string format = !o.output_format.empty() ? o.output_format : ends_with(o.out, ".dat") ? "dat" : "gguf";
  if (path_exists(o.out) && !o.force) fail(o.out + ": already exists (pass --force to replace it)");
  if (!o.report.file.empty()) check_writable_parent(o.report.file);
  check_writable_parent(o.out);
  expect_float_model(o.model);  // squint names the imatrix by the float model's tensors
  const auto t0 = std::chrono::steady_clock::now();
  const Checkpoint ck = open_model(o.model);
  const EvalWindows w =
      load_eval_windows(o.text, o.tokenizer_dir.empty() ? model_dir(o.model) : o.tokenizer_dir,
                        window_length(o.seq_len, o.model, "--seq-len", kImatrixChunk), o.samples, o.seed);
  auto model = load_model(o.model);
  Progress prog("imatrix", !quiet);
  const auto t1 = std::chrono::steady_clock::now();
  const InputMoments sum =
      collect_input_moments(*model, w, make_thread_pool(global_options().threads), window_progress(prog));
  prog.finish();
  const double fwd = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  ImatrixCollectOptions co;
  co.process_output = o.process_output;
  co.datasets = {o.text};
  co.chunk_size = static_cast<int32_t>(w.seq_len);
  const Imatrix m = imatrix_from_moments(sum, ck, co);
  const std::vector<uint8_t> bytes = format == "dat" ? write_imatrix_dat(m) : write_imatrix_gguf(m);
  AtomicFile f(o.out, o.force);
  f.write(bytes.data(), bytes.size());
  f.commit();
  const std::string hash = content_hash(MemorySource(o.out, bytes));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const nlohmann::json doc = report_json(o, format, m, w, sum.tokens, hash);
  emit_document(o.report, doc);
  if (!quiet && human_stdout(o.report)) {
    fmt::print("{:<40} {:>8} {:>6} {:>10} {:>12} {:>12}\n", "weight", "columns", "mats", "tokens", "mean E[x²]",
               "max E[x²]");
    for (const auto& e : doc["entries"])
      fmt::print("{:<40} {:>8} {:>6} {:>10} {:>12.5g} {:>12.5g}\n", e["name"].get<std::string>(),
                 e["n_per_row"].get<uint64_t>(), e["n_mat"].get<uint64_t>(), e["counts"][0].get<int64_t>(),
                 e["mean"].get<double>(), e["max"].get<double>());
    fmt::print("{} entries from {} windows of {} tokens of {} ({} chunks of {})\n", m.entries.size(), w.chosen.size(),
               w.seq_len, o.text, m.chunk_count, m.chunk_size);
  }
  note_wrote(o.out,
             fmt::format(" ({} imatrix, {} entries, {}; {} tokens, forward pass {:.0f} tokens/s, {:.1f} s in all)",
                         format == "dat" ? "legacy .dat" : "GGUF", m.entries.size(), human_size(bytes.size()),
                         sum.tokens, static_cast<double>(sum.tokens) / std::max(fwd, 1e-9), secs));
  return 0;
}


RegisterCommand reg_imatrix("imatrix", 36, [](CLI::App& app) {
  auto o = std::make_shared<ImatrixCmd>();
  app.description(
      "collect llama.cpp's importance matrix (imatrix.gguf or .dat) from a forward pass on text (not data-free)");
  always(app.add_option("MODEL", o->model, "float model folder or .safetensors file")->required());
  always(app.add_option("--text", o->text, "calibration text file (train text, not what you evaluate on)")->required());
  always(app.add_option("-o,--output", o->out, "imatrix file to write: .gguf (llama.cpp's format) or .dat (legacy)")
             ->required());
  always(app.add_option("--output-format", o->output_format, "gguf or dat (default: dat for a .dat name, else gguf)")
             ->check(CLI::IsMember({"gguf", "dat"})));
  always(app.add_option("--seq-len", o->seq_len,
                        "window (chunk) length in tokens (default: the model's context length, at most 512)")
             ->check(CLI::Range(2, 1 << 20)));
  always(app.add_option("--samples", o->samples, "use K windows drawn with the seed (0 = all)")->capture_default_str());
  only_with(app.add_option("--seed", o->seed, "sampling seed")->capture_default_str(), mode::sampled);
  always(app.add_flag("--process-output", o->process_output,
                      "also collect output.weight (llama-imatrix --process-output)"));
  always(app.add_option("--tokenizer", o->tokenizer_dir,
                        "folder with tokenizer.model or tokenizer.json (default: the model's)"));
  always(app.add_flag("--json", o->report.json, "print the summary as JSON on stdout instead of the table"));
  always(app.add_option("--report", o->report.file, "also write the summary (JSON) to FILE"));
  always(app.add_flag("-f,--force", o->force, "replace the output file if it exists"));
  set_modes(app, [o] { return Modes().set(mode::sampled, o->samples > 0, "every window is used (no --samples)"); });
  return [o] { return run_imatrix(*o); };
});

}  // namespace

}  // namespace squint
