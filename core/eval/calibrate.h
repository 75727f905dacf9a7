#pragma once
// Calibration (issue 14, opt-in and labelled: it breaks data-free on purpose): the forward pass over a few
// windows of text collects each linear layer's per-input-column second moments E[x_j²], as llama.cpp's
// importance matrix does; `analyze --calibrate TEXT` then measures the activation-weighted error of every
// config with them (analysis/column_weights.h), for the `calibrated` objective.
#include <functional>
#include <string>

#include "analysis/column_weights.h"
#include "eval/evaluate.h"
#include "model/model.h"

namespace squint {

// Mean x_j² per site over every token of the chosen windows (windows in parallel, summed in window order:
// the result does not depend on the thread count). `source` is recorded in the analysis.
ColumnWeights calibrate_column_weights(const Model& model, const EvalWindows& windows, const ParallelFor& pf,
                                       const std::string& source);

// Σ x_j² of every linear's input over the chosen windows (windows in parallel, summed in window order: the
// result does not depend on the thread count). What calibration and `squint imatrix` collect.
// `progress(done, total)` after each window (from the worker threads).
InputMoments collect_input_moments(const Model& model, const EvalWindows& windows, const ParallelFor& pf,
                                   const std::function<void(std::size_t, std::size_t)>& progress = {});

// The weights from summed moments (exposed for tests).
ColumnWeights column_weights_from_moments(const InputMoments& m, const std::string& source);

}  // namespace squint
