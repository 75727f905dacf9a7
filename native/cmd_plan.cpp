// squint plan MODEL_OR_ANALYSIS --budget SIZE | --bpw X | --min-safe: the optimal per-tensor allocation.
#include <fmt/core.h>

#include <chrono>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "eval/select.h"
#include "eval_model.h"
#include "file_source.h"
#include "model_input.h"
#include "output.h"
#include "parallel.h"
#include "plan/planner.h"
#include "plan/priors.h"
#include "plan_cli.h"
#include "plan_summary.h"
#include "progress.h"
#include "util/error.h"
#include "util/units.h"

namespace squint {

namespace {

struct PlanCmd {
  std::string input;
  OutputCli out;
  PlanCli plan;
  AnalyzeCli analyze;
  std::string select_text;
  int select_samples = 16, select_seq_len = 0;  // 0: the model's context, at most 2048
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Measured selection: the candidates' KL on the text, one line each on stderr, the kept one marked; the
// solves and the evaluations timed apart (the evaluations are nearly all of it).
Plan select_measured(const PlanCmd& o, const Analysis& a, const PlanOptions& opt) {
  if (is_analysis_file(o.input)) fail("--select-text needs the model (it runs it), not an analysis file");
  const Checkpoint ck = open_model(o.input);
  const ModelHparams cfg = load_model_hparams(o.input);
  const EvalWindows w =
      load_eval_windows(o.select_text, model_dir(o.input), window_length(o.select_seq_len, o.input, "--select-seq-len"),
                        o.select_samples, 42);
  std::string name = o.select_text;
  if (auto k = name.find_last_of('/'); k != std::string::npos) name = name.substr(k + 1);
  name += fmt::format(": {} windows of {} tokens, seed 42", w.chosen.size(), w.seq_len);
  std::optional<ModelImatrix> mi;
  if (!o.analyze.imatrix.empty()) mi = load_model_imatrix(o.analyze.imatrix, ck);
  Progress prog("select", !global_options().quiet);
  const auto t0 = std::chrono::steady_clock::now();
  double solve_ms = -1;
  const Selection s = select_plan(ck, a, cfg, w, opt, make_thread_pool(global_options().threads), name,
                                  [&](std::size_t d, std::size_t n, const std::string& what) {
                                    if (solve_ms < 0) solve_ms = ms_since(t0);
                                    prog.update(d, n, 0, what);
                                  },
                                  mi ? &*mi : nullptr);
  prog.finish();
  note("measured selection on " + name + " (KL to the float model, lower is better):");
  for (std::size_t i = 0; i < s.candidates.size(); ++i) {
    const auto& c = s.candidates[i];
    note(fmt::format("  {} {:<22} {:>12} B  {}", i == s.chosen ? "*" : " ", c.name, c.bytes,
                     c.kl_mean >= 0 ? fmt::format("KL {:.6f}  median PPL {:.4f}", c.kl_mean, c.median_ppl) : "") +
         (c.note.empty() ? "" : "  (" + c.note + ")"));
  }
  std::size_t evaluated = 0;
  for (const auto& c : s.candidates) evaluated += c.kl_mean >= 0 && c.note.empty();
  note(fmt::format(
      "solved {} candidate plans over {} items in {:.1f} ms; evaluated the float model and {} distinct "
      "candidates on {} windows in {:.1f} s",
      s.candidates.size(), a.tensors.size(), solve_ms, evaluated, w.chosen.size(), (ms_since(t0) - solve_ms) / 1000.0));
  return s.plan;
}

int run_plan(const PlanCmd& o) {
  if (!o.out.file.empty()) check_writable_parent(o.out.file);
  PlanOptions opt = make_plan_options(o.plan, true);
  // An analysis may hold the imatrix-only grid types (IQ1_S: --bits 1): it says which it has.
  check_config_filters(o.plan.bits, o.plan.groups, input_format(o.input, o.analyze), /*with_imatrix=*/true);
  Analysis a = load_or_analyze(o.input, o.analyze);
  auto t0 = std::chrono::steady_clock::now();
  Plan p = o.select_text.empty() ? make_plan(a, opt) : select_measured(o, a, opt);
  const double ms = ms_since(t0);
  const std::string text = serialize_plan(p);
  emit_document(o.out, text);
  if (human_stdout(o.out) && !global_options().quiet)
    fmt::print("{}", plan_summary(p, a, o.plan.budget.empty() ? "" : size_unit_of(o.plan.budget)));
  if (o.select_text.empty()) note(fmt::format("solved {} items in {:.1f} ms", a.tensors.size(), ms));
  return 0;
}

// Measured selection tries every objective and prior set itself.
const Mode kOneObjective{"one-objective",
                         "without --select-text (measured selection tries every objective and prior set)"};

RegisterCommand reg_plan("plan", 40, [](CLI::App& app) {
  auto o = std::make_shared<PlanCmd>();
  app.description("choose (bits, group size) or keep per tensor to fit a budget with minimal weighted error");
  always(app.add_option("MODEL_OR_ANALYSIS", o->input, "model folder/.safetensors (analysed first) or analysis.json")
             ->required());
  add_output_options(app, o->out, "plan.json");
  for (CLI::Option* t : add_plan_options(app, o->plan, true))
    if (t->get_name() == "--objective" || t->get_name() == "--prior-set") only_with(t, kOneObjective);
  add_analyze_options(app, o->analyze, true, false, {mode::model});
  add_column_weight_options(app, o->analyze, {mode::model});
  add_imatrix_option(app, o->analyze.imatrix, {mode::model});
  only_with(app.add_option(
                "--select-text", o->select_text,
                "TEXT: measured selection (not data-free): evaluate the optimum of each objective/prior setting and "
                "the largest uniform configs that fit on TEXT, keep the lowest KL"),
            mode::model);
  only_with(app.add_option("--select-samples", o->select_samples, "windows sampled from TEXT for --select-text")
                ->check(CLI::PositiveNumber)
                ->capture_default_str(),
            given("--select-text"));
  only_with(app.add_option("--select-seq-len", o->select_seq_len,
                           std::string("window length for --select-text (") + kSeqLenDefaultHelp + ")")
                ->check(CLI::Range(2, 1 << 20)),
            given("--select-text"));
  set_modes(app, [o] {
    return plan_input_modes(o->input, o->analyze).set(kOneObjective, o->select_text.empty(), "--select-text is given");
  });
  return [o] { return run_plan(*o); };
});

}  // namespace

}  // namespace squint
