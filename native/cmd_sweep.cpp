// squint sweep MODEL --text T: the quality lab. At every uniform config's exact size (and --budget sizes),
// the uniform model and squint's plan under each objective/prior setting, quantized in memory and scored by
// KL against the float model on the same windows, with the matched-noise control's spread. Logic in
// core/eval/sweep.*; this file parses, prints and writes.
#include <fmt/core.h>

#include <chrono>
#include <map>
#include <sstream>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "eval/sweep.h"
#include "eval_model.h"
#include "file_source.h"
#include "input_kind.h"
#include "model_input.h"
#include "output.h"
#include "parallel.h"
#include "plan/priors.h"
#include "plan/problem.h"
#include "progress.h"
#include "sweep_plot.h"
#include "util/error.h"
#include "util/units.h"

namespace squint {

namespace {

struct SweepCmd {
  std::string model, text, tokenizer_dir, csv_file, plot_file;
  std::vector<std::string> objectives{"params-mse", "nrmse"}, priors{"flat", "roles"}, budgets;
  int seq_len = 0, samples = 64, noise_seeds = 3;  // seq_len 0: the model's context, at most 2048
  uint64_t seed = 42;
  double floor = 9, min_bpw = 2.5, max_bpw = 8.5;
  OutputCli out;  // --json / -o: the sweep document (native/output.h)
  AnalyzeCli analyze;
};

// `units`: the unit each --budget size was written in (show_size: the user's unit).
void print_table(const SweepResult& r, std::FILE* f, const std::map<uint64_t, std::string>& units) {
  fmt::print(f, "float model: median PPL {:.4f}, mean PPL {:.4f} ({} windows, {} tokens)\n", r.base.median_ppl,
             r.base.mean_ppl, r.windows, r.tokens);
  fmt::print(f, "{:<12} {:<26} {:>10} {:>7} {:>11} {:>10} {:>7} {:>10} {:>8}  {}\n", "size", "model", "bytes", "bpw",
             "KL mean", "KL P99", "top-1", "med PPL", "dPPL%", "note");
  std::string last;
  for (const auto& x : r.rows) {
    if (x.kind == "noise") continue;
    if (x.size + std::to_string(x.target_bytes) != last && !last.empty()) fmt::print(f, "\n");
    last = x.size + std::to_string(x.target_bytes);
    const std::string what = x.kind == "uniform" ? "uniform" : "squint " + x.setting;
    const auto u = units.find(x.target_bytes);
    const std::string size =
        x.size == "budget" ? show_size(x.target_bytes, u == units.end() ? "" : u->second) : x.size.substr(8);
    if (!x.bytes) {
      fmt::print(f, "{:<12} {:<26} {:>10} {:>7} {:>11} {:>10} {:>7} {:>10} {:>8}  {}\n", size, what, "-", "-", "-", "-", "-",
                 "-", "-", x.note);
      continue;
    }
    fmt::print(f, "{:<12} {:<26} {:>10} {:>7.3f} {:>11.6f} {:>10.5f} {:>6.2f}% {:>10.4f} {:>+8.2f}  {}\n", size, what, x.bytes,
               x.bpw, x.kl.mean, x.kl.p99, 100 * x.kl.top1, x.ppl.median_ppl, x.kl.d_median_ppl, x.note);
  }
  bool any = false;
  for (const auto& x : r.rows)
    if (x.kind == "noise") {
      if (!any) fmt::print(f, "\nmatched-noise control (Gaussian noise with each tensor's SQNR at {}):\n", x.size);
      any = true;
      fmt::print(f, "  seed {}: KL mean {:.6f}  median PPL {:.4f} ({:+.2f} %)\n", x.seed, x.kl.mean, x.ppl.median_ppl,
                 x.kl.d_median_ppl);
    }
  if (any)
    fmt::print(f, "  spread over seeds: KL mean {:.6f}, median PPL {:.2f} points of %: differences smaller than this are noise\n",
               r.noise_kl_spread, r.noise_ppl_spread);
}

// The floor-gap lines on `f` (none when f is null: --json), the warning on stderr either way.
void print_gap(const FloorGap& g, double floor, std::FILE* f) {
  if (!g.has_2bit || !g.has_3bit) return;
  if (f && g.separated)
    fmt::print(f, "SQNR floor: the natural gap exists: every 2-bit config <= {:.2f} dB < every 3-bit config >= {:.2f} dB "
                  "(largest empty interval {:.2f}..{:.2f} dB)\n",
               g.max_2bit_db, g.min_3bit_db, g.gap_lo, g.gap_hi);
  else if (f)
    fmt::print(f, "SQNR floor: no natural gap: 2-bit configs reach {:.2f} dB, 3-bit configs go down to {:.2f} dB "
                  "(largest empty interval between them {:.2f}..{:.2f} dB)\n",
               g.max_2bit_db, g.min_3bit_db, g.gap_lo, g.gap_hi);
  if (!g.separated || floor <= g.max_2bit_db)
    note(fmt::format("squint: warning: the {:g} dB floor does not separate 2-bit from 3-bit configs on this model "
                     "({} 2-bit configs clear it){}; compare plans by measured KL",
                     floor, g.above_floor_2bit,
                     g.separated ? fmt::format("; a floor inside the gap would, e.g. --floor {:.1f}", 0.5 * (g.gap_lo + g.gap_hi))
                                 : ""));
}

int run_sweep_cmd(const SweepCmd& o) {
  for (const auto& f : {o.out.file, o.csv_file, o.plot_file})
    if (!f.empty()) check_writable_parent(f);
  const bool quiet = global_options().quiet;
  SweepOptions opt;
  opt.settings.clear();
  for (const auto& ob : o.objectives) {
    check_objective(ob, "--objectives");
    for (std::string pr : o.priors) {
      if (pr == "default") {  // the old name, from when role priors were the planner's default
        note("squint: note: `--priors default` is deprecated, use `--priors roles`");
        pr = "roles";
      }
      check_prior_set(pr, "--priors");
      opt.settings.push_back({ob, pr});
    }
  }
  std::map<uint64_t, std::string> budget_units;
  for (const auto& b : o.budgets) {
    auto v = parse_size(b);
    if (!v) fail("--budget: cannot read '" + b + "' as a size (e.g. 220KB, 1.5GB, 123456)");
    opt.budgets.push_back(*v);
    budget_units[*v] = size_unit_of(b);
  }
  opt.floor_db = o.floor;
  opt.min_bpw = o.min_bpw;
  opt.max_bpw = o.max_bpw;
  opt.noise_seeds = o.noise_seeds;
  auto pool = make_thread_pool(global_options().threads);
  opt.parallel = pool;

  expect_float_model(o.model);
  Checkpoint ck = open_model(o.model);
  const ModelHparams cfg = load_model_hparams(o.model);
  const EvalWindows w = load_eval_windows(o.text, o.tokenizer_dir.empty() ? model_dir(o.model) : o.tokenizer_dir,
                                          window_length(o.seq_len, o.model, "--seq-len"), o.samples, o.seed);
  const auto t0 = std::chrono::steady_clock::now();
  // The weighted objectives need their column weights in the analysis: norm ones are data-free, so the lab
  // measures them when asked; calibrated ones need --calibrate TEXT (say which text: never the eval text).
  AnalyzeCli ac = o.analyze;
  const bool wants_norm = std::find(o.objectives.begin(), o.objectives.end(), "norm") != o.objectives.end();
  const bool wants_cal = std::find(o.objectives.begin(), o.objectives.end(), "calibrated") != o.objectives.end();
  if (wants_norm && wants_cal) fail("--objectives: norm and calibrated need different analyses; run two sweeps");
  if (wants_norm) ac.norm_weights = true;
  if (wants_cal && ac.calibrate.empty()) fail("--objectives calibrated needs --calibrate TEXT (a text other than --text)");
  if (!ac.calibrate.empty() && ac.calibrate == o.text)
    note("warning: calibrating on the evaluation text measures fit, not generalisation");
  Analysis a = run_analysis(ck, ac);
  Progress bp("float model", !quiet);
  opt.base_progress = window_progress(bp);
  Progress prog("sweep", !quiet);
  opt.progress = [&](std::size_t d, std::size_t t, const std::string& what) {
    bp.finish();
    prog.update(d, t, 0, what);
  };
  SweepResult r = run_sweep(ck, a, cfg, w, opt);
  prog.finish();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (human_stdout(o.out)) print_table(r, stdout, budget_units);
  print_gap(r.gap, o.floor, human_stdout(o.out) ? stdout : nullptr);  // the warning goes to stderr either way
  std::size_t models = 0;
  for (const auto& x : r.rows) models += x.evaluated;
  if (!quiet)
    fmt::print(stderr, "sweep: {} models evaluated in {:.1f} s ({:.1f} s per million parameters)\n", models + 1, secs,
               secs / (static_cast<double>(a.total_params) / 1e6));
  nlohmann::json j = sweep_json(r);
  j["model"] = o.model;
  j["text"] = o.text;
  j["seq_len"] = w.seq_len;
  j["samples"] = o.samples;
  j["seed"] = o.seed;
  j["floor_db"] = o.floor;
  j["params"] = a.total_params;
  if (!a.column_weighting.empty())
    j["column_weighting"] = {{"kind", a.column_weighting}, {"source", a.column_weighting_source}};
  emit_document(o.out, j);
  if (!o.csv_file.empty()) {
    write_file_atomic(o.csv_file, sweep_csv(r));
    note_wrote(o.csv_file);
  }
  if (!o.plot_file.empty()) {
    std::string title = o.model;
    auto p = title.find_last_of('/');
    if (p != std::string::npos && p + 1 < title.size()) title = title.substr(p + 1);
    write_file_atomic(o.plot_file, sweep_svg(r, title + ": mean KL vs size"));
    note_wrote(o.plot_file);
  }
  return 0;
}


RegisterCommand reg_sweep("sweep", 75, [](CLI::App& app) {
  auto o = std::make_shared<SweepCmd>();
  app.description("quality lab: uniform vs squint plans (per objective/priors) at every uniform size, quantized in "
                  "memory, KL and PPL against the float model, with the matched-noise spread");
  always(app.add_option("MODEL", o->model, "float model folder (Llama family, with config.json and a tokenizer)")
             ->required());
  always(app.add_option("--text", o->text, "evaluation text file")->required());
  always(app.add_option("--objectives", o->objectives, "planner objectives to compare (comma-separated)")
             ->delimiter(',')
             ->capture_default_str());
  always(
      app.add_option(
             "--priors", o->priors,
             "prior sets: flat (all 1, the planner's default) and/or roles (published); 'default' = roles (deprecated)")
          ->delimiter(',')
          ->capture_default_str());
  always(app.add_option("--budget", o->budgets, "extra sizes to compare at (e.g. 220KB), besides the uniform sizes")
             ->delimiter(','));
  always(app.add_option("--min-bpw", o->min_bpw, "smallest uniform size, bits per weight")->capture_default_str());
  always(app.add_option("--max-bpw", o->max_bpw, "largest uniform size, bits per weight")->capture_default_str());
  always(app.add_option("--floor", o->floor, "SQNR floor (dB) for squint's plans")->capture_default_str());
  always(app.add_option("--seq-len", o->seq_len, std::string("window length in tokens (") + kSeqLenDefaultHelp + ")"));
  always(app.add_option("--samples", o->samples, "windows drawn with the seed (0 = all): more = less noise, more time")
             ->capture_default_str());
  only_with(app.add_option("--seed", o->seed, "window sampling seed")->capture_default_str(), mode::sampled);
  always(app.add_option("--noise-seeds", o->noise_seeds, "matched-noise control: seeds at uniform 4/64 (0 = none)")
             ->capture_default_str());
  add_output_options(app, o->out, "the sweep");
  always(app.add_option("--csv", o->csv_file, "write the rows as CSV"));
  always(app.add_option("--plot", o->plot_file, "write an SVG plot: mean KL vs bits per weight"));
  always(app.add_option("--tokenizer", o->tokenizer_dir, "folder with tokenizer.model (default: the model's)"));
  add_analyze_options(app, o->analyze, false, false);
  add_column_weight_options(app, o->analyze);
  set_modes(app, [o] { return Modes().set(mode::sampled, o->samples > 0, "--samples 0 evaluates every window"); });
  return [o] { return run_sweep_cmd(*o); };
});

}  // namespace

}  // namespace squint
