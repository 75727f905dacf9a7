// squint eval MODEL --text FILE: perplexity with the articles' protocol (mean, median, trimmed, outliers),
// and with --kl-base FLOAT_MODEL the KL divergence from the float model (llama.cpp's statistics).
// The protocol itself lives in core/eval/evaluate.*; this file loads, prints and writes.
#include <fmt/core.h>

#include <chrono>
#include <cmath>

#include "atomic_output.h"
#include "command.h"
#include "eval/evaluate.h"
#include "eval_model.h"
#include "file_source.h"
#include "parallel.h"
#include "progress.h"
#include "util/error.h"

namespace squint {

namespace {

struct EvalCmd {
  std::string model, text, json_opt, out_file, noise_like, tokenizer_dir, kl_base;
  bool json_given = false;
  int seq_len = 2048, samples = 0;
  uint64_t seed = 42;
};

int run_eval(const EvalCmd& o) {
  // --json alone = JSON on stdout (the output contract); --json FILE = the old form (still written).
  std::string json_file = o.out_file;
  const bool json_stdout = o.json_given && (o.json_opt.empty() || o.json_opt == "-");
  if (o.json_given && !json_stdout) {
    if (!json_file.empty()) fail("give the output once: --json FILE is the old form of --json -o FILE");
    json_file = o.json_opt;
    if (!global_options().quiet) fmt::print(stderr, "note: 'eval --json FILE' is deprecated; use '--json -o FILE'\n");
  }
  if (!json_file.empty()) check_writable_parent(json_file);
  const EvalWindows w = load_eval_windows(o.text, o.tokenizer_dir.empty() ? model_dir(o.model) : o.tokenizer_dir,
                                          o.seq_len, o.samples, o.seed);
  NoiseSpec ns{o.noise_like, o.seed};
  auto model = load_llama(o.model, o.noise_like.empty() ? nullptr : &ns);
  auto pool = make_thread_pool(global_options().threads);
  const bool quiet = global_options().quiet;
  std::unique_ptr<LlamaModel> base_model;
  std::unique_ptr<EvalBase> base;
  if (!o.kl_base.empty()) {
    base_model = load_llama(o.kl_base);
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
    std::FILE* f = json_stdout ? stderr : stdout;
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
    fmt::print(stderr, "{:.0f} tokens/s with {} thread(s)\n", tps,
               global_options().threads > 0 ? global_options().threads : default_threads());
  }
  if (json_stdout || !json_file.empty()) {
    nlohmann::json j = {{"format", "squint.eval"},  {"version", 1},
                        {"model", o.model},         {"text", o.text},           {"seq_len", o.seq_len},
                        {"samples", o.samples},     {"seed", o.seed},           {"windows_in_text", w.count},
                        {"mean_ppl", s.mean_ppl},   {"median_ppl", s.median_ppl}, {"trimmed_ppl", s.trimmed_ppl},
                        {"windows_over_100", s.over_100}, {"tokens", s.tokens},
                        {"noise_like", o.noise_like}, {"windows", windows_json(r.windows)}};
    if (r.has_kl) {
      j["kl_base"] = o.kl_base;
      j["kl"] = kl_json(r.kl);
    }
    if (json_stdout && json_file.empty()) fmt::print("{}\n", j.dump(1));
    else {
      write_file_atomic(json_file, j.dump(1) + "\n");
      if (!quiet) fmt::print(stderr, "wrote {}\n", json_file);
    }
  }
  return 0;
}

RegisterCommand reg("eval", 70, [](CLI::App& app) {
  auto o = std::make_shared<EvalCmd>();
  app.description("perplexity of a float or MLX-quantized Llama-family model (median, mean, trimmed, outliers), "
                  "and KL divergence from a float model (--kl-base)");
  app.add_option("MODEL", o->model, "model folder (float or squint/MLX quantized)")->required();
  app.add_option("--text", o->text, "evaluation text file")->required();
  app.add_option("--seq-len", o->seq_len, "window length in tokens")->capture_default_str();
  app.add_option("--samples", o->samples, "evaluate K windows drawn with the seed (0 = all)")->capture_default_str();
  app.add_option("--seed", o->seed, "sampling (and noise) seed")->capture_default_str();
  app.add_option("--kl-base", o->kl_base,
                 "float model to measure KL(base || MODEL) against, per token over the same windows (mean, median, P99, "
                 "max, top-1 agreement, delta PPL)");
  auto* json = app.add_option("--json", o->json_opt, "print every window's NLL and the statistics as JSON on stdout "
                                        "(--json FILE, the old form, writes FILE)")
      ->expected(0, 1);
  app.add_option("-o,--output", o->out_file, "write the JSON document to this file");
  app.add_option("--noise-like", o->noise_like,
                 "matched-noise control: add Gaussian noise with each tensor's SQNR from this quantized model or plan.json");
  app.add_option("--tokenizer", o->tokenizer_dir, "folder with tokenizer.model (default: the model's)");
  return [o, json] {
    o->json_given = json->count() > 0;
    return run_eval(*o);
  };
});

}  // namespace

}  // namespace squint
