// squint plan MODEL_OR_ANALYSIS --budget SIZE | --bpw X | --min-safe: the optimal per-tensor allocation.
#include <fmt/core.h>

#include <chrono>

#include "atomic_output.h"
#include "command.h"
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
};

int run_plan(const PlanCmd& o) {
  if (!o.out.file.empty()) check_writable_parent(o.out.file);
  PlanOptions opt = make_plan_options(o.plan, true);
  Analysis a = load_or_analyze(o.input, o.analyze);
  auto t0 = std::chrono::steady_clock::now();
  Plan p = make_plan(a, opt);
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
  return [o] { return run_plan(*o); };
});

}  // namespace

}  // namespace squint
