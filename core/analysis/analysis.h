#pragma once
// The analysis stage: every weight tensor measured under every candidate (bits, group size).
// This struct (and its JSON form, analysis/analysis_json.h) is what the planner, the CLI and the page share.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/column_weights.h"
#include "analysis/importance.h"
#include "analysis/roles.h"
#include "io/checkpoint.h"
#include "quant/affine.h"
#include "util/parallel.h"

namespace squint {

constexpr const char* kAnalysisFormat = "squint.analysis";
constexpr int kAnalysisVersion = 1;
// SQNR of an error-free config (constant or all-zero tensors); JSON has no infinity.
constexpr double kMaxSqnrDb = 300.0;

struct ConfigResult {
  QConfig config;
  double nrmse = 0;    // ‖W − Ŵ‖/‖W‖ (3-D expert stacks: mean over experts)
  double sqnr_db = 0;  // −20·log10(nrmse) (3-D expert stacks: minimum over experts)
  uint64_t bytes = 0;  // packed codes + scales + biases
  // Column-weighted NRMSE (analysis/column_weights.h) when the analysis was made with column weights
  // (Analysis::column_weighting); -1 otherwise. Tensors with no weights of their own get their plain NRMSE.
  double weighted_nrmse = -1;
};

struct InvalidConfig {
  QConfig config;
  std::string reason;
};

struct TensorAnalysis {
  std::string name;
  std::vector<int64_t> shape;
  DType dtype = DType::F32;   // source dtype
  DType out_dtype = DType::F32;  // dtype of scales/biases and of the kept tensor in the output
  uint64_t params = 0;
  uint64_t bytes = 0;         // source bytes
  TensorRole role;
  bool measured = false;
  std::string reason;         // why not measured (1-D, dtype, NaN/Inf, no valid config)
  uint64_t keep_bytes = 0;    // kept in out_dtype
  double keep_nrmse = 0;      // error of the cast alone (0 unless F32 is written as F16/BF16)
  double keep_sqnr_db = kMaxSqnrDb;
  std::vector<ConfigResult> results;
  std::vector<InvalidConfig> invalid;
  nlohmann::json features;    // optional sensitivity features (null when not computed)

  const ConfigResult* find(QConfig c) const {
    for (const auto& r : results)
      if (r.config == c) return &r;
    return nullptr;
  }
};

struct Analysis {
  QFormat format = QFormat::Mlx;     // which candidates: MLX affine (bits, group) or GGUF types
  std::string fingerprint;
  std::string location;
  std::vector<std::string> files;
  DType f32_out_dtype = DType::F16;  // what F32 tensors are written as
  std::vector<QConfig> configs;
  int num_layers = -1;
  bool tied_embeddings = false;
  int num_experts = 0;
  uint64_t total_params = 0;
  uint64_t total_bytes = 0;
  // "" (data-free, plain NRMSE only), "norm" (γ²-weighted, data-free) or "calibrated" (activation-weighted
  // from text: not data-free); see analysis/column_weights.h. source says what calibration text was used.
  std::string column_weighting, column_weighting_source;
  // The importance matrix the GGUF candidates were quantized with (empty: none); see analysis/importance.h.
  ImatrixRef imatrix;
  std::vector<TensorAnalysis> tensors;
};

struct AnalyzeProgress {
  std::size_t tensors_done = 0, tensors_total = 0;
  uint64_t bytes_done = 0, bytes_total = 0;
  const std::string* current = nullptr;
};

struct AnalyzeOptions {
  // All of one format: all_configs() (MLX) or all_gguf_configs() (GGUF, with format = Gguf).
  std::vector<QConfig> configs = all_configs();
  QFormat format = QFormat::Mlx;
  DType f32_out_dtype = DType::F16;
  ParallelFor parallel = serial();
  std::function<void(const AnalyzeProgress&)> progress;  // called after each tensor
  std::function<bool()> cancelled;                       // polled between tensors
  // Column weights for the weighted error (null: none); must outlive the analysis.
  const ColumnWeights* column_weights = nullptr;
  // Importance weights for the GGUF quantizers, as llama-quantize --imatrix passes them (null: none); must
  // outlive the analysis. MLX's affine quantizer has no importance weights: with format Mlx it is only recorded.
  const ModelImatrix* imatrix = nullptr;
  // Extension point for sensitivity features (filled by analysis/features when requested).
  std::function<void(const Checkpoint&, const TensorInfo&, TensorAnalysis&)> per_tensor_hook;
};

// The dtype a tensor is written in when kept (and the dtype of its scales/biases when quantized).
DType output_dtype_for(DType src, DType f32_out_dtype);

// Measures one tensor, reading it chunk by chunk from the checkpoint (memory bounded by the chunk, not
// the tensor). Work is split into chunks that depend only on the shape, so results do not depend on
// the thread count.
TensorAnalysis analyze_tensor(const Checkpoint& ck, const TensorInfo& t, const AnalyzeOptions& opt);

Analysis analyze_checkpoint(const Checkpoint& ck, const AnalyzeOptions& opt);

// How a tensor is cut into chunks: ~64K elements, never straddling two experts of a 3-D stack, fixed by
// the shape alone. The analysis and the gate both sum errors chunk by chunk in this order, which is why
// the gate's SQNR equals the plan's to the last digit.
struct ChunkPlan {
  uint64_t cols = 0, rows_per_expert = 0, experts = 0, rows_per_chunk = 0, chunks_per_expert = 0;
  std::size_t chunks() const { return static_cast<std::size_t>(experts * chunks_per_expert); }
  // Rows [r0, r1) of chunk ci.
  void rows(std::size_t ci, uint64_t* r0, uint64_t* r1) const;
};
ChunkPlan plan_chunks(const std::vector<int64_t>& shape);

// NRMSE/SQNR from per-chunk (Σ ref², Σ err²) sums in chunk order; expert stacks: mean NRMSE, min SQNR.
struct ErrorSummary {
  double nrmse = 0, sqnr_db = 0;
};
ErrorSummary summarize_chunks(const std::vector<std::pair<double, double>>& sums, const ChunkPlan& plan);

// Rounds a measured value so that native and wasm builds (different libm) agree to the byte.
double canonical_nrmse(double x);
double canonical_db(double x);
double sqnr_db_from(double signal, double err);

}  // namespace squint
