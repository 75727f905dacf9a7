// squint drift CKPT_DIR...: quantization drift along a training series — per checkpoint the data-free
// measures (SQNR, grid alignment, kurtosis) and, with --text, float PPL, the low-bit gaps and KL; the change
// since the previous checkpoint and the phase-3 verdict (docs/drift.md). Logic is in core/analysis/drift*.
#include <fmt/core.h>

#include <cmath>
#include <optional>

#include "analysis/drift.h"
#include "analysis/drift_verdict.h"
#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "convert/quantized_weights.h"
#include "eval/evaluate.h"
#include "eval_model.h"
#include "file_source.h"
#include "input_kind.h"
#include "output.h"
#include "parallel.h"
#include "plan/uniform.h"
#include "progress.h"
#include "util/error.h"
#include "util/svg_plot.h"

namespace squint {

namespace {

constexpr const char* kDriftFormat = "squint.drift";
constexpr int kDriftVersion = 1;

struct DriftCmd {
  std::vector<std::string> checkpoints;
  std::string configs = "4/64,8/64", dtype = "float16", csv, plot, text, tokenizer;
  OutputCli out;
  bool keep_order = false, fail_on_divergence = false;
  double band = 0.05;
  int seq_len = 0, samples = 0, resamples = 200;  // seq_len 0: the model's context, at most 2048
  uint64_t seed = 42;
  VerdictOptions verdict;
};

// With --text: one config's quantized model against its float checkpoint.
struct TextConfig {
  bool valid = false;   // some tensor can take the config
  PplStats ppl;
  GapEstimate gap;      // median-PPL gap (%) and its bootstrap error
  double gap_mean_pct = 0;
  KlStats kl;
};

struct Row {
  std::string path;
  int64_t step = -1;
  std::string fingerprint;
  DriftMeasures m;
  bool has_text = false;
  PplStats float_ppl;
  std::vector<TextConfig> text;
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
  if (r.has_text) {
    nlohmann::json q = nlohmann::json::array();
    for (std::size_t ci = 0; ci < r.text.size(); ++ci) {
      const TextConfig& t = r.text[ci];
      nlohmann::json e = {{"bits", r.m.configs[ci].config.bits}, {"group_size", r.m.configs[ci].config.group},
                          {"valid", t.valid}};
      if (t.valid) {
        e["median_ppl"] = t.ppl.median_ppl;
        e["mean_ppl"] = t.ppl.mean_ppl;
        e["gap_pct"] = t.gap.gap_pct;
        e["gap_se_pct"] = t.gap.se_pct;
        e["gap_mean_pct"] = t.gap_mean_pct;
        e["kl"] = kl_json(t.kl);
      }
      q.push_back(e);
    }
    j["text"] = {{"float_median_ppl", r.float_ppl.median_ppl}, {"float_mean_ppl", r.float_ppl.mean_ppl},
                 {"windows", r.float_ppl.windows}, {"tokens", r.float_ppl.tokens}, {"configs", q}};
  } else {
    j["text"] = nullptr;
  }
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
    if (r.has_text && prev->has_text) {
      j["delta"]["float_median_ppl_pct"] = 100.0 * (r.float_ppl.median_ppl / prev->float_ppl.median_ppl - 1.0);
      for (std::size_t ci = 0; ci < r.text.size(); ++ci)
        if (r.text[ci].valid && prev->text[ci].valid)
          j["delta"]["configs"][ci]["gap_pp"] = r.text[ci].gap.gap_pct - prev->text[ci].gap.gap_pct;
    }
  } else {
    j["delta"] = nullptr;
  }
  return j;
}

// Float PPL, and per config the uniform quantized model (in memory, exactly what `quantize` writes) evaluated
// against the float checkpoint on the same windows: PPL, gap with its bootstrap error, KL.
void evaluate_text(const DriftCmd& o, const std::string& path, const Checkpoint& ck, const Analysis& a,
                   const EvalWindows& w, const ParallelFor& pf, const std::string& label, Row* r) {
  const bool show = !global_options().quiet;
  auto float_model = load_model(path);
  const ModelHparams cfg = load_model_hparams(path);
  Progress bp(label + " float", show);
  EvalBase base(*float_model, w, pf, window_progress(bp));
  bp.finish();
  r->has_text = true;
  r->float_ppl = ppl_stats(base.windows());
  for (const auto& c : r->m.configs) {
    TextConfig t;
    if (uniform_config_valid(a, c.config)) {
      t.valid = true;
      const Plan plan = uniform_plan(a, c.config);
      Model qm(cfg, quantized_weights(ck, plan, pf));
      Progress qp(label + " " + cfg_name(c.config), show);
      const EvalResult er = evaluate(qm, w, pf, window_progress(qp), &base);
      qp.finish();
      t.ppl = er.ppl;
      t.kl = er.kl;
      t.gap = median_gap(base.windows(), er.windows, o.resamples, o.seed);
      t.gap_mean_pct = 100.0 * (er.ppl.mean_ppl / r->float_ppl.mean_ppl - 1.0);
    }
    r->text.push_back(t);
  }
}

std::string fmt_opt(bool ok, double v, const char* spec) { return ok ? fmt::format(fmt::runtime(spec), v) : "-"; }

void print_table(const std::vector<Row>& rows, const std::vector<QConfig>& configs, const DriftVerdict* v) {
  const bool text = !rows.empty() && rows[0].has_text;
  std::string head = fmt::format("{:>8}", "step");
  for (QConfig c : configs)
    head += fmt::format(" | {:>5} {:>6} {:>6} {:>3} {:>6} {:>5}", cfg_name(c), "minSQ", "medSQ", "<9", "align", "near%");
  head += fmt::format(" | {:>6} {:>6}", "kurt", "gkP90");
  if (text) {
    head += fmt::format(" | {:>7} {:>7}", "PPLmed", "ΔPPL%");
    for (QConfig c : configs) head += fmt::format(" | {:>5} {:>7} {:>5} {:>7}", cfg_name(c), "gap%", "±se", "KL");
    head += fmt::format(" | {:>7}", "Δgap");
  }
  fmt::print("{}\n", head);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::string line = fmt::format("{:>8}", step_str(r.step));
    for (const auto& c : r.m.configs)
      line += fmt::format(" | {:>5} {:>6.2f} {:>6.2f} {:>3} {:>6.4f} {:>5.2f}", "", c.sqnr_min, c.sqnr_median,
                          c.below_floor, c.alignment.mean(), 100 * c.alignment.near_share());
    line += fmt::format(" | {:>6.2f} {:>6.2f}", r.m.kurtosis, r.m.group_kurtosis_p90);
    if (text) {
      line += fmt::format(" | {:>7.3f} {:>7}", r.float_ppl.median_ppl,
                          i ? fmt::format("{:+.2f}", 100 * (r.float_ppl.median_ppl / rows[i - 1].float_ppl.median_ppl - 1)) : "");
      for (const auto& t : r.text)
        line += fmt::format(" | {:>5} {:>7} {:>5} {:>7}", "", fmt_opt(t.valid, t.gap.gap_pct, "{:.2f}"),
                            fmt_opt(t.valid, t.gap.se_pct, "{:.2f}"), fmt_opt(t.valid, t.kl.mean, "{:.4f}"));
      const bool d = i && r.text[0].valid && rows[i - 1].text[0].valid;
      line += fmt::format(" | {:>7}", d ? fmt::format("{:+.2f}", r.text[0].gap.gap_pct - rows[i - 1].text[0].gap.gap_pct) : "");
      if (v && v->divergence && i == v->at) line += "  <- phase 3";
      if (v && v->divergence && i == v->gap_min) line += "  <- gap minimum";
    }
    fmt::print("{}\n", line);
  }
  if (v) fmt::print("verdict ({} gap): {} — {}\n", cfg_name(configs[0]),
                    v->divergence ? "divergence at step " + step_str(rows[v->at].step) : std::string("no divergence"),
                    v->reason);
}

