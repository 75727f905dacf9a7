// squint analyze MODEL: every weight tensor under every candidate (bits, group size): NRMSE, SQNR, bytes.
// --part K/N measures a share of the tensors, --merge joins the parts, and -o OUT keeps a journal that
// --resume continues after a kill (core/analysis/analysis_parts.h, analysis_journal.h).
#include <fmt/core.h>

#include <chrono>
#include <optional>

#include "analysis/analysis_json.h"
#include "analysis/analysis_parts.h"
#include "analysis/analysis_run.h"
#include "analysis_journal_file.h"
#include "applies.h"
#include "atomic_output.h"
#include "build_id.h"
#include "command.h"
#include "file_source.h"
#include "input_kind.h"
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
  std::string part;                // --part K/N
  bool resume = false;             // --resume
  std::vector<std::string> merge;  // --merge PART...
};

// What a merge takes: the part files and the output flags (and --help).
bool applies_to_merge(const CLI::Option* opt) {
  for (const char* name : {"merge", "output", "json", "sqnr-table", "sqnr-table-json", "help"})
    if (opt->check_lname(name)) return true;
  return false;
}

// On unless --merge: a run that measures a model.
const Mode measuring{"measuring", "when measuring a model (not with --merge)"};

void print_tables(const AnalyzeCmd& o, const Analysis& a) {
  if (o.table_json) {
    fmt::print(
        "{}",
        json_document({{"format", "squint.sqnr_table"}, {"version", 1}, {"configs", sqnr_table_json(sqnr_table(a))}}));
  } else if (o.table && !global_options().quiet) {  // a table for people: off under -q, as in every verb
    fmt::print("{}", format_sqnr_table(sqnr_table(a)));
  }
}

int run_merge(const AnalyzeCmd& o) {
  if (!o.out.file.empty()) check_writable_parent(o.out.file);
  std::vector<PartFile> files;
  for (const auto& f : o.merge) files.push_back({f, read_text_file(f)});
  const Analysis a = merge_analysis_parts(files, squint_build_id());
  emit_document(o.out, serialize_analysis(a));
  print_tables(o, a);
  note(fmt::format("merged {} parts: {} tensors, {} params", files.size(), a.tensors.size(), a.total_params));
  return 0;
}

