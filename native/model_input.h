#pragma once
// Verbs that accept MODEL_OR_ANALYSIS (plan, curve, gate --plan, the page's JSON) load it through here:
// an analysis.json is read, anything else is opened as a checkpoint and analysed first.
#include <CLI/CLI.hpp>
#include <string>

#include "analysis/analysis.h"
#include "applies.h"

namespace squint {

struct AnalyzeCli {
  std::string dtype = "float16";     // what F32 tensors are written as
  std::string format = "mlx";        // candidates: mlx (affine bits/group) | gguf (the 12 ggml types)
  std::vector<int> bits;             // restrict candidate bits (empty = all)
  std::vector<int> groups;           // restrict group sizes (empty = all)
  bool features = false;
  // Column weights for the weighted error (objectives norm / calibrated): analysis/column_weights.h.
  bool norm_weights = false;
  std::string calibrate;  // calibration text file (empty: none)
  int calibrate_samples = 32, calibrate_seq_len = 0;  // 0: the model's context, at most 2048
  // llama.cpp importance matrix (GGUF or .dat): the GGUF quantizers use it, and it gives the `calibrated`
  // column weights unless --norm-weights/--calibrate says otherwise (analysis/importance.h).
  std::string imatrix;
};

// Adds --dtype/--format/--bits/--group-sizes(/--features) to a verb.
// with_filters = false for verbs that restrict configs themselves (plan: --bits applies to the plan).
// `needs`: modes in which these options apply (applies.h), e.g. {mode::model} for plan and curve, which
// analyse only when given a model; empty = always.
void add_analyze_options(CLI::App& app, AnalyzeCli& o, bool with_features, bool with_filters = true,
                         const std::vector<Mode>& needs = {});
// Adds --norm-weights / --calibrate TEXT (+ --calibrate-samples/--calibrate-seq-len, which apply only with
// --calibrate): analyze, plan, sweep.
void add_column_weight_options(CLI::App& app, AnalyzeCli& o, const std::vector<Mode>& needs = {});
// Adds --imatrix FILE (analyze, plan, quantize), applying in the modes `needs`.
CLI::Option* add_imatrix_option(CLI::App& app, std::string& file, const std::vector<Mode>& needs = {});
// Reads an imatrix file and matches it to the checkpoint (throws naming the file when it is for another model).
ModelImatrix load_model_imatrix(const std::string& file, const Checkpoint& ck);
AnalyzeOptions make_analyze_options(const AnalyzeCli& o, const std::string& progress_label);
bool is_analysis_file(const std::string& path);
// An analysis.json, parsed once per run (a verb's mode function reads its format before the run reads it all).
const Analysis& read_analysis_file(const std::string& path);
// The candidates' format an invocation plans in: the analysis file's, else the --format a model is analysed with.
QFormat input_format(const std::string& path, const AnalyzeCli& o);
// The modes of a verb that takes MODEL_OR_ANALYSIS (plan, curve): mode::model when it analyses a model,
// mode::gguf or mode::mlx from input_format, and the input in words for a refusal.
Modes plan_input_modes(const std::string& path, const AnalyzeCli& o);
Analysis load_or_analyze(const std::string& path, const AnalyzeCli& o);
// Runs the analysis with the options `o` describes (progress bar, features, column weights); `drive`, when
// given, runs it instead of analyze_checkpoint (analyze --part/--resume: a subset, a journal).
using AnalysisDriver = std::function<Analysis(const AnalyzeOptions&)>;
Analysis run_analysis(const Checkpoint& ck, const AnalyzeCli& o, const AnalysisDriver& drive = {});

// The per-tensor hook behind --features (native/features_hook.cpp): loads each measured 2-D tensor whole,
// finds the norm that feeds it, and records the features. Called explicitly by run_analysis.
std::function<void(const Checkpoint&, const TensorInfo&, TensorAnalysis&)> make_feature_hook(const Checkpoint& model);

}  // namespace squint
