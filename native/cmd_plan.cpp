// squint plan MODEL_OR_ANALYSIS --budget SIZE | --bpw X | --min-safe: the optimal per-tensor allocation.
#include <fmt/core.h>

#include <chrono>

#include "atomic_output.h"
#include "command.h"
#include "eval/select.h"
#include "util/error.h"
#include "eval_model.h"
#include "file_source.h"
#include "parallel.h"
#include "progress.h"
#include "model_input.h"
#include "plan/priors.h"
#include "plan/planner.h"
#include "plan_cli.h"
#include "output.h"
#include "plan_summary.h"
#include "util/units.h"

namespace squint {

namespace {

struct PlanCmd {
  std::string input;
  OutputCli out;
  PlanCli plan;
  AnalyzeCli analyze;
  std::string select_text;
  int select_samples = 16, select_seq_len = 256;
};

// Measured selection: the candidates' KL on the text, one line each on stderr, the kept one marked.
Plan select_measured(const PlanCmd& o, const Analysis& a, const PlanOptions& opt) {
  if (is_analysis_file(o.input)) fail("--select-text needs the model (it runs it), not an analysis file");
  const Checkpoint ck = open_model(o.input);
  const ModelHparams cfg = load_model_hparams(o.input);
  const EvalWindows w = load_eval_windows(o.select_text, model_dir(o.input), o.select_seq_len, o.select_samples, 42);
  std::string name = o.select_text;
  if (auto k = name.find_last_of('/'); k != std::string::npos) name = name.substr(k + 1);
  name += fmt::format(": {} windows of {} tokens, seed 42", w.chosen.size(), w.seq_len);
  Progress prog("select", !global_options().quiet);
  const Selection s = select_plan(ck, a, cfg, w, opt, make_thread_pool(global_options().threads), name,
                                  [&](std::size_t d, std::size_t n, const std::string& what) { prog.update(d, n, 0, what); });
  prog.finish();
  note("measured selection on " + name + " (KL to the float model, lower is better):");
  for (std::size_t i = 0; i < s.candidates.size(); ++i) {
    const auto& c = s.candidates[i];
    note(fmt::format("  {} {:<22} {:>12} B  {}", i == s.chosen ? "*" : " ", c.name, c.bytes,
                     c.kl_mean >= 0 ? fmt::format("KL {:.6f}  median PPL {:.4f}", c.kl_mean, c.median_ppl) : "") +
         (c.note.empty() ? "" : "  (" + c.note + ")"));
  }
  return s.plan;
}

int run_plan(const PlanCmd& o) {
  if (!o.out.file.empty()) check_writable_parent(o.out.file);
  PlanOptions opt = make_plan_options(o.plan, true);
  Analysis a = load_or_analyze(o.input, o.analyze);
  auto t0 = std::chrono::steady_clock::now();
  Plan p = o.select_text.empty() ? make_plan(a, opt) : select_measured(o, a, opt);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const std::string text = serialize_plan(p);
  emit_document(o.out, text);
  if (human_stdout(o.out) && !global_options().quiet) fmt::print("{}", plan_summary(p, a, size_unit_of(o.plan.budget)));
  note(fmt::format("solved {} items in {:.1f} ms", a.tensors.size(), ms));
  return 0;
}

RegisterCommand reg("plan", 40, [](CLI::App& app) {
  auto o = std::make_shared<PlanCmd>();
  app.description("choose (bits, group size) or keep per tensor to fit a budget with minimal weighted error");
  app.add_option("MODEL_OR_ANALYSIS", o->input, "model folder/.safetensors (analysed first) or analysis.json")->required();
  add_output_options(app, o->out, "plan.json");
  add_plan_options(app, o->plan, true);
  add_analyze_options(app, o->analyze, true, false);
  add_column_weight_options(app, o->analyze);
  app.add_option("--select-text", o->select_text,
                 "TEXT: measured selection (not data-free): evaluate the optimum of each objective/prior setting and "
                 "the largest uniform configs that fit on TEXT, keep the lowest KL");
  app.add_option("--select-samples", o->select_samples, "windows sampled from TEXT for --select-text")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--select-seq-len", o->select_seq_len, "window length for --select-text")
      ->check(CLI::Range(2, 1 << 20))
      ->capture_default_str();
  return [o] { return run_plan(*o); };
});

}  // namespace

}  // namespace squint
