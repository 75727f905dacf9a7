// squint drift CKPT_DIR...: quantization drift along a training series — per checkpoint the data-free
// measures (SQNR, grid alignment, kurtosis) and, with --text, float PPL, the low-bit gaps and KL; the change
// since the previous checkpoint and the phase-3 verdict (docs/drift.md). Logic is in core/analysis/drift*.
#include <fmt/core.h>

#include <cmath>
#include <optional>

#include "analysis/drift.h"
#include "analysis/drift_verdict.h"
#include "atomic_output.h"
#include "command.h"
#include "file_source.h"
#include "parallel.h"
#include "progress.h"
#include "util/error.h"
#include "util/svg_plot.h"

namespace squint {

namespace {

constexpr const char* kDriftFormat = "squint.drift";
constexpr int kDriftVersion = 1;

struct DriftCmd {
  std::vector<std::string> checkpoints;
  std::string configs = "4/64,8/64", dtype = "float16", out, csv, plot;
  bool json = false, keep_order = false, fail_on_divergence = false;
  double band = 0.05;
};

struct Row {
  std::string path;
  int64_t step = -1;
  std::string fingerprint;
  DriftMeasures m;
};

std::vector<QConfig> parse_configs(const std::string& s) {
  std::vector<QConfig> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    const std::string item = s.substr(i, j - i);
    const auto slash = item.find('/');
    QConfig c;
    try {
      if (slash == std::string::npos) throw std::invalid_argument(item);
      std::size_t u = 0, v = 0;
      c.bits = std::stoi(item.substr(0, slash), &u);
      c.group = std::stoi(item.substr(slash + 1), &v);
      if (u != slash || v != item.size() - slash - 1) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      fail("--configs: cannot read '" + item + "' as BITS/GROUP (e.g. 4/64)");
    }
    bool known = false;
    for (QConfig k : all_configs()) known |= k == c;
    if (!known) fail("--configs: " + item + " is not a candidate (bits 2,3,4,5,6,8; group 32,64,128)");
    for (QConfig k : out)
      if (k == c) fail("--configs: " + item + " is given twice");
    out.push_back(c);
    i = j + 1;
  }
  if (out.empty()) fail("--configs: no config given");
  return out;
}

std::string cfg_name(QConfig c) { return fmt::format("{}/{}", c.bits, c.group); }
std::string step_str(int64_t s) { return s < 0 ? "-" : std::to_string(s); }

// The row's x value in the plot and tables: its step, or its position when the folder names have none.
double x_of(const Row& r, std::size_t i) { return r.step >= 0 ? static_cast<double>(r.step) : static_cast<double>(i + 1); }

nlohmann::json row_json(const Row& r, const Row* prev, double band) {
  nlohmann::json j = {{"checkpoint", r.path}, {"fingerprint", r.fingerprint}};
  j["step"] = r.step >= 0 ? nlohmann::json(r.step) : nlohmann::json(nullptr);
  j["data_free"] = drift_measures_json(r.m, band);
  if (prev) {
    nlohmann::json d = nlohmann::json::array();
    for (std::size_t ci = 0; ci < r.m.configs.size(); ++ci) {
      const auto &a = r.m.configs[ci], &b = prev->m.configs[ci];
      d.push_back({{"bits", a.config.bits},
                   {"group_size", a.config.group},
                   {"sqnr_median_db", a.sqnr_median - b.sqnr_median},
                   {"sqnr_min_db", a.sqnr_min - b.sqnr_min},
                   {"alignment_mean", a.alignment.mean() - b.alignment.mean()},
                   {"near_boundary_share", a.alignment.near_share() - b.alignment.near_share()}});
    }
    j["delta"] = {{"configs", d}, {"kurtosis", r.m.kurtosis - prev->m.kurtosis},
                  {"group_kurtosis_p90", r.m.group_kurtosis_p90 - prev->m.group_kurtosis_p90}};
  } else {
    j["delta"] = nullptr;
  }
  return j;
}

int run_drift(const DriftCmd& o) {
  const std::vector<QConfig> configs = parse_configs(o.configs);
  if (o.band <= 0 || o.band >= 0.5) fail("--band must be in (0, 0.5) grid units");
  for (const auto& f : {o.out, o.csv, o.plot})
    if (!f.empty()) check_writable_parent(f);
  for (const auto& c : o.checkpoints)
    if (!path_exists(c)) fail(c + ": no such checkpoint");
  std::vector<std::size_t> order(o.checkpoints.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (!o.keep_order) order = checkpoint_order(o.checkpoints);

  DriftOptions dopt;
  dopt.configs = configs;
  dopt.band = o.band;
  dopt.f32_out_dtype = *parse_float_dtype_name(o.dtype);
  dopt.parallel = make_thread_pool(global_options().threads);

  // One checkpoint at a time: only the current model's tensors are in memory.
  std::vector<Row> rows;
  const bool show = !global_options().quiet;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::string& path = o.checkpoints[order[k]];
    Row r;
    r.path = path;
    r.step = step_from_path(path);
    Checkpoint ck = open_model(path);
    r.fingerprint = ck.fingerprint;
    Progress prog(fmt::format("drift {}/{}", k + 1, order.size()), show);
    dopt.progress = [&](const AnalyzeProgress& p) {
      prog.update(p.tensors_done, p.tensors_total, p.bytes_done, p.current ? *p.current : "");
    };
    r.m = measure_drift(ck, dopt);
    prog.finish();
    if (r.m.tensors == 0) fail(path + ": no measurable weight tensor for " + o.configs);
    rows.push_back(std::move(r));
  }

  nlohmann::json cj = nlohmann::json::array();
  for (QConfig c : configs) cj.push_back({{"bits", c.bits}, {"group_size", c.group}});
  nlohmann::json doc = {{"format", kDriftFormat}, {"version", kDriftVersion}, {"configs", cj},
                        {"band", o.band},         {"dtype", o.dtype},         {"kurtosis_group", dopt.kurtosis_group}};
  doc["rows"] = nlohmann::json::array();
  for (std::size_t i = 0; i < rows.size(); ++i) doc["rows"].push_back(row_json(rows[i], i ? &rows[i - 1] : nullptr, o.band));
  doc["verdict"] = {{"evaluated", false}, {"divergence", nullptr}, {"reason", "needs --text (the gap is measured on text)"}};

  if (o.json) {
    fmt::print("{}\n", doc.dump(1));
  } else {
    std::string head = fmt::format("{:>8}", "step");
    for (QConfig c : configs)
      head += fmt::format(" | {:>5} {:>6} {:>6} {:>3} {:>6} {:>6}", cfg_name(c), "minSQ", "medSQ", "<9", "align", "near%");
    head += fmt::format(" | {:>6} {:>7} | {:>8}", "kurt", "gk-P90", "Δalign");
    fmt::print("{}\n", head);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      std::string line = fmt::format("{:>8}", step_str(r.step));
      for (const auto& c : r.m.configs)
        line += fmt::format(" | {:>5} {:>6.2f} {:>6.2f} {:>3} {:>6.4f} {:>6.2f}", "", c.sqnr_min, c.sqnr_median,
                            c.below_floor, c.alignment.mean(), 100 * c.alignment.near_share());
      const std::string dal =
          i ? fmt::format("{:+.4f}", r.m.configs[0].alignment.mean() - rows[i - 1].m.configs[0].alignment.mean()) : "";
      line += fmt::format(" | {:>6.2f} {:>7.2f} | {:>8}", r.m.kurtosis, r.m.group_kurtosis_p90, dal);
      fmt::print("{}\n", line);
    }
  }

