// squint eval MODEL --text FILE: perplexity with the articles' protocol (mean, median, trimmed, outliers),
// and with --kl-base FLOAT_MODEL the KL divergence from the float model (llama.cpp's statistics).
// The protocol itself lives in core/eval/evaluate.*; this file loads, prints and writes.
#include <fmt/core.h>

#include <chrono>
#include <cmath>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "eval/evaluate.h"
#include "eval_model.h"
#include "file_source.h"
#include "input_kind.h"
#include "output.h"
#include "parallel.h"
#include "progress.h"
#include "util/error.h"

namespace squint {

namespace {

struct EvalCmd {
  std::string model, text, noise_like, tokenizer_dir, kl_base;
  OutputCli out;  // --json / -o (the old `--json FILE` is rewritten to -o by output.h)
  int seq_len = 0, samples = 0;  // seq_len 0: the model's context, at most 2048 (window_length)
  uint64_t seed = 42;
};

// The models that read the windows: MODEL, and the float base with --kl-base.
std::vector<std::string> windowed_models(const EvalCmd& o) {
  if (o.kl_base.empty()) return {o.model};
  return {o.model, o.kl_base};
}

int run_eval(const EvalCmd& o) {
  if (!o.out.file.empty()) check_writable_parent(o.out.file);
  expect_runnable_model(o.model);  // before its tokenizer and config are looked for: say what MODEL is
  const EvalWindows w = load_eval_windows(o.text, o.tokenizer_dir.empty() ? tokenizer_source(o.model) : o.tokenizer_dir,
                                          window_length(o.seq_len, windowed_models(o), "--seq-len"), o.samples, o.seed);
  NoiseSpec ns{o.noise_like, o.seed};
  auto model = load_model(o.model, o.noise_like.empty() ? nullptr : &ns);
  auto pool = make_thread_pool(global_options().threads);
  const bool quiet = global_options().quiet;
  std::unique_ptr<Model> base_model;
  std::unique_ptr<EvalBase> base;
  if (!o.kl_base.empty()) {
    base_model = load_model(o.kl_base);
    Progress bp("eval base", !quiet);
    base = std::make_unique<EvalBase>(*base_model, w, pool, window_progress(bp));
  }
  Progress prog("eval", !quiet);
  auto t0 = std::chrono::steady_clock::now();
  const EvalResult r = evaluate(*model, w, pool, window_progress(prog), base.get());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  prog.finish();
  const PplStats& s = r.ppl;
  const double tps = static_cast<double>(w.chosen.size() * w.seq_len) / secs;
  if (!quiet) {
    std::FILE* f = human_stdout(o.out) ? stdout : stderr;
    fmt::print(f, "{}: {} windows of {} tokens ({} in the text, seed {})\n", o.model, s.windows, w.seq_len, w.count, o.seed);
    fmt::print(f, "median PPL {:.4f}   mean PPL {:.4f}   trimmed(5%) PPL {:.4f}   windows > 100: {}\n", s.median_ppl,
               s.mean_ppl, s.trimmed_ppl, s.over_100);
    if (r.has_kl) {
      const KlStats& k = r.kl;
      fmt::print(f, "KL vs {}: mean {:.6f}  median {:.6f}  P99 {:.6f}  max {:.6f}  top-1 {:.2f} %  ({} tokens)\n", o.kl_base,
                 k.mean, k.median, k.p99, k.max, 100.0 * k.top1, k.tokens);
      fmt::print(f, "base: median PPL {:.4f}  mean PPL {:.4f};  delta median {:+.3f} %  mean {:+.3f} %\n", k.base_median_ppl,
                 k.base_mean_ppl, k.d_median_ppl, k.d_mean_ppl);
    }
  }
  if (!quiet) {
    // Three significant figures down to slow runs of big models (bench/eval/run.sh reads this line).
    fmt::print(stderr, "{:.{}f} tokens/s with {} thread(s)\n", tps, tps < 10 ? 2 : tps < 100 ? 1 : 0,
               global_options().threads > 0 ? global_options().threads : default_threads());
  }
  {
    nlohmann::json j = {{"format", "squint.eval"},
                        {"version", 1},
                        {"model", o.model},
                        {"text", o.text},
                        {"seq_len", w.seq_len},
                        {"samples", o.samples},
                        {"seed", o.seed},
                        {"windows_in_text", w.count},
                        {"mean_ppl", s.mean_ppl},
                        {"median_ppl", s.median_ppl},
                        {"trimmed_ppl", s.trimmed_ppl},
                        {"windows_over_100", s.over_100},
                        {"tokens", s.tokens},
                        {"noise_like", o.noise_like},
                        {"windows", windows_json(r.windows)}};
    if (r.has_kl) {
      j["kl_base"] = o.kl_base;
      j["kl"] = kl_json(r.kl);
    }
    emit_document(o.out, j);
  }
  return 0;
}

const Mode kSeeded{"seeded", "when windows are sampled (--samples K) or noise is drawn (--noise-like)"};

RegisterCommand reg_eval("eval", 70, [](CLI::App& app) {
  auto o = std::make_shared<EvalCmd>();
  app.description("perplexity of a float or MLX-quantized Llama-family model (median, mean, trimmed, outliers), "
                  "and KL divergence from a float model (--kl-base)");
  always(app.add_option("MODEL", o->model, "model folder (float or squint/MLX quantized) or a .gguf file")->required());
  always(app.add_option("--text", o->text, "evaluation text file")->required());
  always(app.add_option("--seq-len", o->seq_len, std::string("window length in tokens (") + kSeqLenDefaultHelp + ")"));
  always(app.add_option("--samples", o->samples, "evaluate K windows drawn with the seed (0 = all)")
             ->capture_default_str());
  only_with(app.add_option("--seed", o->seed, "sampling (and noise) seed")->capture_default_str(), kSeeded);
  always(app.add_option(
      "--kl-base", o->kl_base,
      "float model to measure KL(base || MODEL) against, per token over the same windows (mean, median, P99, "
      "max, top-1 agreement, delta PPL)"));
  add_output_options(app, o->out, "every window's NLL and the statistics");
  only_with(
      app.add_option("--noise-like", o->noise_like,
                     "matched-noise control: add Gaussian noise with each tensor's SQNR from this quantized model or "
                     "plan.json"),
      mode::safetensors);
  always(app.add_option(
      "--tokenizer", o->tokenizer_dir,
      "folder with tokenizer.model or tokenizer.json (default: the model's; a GGUF file's own tokenizer metadata)"));
  set_modes(app, [o] {
    return Modes()
        .set(kSeeded, o->samples > 0 || !o->noise_like.empty(), "every window is evaluated (no --samples)")
        .set(mode::safetensors, !is_gguf_file(o->model), o->model + " is a GGUF file");
  });
  return [o] { return run_eval(*o); };
}, /*legacy_json_file=*/true);

}  // namespace

}  // namespace squint