std::string make_csv(const std::vector<Row>& rows, const std::vector<QConfig>& configs) {
  const bool text = !rows.empty() && rows[0].has_text;
  std::string csv = "checkpoint,step";
  for (QConfig c : configs)
    for (const char* f : {"sqnr_min_db", "sqnr_median_db", "tensors_below_floor", "alignment_mean", "near_boundary_share"})
      csv += fmt::format(",{}_{}_{}", f, c.bits, c.group);
  csv += ",kurtosis,group_kurtosis_p90";
  if (text) {
    csv += ",float_median_ppl,float_mean_ppl";
    for (QConfig c : configs)
      for (const char* f : {"median_ppl", "gap_pct", "gap_se_pct", "gap_mean_pct", "kl_mean", "kl_p99", "top1"})
        csv += fmt::format(",{}_{}_{}", f, c.bits, c.group);
  }
  csv += "\n";
  for (const Row& r : rows) {
    csv += fmt::format("\"{}\",{}", r.path, r.step >= 0 ? std::to_string(r.step) : "");
    for (const auto& c : r.m.configs)
      csv += fmt::format(",{},{},{},{},{}", c.sqnr_min, c.sqnr_median, c.below_floor, c.alignment.mean(),
                         c.alignment.near_share());
    csv += fmt::format(",{},{}", r.m.kurtosis, r.m.group_kurtosis_p90);
    if (text) {
      csv += fmt::format(",{},{}", r.float_ppl.median_ppl, r.float_ppl.mean_ppl);
      for (const auto& t : r.text)
        csv += t.valid ? fmt::format(",{},{},{},{},{},{},{}", t.ppl.median_ppl, t.gap.gap_pct, t.gap.se_pct,
                                     t.gap_mean_pct, t.kl.mean, t.kl.p99, t.kl.top1)
                       : std::string(",,,,,,,");
    }
    csv += "\n";
  }
  return csv;
}

