#pragma once
// The analysis as a run of per-tensor steps, so that every face drives the same code.
#include <functional>
#include <optional>
#include <vector>

#include "analysis/analysis.h"

namespace squint {

// The one analysis pipeline every face drives (the CLI's threads, the page's workers, tests):
//   AnalysisRun run(ck, opt);          // begin: the document's header, built once from the checkpoint
//   run.step(i) / run.put(i, ta);      // per tensor, any order; step() is safe from several threads at
//                                      // once for distinct i (measure() is const and reads a const source)
//   Analysis a = run.finish();         // every tensor, in checkpoint order
// The checkpoint must outlive the run.
class AnalysisRun {
 public:
  AnalysisRun(const Checkpoint& ck, AnalyzeOptions opt);
  // The analysis without tensors (fingerprint, files, configs, model shape, totals).
  const Analysis& header() const { return header_; }
  std::size_t size() const { return slots_.size(); }
  // Measures tensor i (and runs the per-tensor hook) without recording it.
  TensorAnalysis measure(std::size_t i) const;
  // Measures tensor i and records it.
  void step(std::size_t i) { put(i, measure(i)); }
  // Records a tensor measured elsewhere (another worker's run over the same checkpoint); its name must
  // be tensor i's.
  void put(std::size_t i, TensorAnalysis ta);
  bool has(std::size_t i) const { return i < slots_.size() && slots_[i].has_value(); }
  // The serial driver: measures every tensor of `indices` not yet recorded, in that order, with the
  // options' progress (tensors already recorded count as done) and cancellation; `measured(i, ta)` is called
  // after each, before it is recorded (the CLI journals it there).
  void run(const std::vector<std::size_t>& indices,
           const std::function<void(std::size_t, const TensorAnalysis&)>& measured = {});
  // The analysis in tensor order; throws squint::Error if a tensor was never stepped or put.
  Analysis finish();
  // The header with only the tensors of `indices` (ascending): a part's analysis.
  Analysis finish_subset(const std::vector<std::size_t>& indices);

 private:
  const Checkpoint& ck_;
  AnalyzeOptions opt_;
  Analysis header_;
  std::vector<std::optional<TensorAnalysis>> slots_;
};

// analyze_checkpoint (analysis.h) is run() over every tensor; the CLI's threads work inside each tensor
// through opt.parallel.

}  // namespace squint
