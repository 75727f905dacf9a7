// squint eval MODEL --text FILE: perplexity with the articles' protocol (mean, median, trimmed, outliers).
#include <fmt/core.h>

#include <chrono>
#include <cmath>

#include "atomic_output.h"
#include "command.h"
#include "eval/perplexity.h"
#include "eval_model.h"
#include "file_source.h"
#include "parallel.h"
#include "progress.h"
#include "tokenizer_sp.h"
#include "util/error.h"

namespace squint {

namespace {

struct EvalCmd {
  std::string model, text, json_out, noise_like, tokenizer_dir;
  int seq_len = 2048, samples = 0;
  uint64_t seed = 42;
};

int run_eval(const EvalCmd& o) {
  if (!o.json_out.empty()) check_writable_parent(o.json_out);
  auto tok = load_model_tokenizer(o.tokenizer_dir.empty() ? model_dir(o.model) : o.tokenizer_dir);
  NoiseSpec ns{o.noise_like, o.seed};
  auto model = load_llama(o.model, o.noise_like.empty() ? nullptr : &ns);
  const std::string text = prepare_eval_text(read_text_file(o.text));
  std::vector<int> ids = tok->encode(text);
  if (tok->add_bos) ids.insert(ids.begin(), tok->bos_id());
  if (o.seq_len < 2) fail("--seq-len must be at least 2");
  const std::size_t L = static_cast<std::size_t>(o.seq_len), count = ids.size() / L;
  if (count == 0) fail(o.text + ": " + std::to_string(ids.size()) + " tokens, fewer than one window of " + std::to_string(L));
  auto chosen = sample_windows(count, o.samples, o.seed);
  std::vector<WindowResult> res(chosen.size());
  auto pool = make_thread_pool(global_options().threads);
  Progress prog("eval", !global_options().quiet);
  std::atomic<std::size_t> done{0};
  auto t0 = std::chrono::steady_clock::now();
  pool(chosen.size(), [&](std::size_t k) {
    const std::size_t w = chosen[k];
    std::vector<int> win(ids.begin() + static_cast<std::ptrdiff_t>(w * L), ids.begin() + static_cast<std::ptrdiff_t>((w + 1) * L));
    std::size_t n = 0;
    const double total = model->nll(win, &n);
    res[k] = {w, total / static_cast<double>(n), n};
    ++done;
  });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  prog.finish();
  const PplStats s = ppl_stats(res);
  const double tps = static_cast<double>(chosen.size() * L) / secs;
  if (!global_options().quiet) {
    fmt::print("{}: {} windows of {} tokens ({} in the text, seed {})\n", o.model, s.windows, L, count, o.seed);
    fmt::print("median PPL {:.4f}   mean PPL {:.4f}   trimmed(5%) PPL {:.4f}   windows > 100: {}\n", s.median_ppl,
               s.mean_ppl, s.trimmed_ppl, s.over_100);
    fmt::print("{:.0f} tokens/s with {} thread(s)\n", tps, global_options().threads > 0 ? global_options().threads : default_threads());
  }
  if (!o.json_out.empty()) {
    nlohmann::json j = {{"model", o.model},         {"text", o.text},           {"seq_len", o.seq_len},
                        {"samples", o.samples},     {"seed", o.seed},           {"windows_in_text", count},
                        {"mean_ppl", s.mean_ppl},   {"median_ppl", s.median_ppl}, {"trimmed_ppl", s.trimmed_ppl},
                        {"windows_over_100", s.over_100}, {"tokens", s.tokens}, {"tokens_per_second", tps},
                        {"noise_like", o.noise_like}, {"windows", windows_json(res)}};
    write_file_atomic(o.json_out, j.dump(1) + "\n");
  }
  return 0;
}

RegisterCommand reg("eval", 70, [](CLI::App& app) {
  auto o = std::make_shared<EvalCmd>();
  app.description("perplexity of a float or MLX-quantized Llama-family model (median, mean, trimmed, outliers)");
  app.add_option("MODEL", o->model, "model folder (float or squint/MLX quantized)")->required();
  app.add_option("--text", o->text, "evaluation text file")->required();
  app.add_option("--seq-len", o->seq_len, "window length in tokens")->capture_default_str();
  app.add_option("--samples", o->samples, "evaluate K windows drawn with the seed (0 = all)")->capture_default_str();
  app.add_option("--seed", o->seed, "sampling (and noise) seed")->capture_default_str();
  app.add_option("--json", o->json_out, "write every window's NLL and the statistics as JSON");
  app.add_option("--noise-like", o->noise_like,
                 "matched-noise control: add Gaussian noise with each tensor's SQNR from this quantized model or plan.json");
  app.add_option("--tokenizer", o->tokenizer_dir, "folder with tokenizer.model (default: the model's)");
  return [o] { return run_eval(*o); };
});

}  // namespace

}  // namespace squint
