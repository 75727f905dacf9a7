#include "model_input.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "analysis/analysis_json.h"
#include "command.h"
#include "eval/calibrate.h"
#include "eval_model.h"
#include "file_source.h"
#include "input_kind.h"
#include "io/file_kind.h"
#include "output.h"
#include "parallel.h"
#include "plan/options.h"
#include "progress.h"
#include "util/error.h"

namespace squint {

namespace {
CLI::Option* when(CLI::Option* opt, const std::vector<Mode>& needs) {
  always(opt);
  for (const Mode& m : needs) only_with(opt, m);
  return opt;
}
}  // namespace

void add_analyze_options(CLI::App& app, AnalyzeCli& o, bool with_features, bool with_filters,
                         const std::vector<Mode>& needs) {
  when(app.add_option("--dtype", o.dtype, "dtype F32 tensors are written as (scales/biases and kept tensors)")
           ->check(CLI::IsMember({"float16", "bfloat16", "float32"}))
           ->capture_default_str(),
       needs);
  when(app.add_option("--format", o.format,
                      "candidates: mlx (affine bits/group) or gguf (ggml's Q4_0..Q8_0, Q2_K..Q6_K, IQ4_NL, IQ4_XS, "
                      "IQ3_S; with --imatrix also IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS)")
           ->check(CLI::IsMember({"mlx", "gguf"}))
           ->capture_default_str(),
       needs);
  if (with_filters) {
    when(app.add_option("--bits", o.bits, "candidate bit widths (default 2,3,4,5,6,8; GGUF: the types' nominal bits)")
             ->delimiter(',')
             ->check(CLI::IsMember({2, 3, 4, 5, 6, 8})),
         needs);
    when(app.add_option("--group-sizes", o.groups, "candidate group sizes (default 32,64,128; GGUF blocks: 32,256)")
             ->delimiter(',')
             ->check(CLI::IsMember({32, 64, 128, 256})),
         needs);
  }
  if (with_features) when(app.add_flag("--features", o.features, "also compute sensitivity features (slower)"), needs);
}

void add_column_weight_options(CLI::App& app, AnalyzeCli& o, const std::vector<Mode>& needs) {
  auto* nw = when(
      app.add_flag("--norm-weights", o.norm_weights,
                   "also measure each config's error weighted by the feeding RMSNorm's γ² (objective norm; data-free)"),
      needs);
  auto* cal =
      when(app.add_option("--calibrate", o.calibrate,
                          "TEXT: also measure activation-weighted errors from a forward pass on TEXT (objective "
                          "calibrated; not data-free)"),
           needs);
  nw->excludes(cal);
  only_with(when(app.add_option("--calibrate-samples", o.calibrate_samples, "calibration windows sampled from TEXT")
                     ->check(CLI::PositiveNumber)
                     ->capture_default_str(),
                 needs),
            given("--calibrate"));
  only_with(when(app.add_option("--calibrate-seq-len", o.calibrate_seq_len,
                                std::string("calibration window length in tokens (") + kSeqLenDefaultHelp + ")")
                     ->check(CLI::Range(2, 1 << 20)),
                 needs),
            given("--calibrate"));
}

CLI::Option* add_imatrix_option(CLI::App& app, std::string& file, const std::vector<Mode>& needs) {
  return when(app.add_option("--imatrix", file,
                             "llama.cpp importance matrix (imatrix.gguf or .dat, from `squint imatrix` or "
                             "llama-imatrix): GGUF types are quantized with it as llama-quantize --imatrix does, and "
                             "it weights the `calibrated` objective"),
              needs);
}

ModelImatrix load_model_imatrix(const std::string& file, const Checkpoint& ck) {
  FileSource f(file);
  const Imatrix m = read_imatrix(f);
  return match_imatrix(m, imatrix_ref_of(m, file, f), ck);
}

AnalyzeOptions make_analyze_options(const AnalyzeCli& o, const std::string&) {
  AnalyzeOptions opt;
  opt.f32_out_dtype = *parse_float_dtype_name(o.dtype);
  opt.configs.clear();
  opt.format = o.format == "gguf" ? QFormat::Gguf : QFormat::Mlx;
  check_config_filters(o.bits, o.groups, opt.format, !o.imatrix.empty());
  for (QConfig c : opt.format == QFormat::Gguf ? all_gguf_configs(!o.imatrix.empty()) : all_configs()) {
    bool bok = o.bits.empty() || std::find(o.bits.begin(), o.bits.end(), c.bits) != o.bits.end();
    bool gok = o.groups.empty() || std::find(o.groups.begin(), o.groups.end(), c.group) != o.groups.end();
    if (bok && gok) opt.configs.push_back(c);
  }
  if (opt.configs.empty()) fail("--bits/--group-sizes leave no " + o.format + " candidate to measure");
  opt.parallel = make_thread_pool(global_options().threads);
  return opt;
}

bool is_analysis_file(const std::string& path) {
  if (is_directory(path)) return false;
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0 &&
         path.find("model.safetensors.index.json") == std::string::npos;
}

namespace {
ColumnWeights calibrate(const Checkpoint& ck, const AnalyzeCli& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string dir = model_dir(ck.location);
  auto model = load_model(dir);
  const EvalWindows w = load_eval_windows(
      o.calibrate, dir, window_length(o.calibrate_seq_len, dir, "--calibrate-seq-len"), o.calibrate_samples, 42);
  const ParallelFor pool = make_thread_pool(global_options().threads);
  std::string text = o.calibrate;
  if (auto p = text.find_last_of('/'); p != std::string::npos) text = text.substr(p + 1);
  const std::string source = fmt::format("{}: {} windows of {} tokens, seed 42", text, w.chosen.size(), w.seq_len);
  ColumnWeights cw = calibrate_column_weights(*model, w, pool, source);
  note(fmt::format("calibrated on {} ({:.1f} s)", source,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
  return cw;
}
}  // namespace

Analysis run_analysis(const Checkpoint& ck, const AnalyzeCli& o, const AnalysisDriver& drive) {
  AnalyzeOptions opt = make_analyze_options(o, "analyze");
  auto prog = std::make_shared<Progress>("analyze", !global_options().quiet);
  opt.progress = [prog](const AnalyzeProgress& p) {
    prog->update(p.tensors_done, p.tensors_total, p.bytes_done, p.current ? *p.current : "");
  };
  if (o.features) {
    opt.per_tensor_hook = make_feature_hook(ck);
  }
  ColumnWeights cw;
  ModelImatrix mi;
  if (!o.imatrix.empty()) {
    mi = load_model_imatrix(o.imatrix, ck);
    opt.imatrix = &mi;
    note(fmt::format("imatrix {}: {} of the model's tensors have importance weights", mi.ref.describe(),
                     mi.weights.size()));
  }
  if (o.norm_weights) {
    cw = norm_column_weights(ck);
    opt.column_weights = &cw;
  } else if (!o.calibrate.empty()) {
    cw = calibrate(ck, o);
    opt.column_weights = &cw;
  } else if (opt.imatrix) {
    cw = column_weights_from_imatrix(mi);
    opt.column_weights = &cw;
  }
  Analysis a = drive ? drive(opt) : analyze_checkpoint(ck, opt);
  prog->finish();
  return a;
}

const Analysis& read_analysis_file(const std::string& path) {
  static std::map<std::string, Analysis> cache;
  auto it = cache.find(path);
  if (it == cache.end()) {
    const std::string text = read_text_file(path);
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded() && !(j.is_object() && j.value("format", "") == "squint.analysis"))
      fail(path + " is " + describe_json(j) + "; " + global_options().verb +
           " takes a model (folder or .safetensors) or an analysis.json from squint analyze");
    it = cache.emplace(path, parse_analysis(text, path)).first;
  }
  return it->second;
}

QFormat input_format(const std::string& path, const AnalyzeCli& o) {
  if (is_analysis_file(path)) return read_analysis_file(path).format;
  return o.format == "gguf" ? QFormat::Gguf : QFormat::Mlx;
}

Modes plan_input_modes(const std::string& path, const AnalyzeCli& o) {
  const bool file = is_analysis_file(path);
  const bool gguf = input_format(path, o) == QFormat::Gguf;
  Modes m;
  m.set(mode::model, !file).set(mode::gguf, gguf).set(mode::mlx, !gguf);
  m.what =
      file ? path + " is " + (gguf ? "a GGUF" : "an MLX") + " analysis (analysis options belong to squint analyze)"
           : path + " is analysed here with " + (gguf ? "GGUF types (--format gguf)" : "MLX configs (--format mlx)");
  return m;
}

Analysis load_or_analyze(const std::string& path, const AnalyzeCli& o) {
  if (is_analysis_file(path)) {
    const Analysis& a = read_analysis_file(path);
    if (!o.imatrix.empty())
      fail("--imatrix goes with a model (the analysis is measured with it); " + path + " was made " +
           (a.imatrix.empty() ? std::string("without an imatrix") : "with " + a.imatrix.describe()));
    return a;
  }
  expect_float_model(path);
  Checkpoint ck = open_model(path);
  for (const auto& w : ck.warnings)
    if (!global_options().quiet) std::fprintf(stderr, "squint: warning: %s\n", w.c_str());
  return run_analysis(ck, o);
}

}  // namespace squint