  if (!o.out.empty()) write_file_atomic(o.out, doc.dump(1) + "\n");
  if (!o.csv.empty()) {
    std::string csv = "checkpoint,step";
    for (QConfig c : configs)
      for (const char* f : {"sqnr_min_db", "sqnr_median_db", "tensors_below_floor", "alignment_mean", "near_boundary_share"})
        csv += fmt::format(",{}_{}_{}", f, c.bits, c.group);
    csv += ",kurtosis,group_kurtosis_p90\n";
    for (const Row& r : rows) {
      csv += fmt::format("\"{}\",{}", r.path, r.step >= 0 ? std::to_string(r.step) : "");
      for (const auto& c : r.m.configs)
        csv += fmt::format(",{},{},{},{},{}", c.sqnr_min, c.sqnr_median, c.below_floor, c.alignment.mean(),
                           c.alignment.near_share());
      csv += fmt::format(",{},{}\n", r.m.kurtosis, r.m.group_kurtosis_p90);
    }
    write_file_atomic(o.csv, csv);
  }
  if (!o.plot.empty()) {
    LinePlot p;
    p.title = "squint drift: data-free measures";
    const bool steps = std::all_of(rows.begin(), rows.end(), [](const Row& r) { return r.step > 0; });
    p.log_x = steps;
    p.x_label = steps ? "training step (log)" : "checkpoint";
    p.y_label = "median SQNR (dB)";
    p.y2_label = "alignment (0.25 = chance)";
    for (std::size_t ci = 0; ci < configs.size(); ++ci) {
      PlotSeries s{"median SQNR " + cfg_name(configs[ci]), {}, {}, false, "", false};
      PlotSeries a{"alignment " + cfg_name(configs[ci]), {}, {}, true, "", true};
      for (std::size_t i = 0; i < rows.size(); ++i) {
        s.x.push_back(x_of(rows[i], i));
        s.y.push_back(rows[i].m.configs[ci].sqnr_median);
        a.x.push_back(x_of(rows[i], i));
        a.y.push_back(rows[i].m.configs[ci].alignment.mean());
      }
      p.series.push_back(s);
      p.series.push_back(a);
    }
    write_file_atomic(o.plot, render_line_plot_svg(p));
  }
  if (show) {
    for (const auto& f : {o.out, o.csv, o.plot})
      if (!f.empty()) fmt::print(stderr, "wrote {}\n", f);
  }
  return 0;
}

RegisterCommand reg("drift", 75, [](CLI::App& app) {
  auto o = std::make_shared<DriftCmd>();
  app.description("quantization drift along training checkpoints: SQNR, grid alignment, kurtosis per checkpoint");
  app.add_option("CKPT_DIR", o->checkpoints, "checkpoint folders (sorted by the step number in their names)")->required();
  app.add_option("--configs", o->configs, "configs BITS/GROUP, comma-separated; the first is the low-bit one")
      ->capture_default_str();
  app.add_option("--band", o->band, "half-width (grid units) of the rounding-boundary band")->capture_default_str();
  app.add_option("--dtype", o->dtype, "dtype F32 tensors are written as (as in analyze)")
      ->check(CLI::IsMember({"float16", "bfloat16", "float32"}))
      ->capture_default_str();
  app.add_flag("--json", o->json, "print the report as JSON on stdout (instead of the table)");
  app.add_option("-o,--output", o->out, "write the JSON report to this file");
  app.add_option("--csv", o->csv, "write one CSV line per checkpoint");
  app.add_option("--plot", o->plot, "write an SVG plot");
  app.add_flag("--keep-order", o->keep_order, "report checkpoints in the order given (no sort by step)");
  return [o] { return run_drift(*o); };
});

}  // namespace

}  // namespace squint
