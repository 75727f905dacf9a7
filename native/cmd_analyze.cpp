// squint analyze MODEL: every weight tensor under every candidate (bits, group size): NRMSE, SQNR, bytes.
#include <fmt/core.h>

#include <chrono>

#include "analysis/analysis_json.h"
#include "atomic_output.h"
#include "command.h"
#include "file_source.h"
#include "model_input.h"
#include "output.h"
#include "util/error.h"
#include "util/units.h"

namespace squint {

namespace {

struct AnalyzeCmd {
  std::string model;
  OutputCli out;
  bool table = false;
  bool table_json = false;
  AnalyzeCli opts;
};

int run_analyze(const AnalyzeCmd& o) {
  if (o.out.json && (o.table || o.table_json)) fail("analyze: --json and --sqnr-table(-json) both print on stdout; pick one");
  if (!o.out.file.empty()) check_writable_parent(o.out.file);
  auto t0 = std::chrono::steady_clock::now();
  Checkpoint ck = open_model(o.model);
  for (const auto& w : ck.warnings)
    if (!global_options().quiet) fmt::print(stderr, "squint: warning: {}\n", w);
  Analysis a = run_analysis(ck, o.opts);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  emit_document(o.out, serialize_analysis(a));
  std::size_t measured = 0, skipped = 0;
  for (const auto& t : a.tensors) (t.measured ? measured : skipped)++;
  if (o.table_json) {
    fmt::print("{}", json_document({{"format", "squint.sqnr_table"}, {"version", 1},
                                    {"configs", sqnr_table_json(sqnr_table(a))}}));
  } else if (o.table && !global_options().quiet) {  // a table for people: off under -q, as in every verb
    fmt::print("{}", format_sqnr_table(sqnr_table(a)));
  }
  if (!global_options().quiet) {
    fmt::print(stderr, "analysed {} tensors ({} measured, {} kept), {} params, {} in {:.2f} s ({:.1f} M params/s, {:.2f} GB/s)\n",
               a.tensors.size(), measured, skipped, a.total_params, human_size(a.total_bytes), secs,
               static_cast<double>(a.total_params) / secs / 1e6, static_cast<double>(a.total_bytes) / secs / 1e9);
    for (const auto& t : a.tensors)
      if (!t.measured && t.reason.find("NaN") != std::string::npos)
        fmt::print(stderr, "squint: warning: {}: {}\n", t.name, t.reason);
  }
  return 0;
}

RegisterCommand reg("analyze", 30, [](CLI::App& app) {
  auto o = std::make_shared<AnalyzeCmd>();
  app.description("measure NRMSE/SQNR/bytes of every weight tensor under every candidate config");
  app.add_option("MODEL", o->model, "model folder or .safetensors file")->required();
  add_output_options(app, o->out, "analysis.json");
  app.add_flag("--sqnr-table", o->table, "print the per-config SQNR table (min, P5, median, P95, max, <9 dB, <15 dB)");
  app.add_flag("--sqnr-table-json", o->table_json, "print that table as JSON");
  add_analyze_options(app, o->opts, true);
  add_column_weight_options(app, o->opts);
  return [o] { return run_analyze(*o); };
});

}  // namespace

}  // namespace squint