int run_analyze(const AnalyzeCmd& o) {
  if (o.out.json && (o.table || o.table_json)) fail("analyze: --json and --sqnr-table(-json) both print on stdout; pick one");
  if (!o.merge.empty()) return run_merge(o);
  if (o.model.empty()) fail("analyze: give MODEL (or --merge PART_FILE...)");
  PartSpec part;
  const bool split = !o.part.empty();  // a part file, even of a "split" into 1
  if (split) {
    const auto p = parse_part_spec(o.part);
    if (!p) fail("analyze --part: '" + o.part + "' is not K/N with 1 <= K <= N <= " + std::to_string(kMaxParts));
    part = *p;
    if (o.table || o.table_json) fail("analyze --part: --sqnr-table needs the whole analysis; merge the parts first");
  }
  if (o.resume && o.out.file.empty()) fail("analyze --resume: needs -o OUT (the journal is OUT.journal)");
  if (!o.out.file.empty()) check_writable_parent(o.out.file);
  auto t0 = std::chrono::steady_clock::now();
  expect_float_model(o.model);
  Checkpoint ck = open_model(o.model);
  for (const auto& w : ck.warnings)
    if (!global_options().quiet) fmt::print(stderr, "squint: warning: {}\n", w);

  // -o OUT: every measured tensor goes to OUT.journal as it finishes, so a killed run can --resume.
  std::optional<AnalysisIdentity> id;
  std::optional<JournalFile> journal;
  std::vector<std::size_t> indices;
  std::size_t resumed = 0;
  uint64_t measured_params = 0, bytes = 0;  // of the tensors this run measured
  Analysis a = run_analysis(ck, o.opts, [&](const AnalyzeOptions& opt) {
    AnalysisRun run(ck, opt);
    indices = part_tensors(ck, opt, part);
    if (split || !o.out.file.empty())
      id = analysis_identity(ck, run.header(), o.opts.features, squint_build_id(), part);
    if (!o.out.file.empty()) {
      journal.emplace(journal_path(o.out.file), *id, o.resume);
      for (auto& [i, t] : journal->take_resumed()) {
        run.put(i, std::move(t));
        ++resumed;
      }
    }
    run.run(indices, [&](std::size_t i, const TensorAnalysis& t) {
      if (journal) journal->append(i, t);
      measured_params += t.params;
      bytes += t.bytes;
    });
    return split ? run.finish_subset(indices) : run.finish();
  });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (split)
    emit_document(o.out, part_to_json(*id, indices, a));
  else
    emit_document(o.out, serialize_analysis(a));
  if (journal) journal->remove();  // OUT is written
  std::size_t measured = 0, skipped = 0;
  for (const auto& t : a.tensors) (t.measured ? measured : skipped)++;
  print_tables(o, a);
  if (!global_options().quiet) {
    const std::string what = split ? fmt::format("part {}/{}: ", part.index, part.count) : "";
    const std::string from = resumed ? fmt::format(", {} resumed from {}", resumed, journal_path(o.out.file)) : "";
    fmt::print(
        stderr,
        "{}analysed {} tensors ({} measured, {} kept{}), {} params, {} in {:.2f} s ({:.1f} M params/s, {:.2f} GB/s)\n",
        what, a.tensors.size(), measured, skipped, from, measured_params, human_size(bytes), secs,
        static_cast<double>(measured_params) / secs / 1e6, static_cast<double>(bytes) / secs / 1e9);
    for (const auto& t : a.tensors)
      if (!t.measured && t.reason.find("NaN") != std::string::npos)
        fmt::print(stderr, "squint: warning: {}: {}\n", t.name, t.reason);
  }
  return 0;
}

RegisterCommand reg_analyze("analyze", 30, [](CLI::App& app) {
  auto o = std::make_shared<AnalyzeCmd>();
  app.description("measure NRMSE/SQNR/bytes of every weight tensor under every candidate config");
  always(app.add_option("MODEL", o->model, "model folder or .safetensors file (not with --merge)"));
  add_output_options(app, o->out, "analysis.json (a part file with --part)");
  only_with(app.add_flag("--sqnr-table", o->table,
                         "print the per-config SQNR table (min, P5, median, P95, max, <9 dB, <15 dB)"),
            mode::table);
  always(app.add_flag("--sqnr-table-json", o->table_json, "print that table as JSON"));
  add_analyze_options(app, o->opts, true);
  add_column_weight_options(app, o->opts);
  always(app.add_option("--part", o->part,
                        "K/N: measure only part K of N (a deterministic share, balanced by cost; MoE expert groups "
                        "kept together); -o writes a part file for --merge"));
  always(app.add_flag("--resume", o->resume,
                      "continue an interrupted run from OUT.journal (-o OUT keeps it while running, removes it when "
                      "done)"));
  always(app.add_option("--merge", o->merge, "PART_FILE...: join the part files of one split into analysis.json")
             ->expected(1, -1));
  add_imatrix_option(app, o->opts.imatrix);
  // A merge takes the part files and the output flags; every other option describes a measurement, which the
  // parts carry. Declared here for all of them, so that options added later are refused with --merge too.
  for (CLI::Option* opt : app.get_options())
    if (!applies_to_merge(opt)) only_with(opt, measuring);
  set_modes(app, [o] {
    return Modes()
        .set(mode::table, !o->out.json && !o->table_json, "--json or --sqnr-table-json prints a JSON document instead")
        .set(measuring, o->merge.empty(), "--merge joins part files, which carry how they were measured");
  });
  return [o] { return run_analyze(*o); };
});

}  // namespace

}  // namespace squint