// A line series with its style; the per-point labels stay empty.
PlotSeries series(std::string label, bool right_axis = false, std::string color = "", bool dashed = false) {
  PlotSeries s;
  s.label = std::move(label);
  s.right_axis = right_axis;
  s.color = std::move(color);
  s.dashed = dashed;
  return s;
}

std::string make_plot(const std::vector<Row>& rows, const std::vector<QConfig>& configs, const DriftVerdict* v) {
  LinePlot p;
  const bool steps = std::all_of(rows.begin(), rows.end(), [](const Row& r) { return r.step > 0; });
  p.log_x = steps;
  p.x_label = steps ? "training step (log scale)" : "checkpoint";
  const bool text = !rows.empty() && rows[0].has_text;
  if (text) {
    p.title = "squint drift: quantization gap vs training step";
    p.y_label = "PPL gap of the quantized model (%)";
    p.y2_label = "float median PPL";
    for (std::size_t ci = 0; ci < configs.size(); ++ci) {
      PlotSeries s = series("gap " + cfg_name(configs[ci]) + " (median PPL, %)");
      for (std::size_t i = 0; i < rows.size(); ++i) {
        s.x.push_back(x_of(rows[i], i));
        s.y.push_back(rows[i].text[ci].valid ? rows[i].text[ci].gap.gap_pct : NAN);
      }
      p.series.push_back(s);
    }
    PlotSeries f = series("float median PPL", true, "#555555", true);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      f.x.push_back(x_of(rows[i], i));
      f.y.push_back(rows[i].float_ppl.median_ppl);
    }
    p.series.push_back(f);
    if (v && v->divergence) p.marks.push_back({x_of(rows[v->at], v->at), "phase 3"});
  } else {
    p.title = "squint drift: data-free measures";
    p.y_label = "median SQNR (dB)";
    p.y2_label = "grid alignment (0.25 = chance)";
    for (std::size_t ci = 0; ci < configs.size(); ++ci) {
      PlotSeries s = series("median SQNR " + cfg_name(configs[ci]));
      PlotSeries a = series("alignment " + cfg_name(configs[ci]), true, "", true);
      for (std::size_t i = 0; i < rows.size(); ++i) {
        s.x.push_back(x_of(rows[i], i));
        s.y.push_back(rows[i].m.configs[ci].sqnr_median);
        a.x.push_back(x_of(rows[i], i));
        a.y.push_back(rows[i].m.configs[ci].alignment.mean());
      }
      p.series.push_back(s);
      p.series.push_back(a);
    }
  }
  return render_line_plot_svg(p);
}

