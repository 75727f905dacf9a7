// squint curve MODEL_OR_ANALYSIS --from SIZE --to SIZE --points N: the budget sweep and the fitted
// quality prediction PPL(L) = a + b·ln(1 + L).
#include <fmt/core.h>

#include <cmath>
#include <fstream>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "model_input.h"
#include "output.h"
#include "plan/curve_fit.h"
#include "plan/planner.h"
#include "plan_cli.h"
#include "util/error.h"
#include "util/units.h"

namespace squint {

namespace {

struct CurveCmd {
  std::string input, from, to, csv_out;
  OutputCli out;
  int points = 20;
  std::vector<std::string> calibrate;
  PlanCli plan;
  AnalyzeCli analyze;
};

uint64_t size_arg(const std::string& flag, const std::string& v) {
  auto b = parse_size(v);
  if (!b) fail(flag + ": cannot read '" + v + "' as a size");
  return *b;
}

int run_curve(const CurveCmd& o) {
  PlanOptions opt = make_plan_options(o.plan, false);
  // An analysis may hold the imatrix-only grid types (IQ1_S: --bits 1): it says which it has.
  check_config_filters(o.plan.bits, o.plan.groups, input_format(o.input, o.analyze), /*with_imatrix=*/true);
  Analysis a = load_or_analyze(o.input, o.analyze);
  std::vector<CalibrationPoint> cal;
  for (const auto& c : o.calibrate) {
    auto k = c.find(':');
    if (k == std::string::npos) fail("--calibrate '" + c + "': expected SIZE:PPL, e.g. 19GiB:8.798");
    CalibrationPoint p;
    p.budget = size_arg("--calibrate", c.substr(0, k));
    p.ppl = std::stod(c.substr(k + 1));
    cal.push_back(p);
  }
  PlanProblem prob = build_problem(a, opt);
  uint64_t from = o.from.empty() ? prob.min_bytes : size_arg("--from", o.from);
  uint64_t to = o.to.empty() ? prob.max_bytes : size_arg("--to", o.to);
  auto pts = budget_curve(prob, opt, from, to, o.points);
  // Calibration points are planned too, to get their loss (over the same problem).
  for (auto& c : cal) c.loss = make_plan(a, prob, [&] { PlanOptions q = opt; q.budget_bytes = c.budget; return q; }()).objective;
  CurveFit fit = fit_curve(cal);
  CurveMarks marks = mark_curve(pts, fit);

  const std::string unit = !o.from.empty() ? size_unit_of(o.from) : !o.to.empty() ? size_unit_of(o.to) : "";
  auto sz = [&](uint64_t b) { return show_size(b, unit); };
  nlohmann::json j;
  j["format"] = "squint.curve";
  j["version"] = 1;
  j["fit"] = {{"a", fit.a}, {"b", fit.b}, {"calibrated", fit.calibrated}, {"points", cal.size()}};
  j["knee"] = marks.knee;
  j["within_1pct"] = marks.within_1pct;
  j["points"] = nlohmann::json::array();
  std::string csv = "budget_bytes,bytes,bpw,loss,bound,predicted_ppl,bit_mix\n";
  const bool table = human_stdout(o.out) && !global_options().quiet;
  if (table)
    fmt::print("{:>14} {:>8} {:>12} {:>12} {:>10}  {}\n", "size", "bpw", "loss", "bound", fit.calibrated ? "pred PPL" : "", "bits (share of params)");
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const auto& p = pts[i];
    std::string mix;
    nlohmann::json jm = nlohmann::json::object();
    for (auto [b, f] : p.bit_mix) {
      mix += fmt::format("{}:{:.0f}% ", b == kKeepBits ? std::string("keep") : std::to_string(b), f * 100);
      jm[b == kKeepBits ? "keep" : std::to_string(b)] = f;
    }
    const double pred = fit.calibrated ? fit.predict(p.objective) : NAN;
    std::string mark = static_cast<int>(i) == marks.knee ? "  <- knee" : "";
    if (static_cast<int>(i) == marks.within_1pct) mark += "  <- within 1% of unquantized";
    if (table)
      fmt::print("{:>14} {:>8.3f} {:>12.5g} {:>12.5g} {:>10}  {}{}\n", sz(p.bytes), p.bpw_effective, p.objective, p.bound,
                 fit.calibrated ? fmt::format("{:.4f}", pred) : "", mix, mark);
    nlohmann::json e = {{"budget_bytes", p.budget}, {"bytes", p.bytes}, {"bpw", p.bpw_effective},
                        {"loss", p.objective},      {"bound", p.bound}, {"bit_mix", jm}};
    if (fit.calibrated) e["predicted_ppl"] = pred;
    j["points"].push_back(e);
    csv += fmt::format("{},{},{},{},{},{},\"{}\"\n", p.budget, p.bytes, p.bpw_effective, p.objective, p.bound,
                       fit.calibrated ? fmt::format("{}", pred) : "", mix);
  }
  emit_document(o.out, j);
  if (!o.csv_out.empty()) {
    write_file_atomic(o.csv_out, csv);
    note_wrote(o.csv_out);
  }
  return 0;
}

RegisterCommand reg_curve("curve", 45, [](CLI::App& app) {
  auto o = std::make_shared<CurveCmd>();
  app.description("sweep budgets: loss, bound and bit mix per size, with a fitted PPL prediction");
  always(app.add_option("MODEL_OR_ANALYSIS", o->input, "model folder/.safetensors or analysis.json")->required());
  always(app.add_option("--from", o->from, "smallest budget (default: the smallest safe size)"));
  always(app.add_option("--to", o->to, "largest budget (default: where more bytes stop helping)"));
  always(
      app.add_option("--points", o->points, "number of budgets")->check(CLI::Range(1, 10000))->capture_default_str());
  always(app.add_option("--calibrate", o->calibrate,
                        "SIZE:PPL measured points (one: b = 0.055; two or more: least squares)"));
  add_output_options(app, o->out, "the sweep");
  always(app.add_option("--csv", o->csv_out, "write the sweep as CSV"));
  add_plan_options(app, o->plan, false);
  add_analyze_options(app, o->analyze, false, false, {mode::model});
  set_modes(app, [o] { return plan_input_modes(o->input, o->analyze); });
  return [o] { return run_curve(*o); };
}, /*legacy_json_file=*/true);

}  // namespace

}  // namespace squint
