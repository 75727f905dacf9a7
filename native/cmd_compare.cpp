// squint compare BASE.json OTHER.json: per-window comparison of two eval runs (seed 001, finding 3).
#include <fmt/core.h>

#include "applies.h"
#include "command.h"
#include "eval/perplexity.h"
#include "file_source.h"
#include "io/file_kind.h"
#include "output.h"
#include "util/error.h"

namespace squint {

namespace {

struct CmpCmd {
  std::string base, other;
  OutputCli out;
};

int run_compare(const CmpCmd& o) {
  auto load = [](const std::string& p) {
    auto j = nlohmann::json::parse(read_text_file(p), nullptr, false);
    if (j.is_discarded()) fail(p + ": not valid JSON");
    if (!(j.is_object() && j.value("format", "") == "squint.eval"))
      fail(p + " is " + describe_json(j) + "; compare takes two squint eval results (squint eval -o FILE)");
    return windows_from_json(j, p);
  };
  auto a = load(o.base), b = load(o.other);
  CompareResult c = compare_runs(a, b);
  const PplStats sa = ppl_stats(a), sb = ppl_stats(b);
  emit_document(o.out, nlohmann::json({{"format", "squint.compare"}, {"version", 1},
                                       {"base", o.base}, {"other", o.other},
                                       {"base_median", sa.median_ppl}, {"other_median", sb.median_ppl},
                                        {"base_mean", sa.mean_ppl}, {"other_mean", sb.mean_ppl},
                                        {"delta_mean_pct", c.d_mean}, {"delta_median_pct", c.d_median},
                                        {"improved", c.improved}, {"degraded", c.degraded},
                                        {"matched_windows", c.matched}, {"quartile_change_pct", c.quartile_change}}));
  if (!human_stdout(o.out)) return 0;
  fmt::print("{:<10} {:>12} {:>12}\n", "", "median PPL", "mean PPL");
  fmt::print("{:<10} {:>12.4f} {:>12.4f}\n", "base", sa.median_ppl, sa.mean_ppl);
  fmt::print("{:<10} {:>12.4f} {:>12.4f}\n", "other", sb.median_ppl, sb.mean_ppl);
  fmt::print("{:<10} {:>11.2f}% {:>11.2f}%\n", "change", c.d_median, c.d_mean);
  fmt::print("{} matched windows: {:.1f}% improved, {:.1f}% degraded\n", c.matched, 100 * c.improved, 100 * c.degraded);
  fmt::print("change by quartile of base PPL (easiest -> hardest):");
  for (double q : c.quartile_change) fmt::print(" {:+.2f}%", q);
  fmt::print("\n");
  return 0;
}

RegisterCommand reg_compare("compare", 80, [](CLI::App& app) {
  auto o = std::make_shared<CmpCmd>();
  app.description("compare two `eval --json` runs window by window");
  always(app.add_option("BASE", o->base, "baseline eval JSON")->required());
  always(app.add_option("OTHER", o->other, "other eval JSON")->required());
  add_output_options(app, o->out, "the comparison");
  return [o] { return run_compare(*o); };
});

}  // namespace

}  // namespace squint