int run_drift(const DriftCmd& o) {
  const std::vector<QConfig> configs = parse_configs(o.configs);
  if (o.band <= 0 || o.band >= 0.5) fail("--band must be in (0, 0.5) grid units");
  if (o.fail_on_divergence && o.text.empty()) fail("--fail-on-divergence needs --text (the gap is measured on text)");
  for (const auto& f : {o.out.file, o.csv, o.plot})
    if (!f.empty()) check_writable_parent(f);
  for (const auto& c : o.checkpoints) expect_float_model(c);
  if (!o.text.empty() && !path_exists(o.text)) fail(o.text + ": no such text file");
  std::vector<std::size_t> order(o.checkpoints.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (!o.keep_order) order = checkpoint_order(o.checkpoints);

  DriftOptions dopt;
  dopt.configs = configs;
  dopt.band = o.band;
  dopt.f32_out_dtype = *parse_float_dtype_name(o.dtype);
  const ParallelFor pf = make_thread_pool(global_options().threads);
  dopt.parallel = pf;

  // The text is tokenized once (every checkpoint of a series shares the tokenizer of the first).
  EvalWindows windows;
  if (!o.text.empty())
    windows = load_eval_windows(o.text, o.tokenizer.empty() ? model_dir(o.checkpoints[order[0]]) : o.tokenizer,
                                window_length(o.seq_len, o.checkpoints, "--seq-len"), o.samples, o.seed);

  // One checkpoint at a time: only the current model is in memory.
  std::vector<Row> rows;
  const bool show = !global_options().quiet;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::string& path = o.checkpoints[order[k]];
    const std::string label = fmt::format("drift {}/{}", k + 1, order.size());
    Row r;
    r.path = path;
    r.step = step_from_path(path);
    Checkpoint ck = open_model(path);
    r.fingerprint = ck.fingerprint;
    Analysis a;
    {
      Progress prog(label + " analyse", show);
      dopt.progress = [&](const AnalyzeProgress& p) {
        prog.update(p.tensors_done, p.tensors_total, p.bytes_done, p.current ? *p.current : "");
      };
      r.m = measure_drift(ck, dopt, &a);
    }
    if (r.m.tensors == 0) fail(path + ": no measurable weight tensor for " + o.configs);
    if (!o.text.empty()) evaluate_text(o, path, ck, a, windows, pf, label, &r);
    rows.push_back(std::move(r));
  }

  std::optional<DriftVerdict> verdict;
  if (!o.text.empty()) {
    std::vector<DriftPoint> pts;
    for (const Row& r : rows) {
      if (!r.text[0].valid) fail(r.path + ": no tensor can take " + cfg_name(configs[0]) + ", so there is no gap to follow");
      pts.push_back({r.float_ppl.median_ppl, r.text[0].gap.gap_pct, r.text[0].gap.se_pct});
    }
    verdict = drift_verdict(pts, o.verdict);
  }

  nlohmann::json cj = nlohmann::json::array();
  for (QConfig c : configs) cj.push_back({{"bits", c.bits}, {"group_size", c.group}});
  nlohmann::json doc = {{"format", kDriftFormat}, {"version", kDriftVersion}, {"configs", cj},
                        {"band", o.band},         {"dtype", o.dtype},         {"kurtosis_group", dopt.kurtosis_group}};
  if (!o.text.empty())
    doc["text"] = {{"file", o.text},
                   {"seq_len", windows.seq_len},
                   {"samples", o.samples},
                   {"seed", o.seed},
                   {"windows", windows.chosen.size()},
                   {"windows_in_text", windows.count},
                   {"bootstrap_resamples", o.resamples}};
  else
    doc["text"] = nullptr;
  doc["rows"] = nlohmann::json::array();
  for (std::size_t i = 0; i < rows.size(); ++i) doc["rows"].push_back(row_json(rows[i], i ? &rows[i - 1] : nullptr, o.band));
  if (verdict) {
    const DriftVerdict& v = *verdict;
    doc["verdict"] = {{"evaluated", true},
                      {"config", cj[0]},
                      {"divergence", v.divergence},
                      {"reason", v.reason},
                      {"rule", {{"ppl_tolerance", o.verdict.ppl_tolerance}, {"min_rise_pp", o.verdict.min_rise_pp},
                                {"rel_rise", o.verdict.rel_rise}, {"z", o.verdict.z}}}};
    if (v.divergence) {
      auto st = [&](std::size_t i) { return rows[i].step >= 0 ? nlohmann::json(rows[i].step) : nlohmann::json(nullptr); };
      doc["verdict"]["step"] = st(v.at);
      doc["verdict"]["checkpoint"] = rows[v.at].path;
      doc["verdict"]["gap_min_step"] = st(v.gap_min);
      doc["verdict"]["rise_pp"] = v.rise_pp;
      doc["verdict"]["margin_pp"] = v.margin_pp;
      doc["verdict"]["confirmed"] = v.confirmed;
    }
  } else {
    doc["verdict"] = {{"evaluated", false}, {"divergence", nullptr}, {"reason", "needs --text (the gap is measured on text)"}};
  }

  if (human_stdout(o.out)) print_table(rows, configs, verdict ? &*verdict : nullptr);
  emit_document(o.out, doc);
  if (!o.csv.empty()) {
    write_file_atomic(o.csv, make_csv(rows, configs));
    note_wrote(o.csv);
  }
  if (!o.plot.empty()) {
    write_file_atomic(o.plot, make_plot(rows, configs, verdict ? &*verdict : nullptr));
    note_wrote(o.plot);
  }
  return verdict && verdict->divergence && o.fail_on_divergence ? 1 : 0;
}

