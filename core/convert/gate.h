#pragma once
// The SQNR gate: every quantized tensor of an MLX model is dequantized and compared with the original
// float tensor; the verdict is "every tensor >= floor". Errors are summed exactly as the analysis sums them
// (same chunks, same order), so the gate's SQNR of a squint-written tensor equals the plan's sqnr_db.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/analysis.h"
#include "io/checkpoint.h"
#include "io/mlx_model.h"
#include "plan/plan.h"
#include "util/parallel.h"

namespace squint {

struct GateTensor {
  std::string name;        // the original tensor's name
  QConfig config;
  uint64_t params = 0;
  double nrmse = 0;
  double sqnr_db = 0;
  bool below = false;
};

struct GateReport {
  std::string source;      // "model" (measured) or "plan" (predicted)
  double floor_db = 9.0;
  std::vector<GateTensor> tensors;  // quantized tensors, original order
  std::size_t kept = 0;             // tensors stored in float
  std::size_t below = 0;
  double min_db = 0;
  bool pass() const { return below == 0; }
};

// Measured verdict. Throws squint::Error (exit 2) when the models do not correspond: a tensor missing on
// either side, a logical shape mismatch, an unreadable value. `progress` gets (tensors done, total).
GateReport gate_models(const Checkpoint& original, const MlxModel& quantized, double floor_db, const ParallelFor& pf,
                       const std::function<void(std::size_t, std::size_t)>& progress = {});

// Predicted verdict from a plan's sqnr_db values (the plan must match `original`'s fingerprint).
GateReport gate_plan(const Checkpoint& original, const Plan& plan, double floor_db);

// Worst first.
std::vector<const GateTensor*> worst_tensors(const GateReport& r, std::size_t n);
nlohmann::json gate_report_json(const GateReport& r);

// The pieces every gate shares (MLX here, GGUF in gguf_gate.cpp), so that both sum alike.
GateReport new_gate_report(const std::string& source, double floor_db);
// Appends one quantized tensor's result and updates the verdict (below-floor count, minimum).
void add_gate_tensor(GateReport& r, const std::string& name, QConfig config, uint64_t params, const ErrorSummary& e);

// (Σ ref², Σ err²) of rows [r0, r1) given the original's rows as float (`ref`); false on a NaN/Inf in the
// dequantized values. Called from `pf`'s threads, one chunk each.
using GateChunkSums = std::function<bool(uint64_t r0, uint64_t r1, const float* ref, std::pair<double, double>* sums)>;
// Reads tensor `t` of `original` chunk by chunk in the analysis's order (plan_chunks), hands each chunk to
// `sums` and summarizes as the analysis does. Fails with "<where>: NaN or Inf ..." if either side is not
// finite.
ErrorSummary gate_tensor_chunks(const Checkpoint& original, const TensorInfo& t, const ParallelFor& pf,
                                const GateChunkSums& sums, const std::string& where);

// (Σ ref², Σ (ref − deq)²) over a [rows, cols] block, summed exactly as measure_rows() sums them: the
// signal in its 32-element blocks, the error one float sum per group added to a double in group order.
std::pair<double, double> block_signal_error(const float* ref, const float* deq, std::size_t rows, std::size_t cols,
                                             int group);

}  // namespace squint