RegisterCommand reg_drift("drift", 75, [](CLI::App& app) {
  auto o = std::make_shared<DriftCmd>();
  app.description("quantization drift along training checkpoints: SQNR, grid alignment, kurtosis; with --text the "
                  "low-bit PPL gap, KL and the phase-3 verdict");
  always(app.add_option("CKPT_DIR", o->checkpoints, "checkpoint folders (sorted by the step number in their names)")
             ->required());
  always(app.add_option("--configs", o->configs,
                        "uniform configs BITS/GROUP, comma-separated; the verdict follows the first")
             ->capture_default_str());
  always(app.add_option("--text", o->text, "evaluation text: float PPL, gaps and KL per checkpoint, and the verdict"));
  only_with(
      app.add_option("--seq-len", o->seq_len, std::string("window length in tokens (") + kSeqLenDefaultHelp + ")"),
      given("--text"));
  only_with(app.add_option("--samples", o->samples, "evaluate K windows drawn with the seed (0 = all)")
                ->capture_default_str(),
            given("--text"));
  only_with(app.add_option("--seed", o->seed, "window sampling and bootstrap seed")->capture_default_str(),
            given("--text"));
  only_with(app.add_option("--tokenizer", o->tokenizer, "folder with the tokenizer (default: the first checkpoint's)"),
            given("--text"));
  only_with(app.add_option("--bootstrap", o->resamples, "bootstrap resamples for the gap's standard error")
                ->capture_default_str(),
            given("--text"));
  only_with(app.add_flag("--fail-on-divergence", o->fail_on_divergence,
                         "exit 1 when the verdict finds divergence (needs --text)"),
            given("--text"));
  only_with(app.add_option("--ppl-tolerance", o->verdict.ppl_tolerance,
                           "verdict: float PPL within this fraction of its best = plateau")
                ->capture_default_str(),
            given("--text"));
  only_with(
      app.add_option("--min-rise", o->verdict.min_rise_pp, "verdict: smallest gap rise that counts (percentage points)")
          ->capture_default_str(),
      given("--text"));
  always(app.add_option("--band", o->band, "half-width (grid units) of the rounding-boundary band")
             ->capture_default_str());
  always(app.add_option("--dtype", o->dtype, "dtype F32 tensors are written as (as in analyze)")
             ->check(CLI::IsMember({"float16", "bfloat16", "float32"}))
             ->capture_default_str());
  add_output_options(app, o->out, "the drift report");
  always(app.add_option("--csv", o->csv, "write one CSV line per checkpoint"));
  always(app.add_option("--plot", o->plot,
                        "write an SVG plot (gap vs step with float PPL; data-free measures without --text)"));
  always(app.add_flag("--keep-order", o->keep_order, "report checkpoints in the order given (no sort by step)"));
  return [o] { return run_drift(*o); };
});

}  // namespace

}  // namespace squint
