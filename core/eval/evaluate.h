#pragma once
// Evaluating a model on text, the articles' way (method.md §6) plus llama.cpp's KL statistics:
// token ids → non-overlapping windows of seq_len → seeded sample → per-window NLL; and, against a base
// (float) model, per-token KL(base ‖ model) over the same windows. Shared by `eval`, `sweep` and the
// drift study, so every number they print comes from one protocol.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/model.h"
#include "eval/perplexity.h"
#include "util/parallel.h"

namespace squint {

// The windows of one text: ids (BOS already prepended when the tokenizer wants it), cut into `count`
// windows of seq_len tokens; `chosen` = the sampled ones (sample_windows), ascending.
struct EvalWindows {
  std::vector<int> ids;
  std::size_t seq_len = 0;
  std::size_t count = 0;
  std::vector<std::size_t> chosen;
  int samples = 0;
  uint64_t seed = 42;
  std::vector<int> tokens(std::size_t k) const;  // the tokens of chosen[k]
};
// Throws squint::Error (naming `source`) when seq_len < 2 or the text holds less than one window.
EvalWindows make_windows(std::vector<int> ids, int seq_len, int samples, uint64_t seed, const std::string& source);

// KL(base ‖ model) per predicted token, natural log (nats); llama.cpp perplexity --kl-divergence's figures.
struct KlStats {
  double mean = 0, median = 0, p99 = 0, max = 0;
  double top1 = 0;             // fraction of tokens where both models' argmax agree
  double base_mean_ppl = 0, base_median_ppl = 0;
  double d_mean_ppl = 0, d_median_ppl = 0;  // model − base, relative (%)
  std::size_t tokens = 0;
};

// The base model's side of a KL evaluation: its per-window NLL and, when they fit in `cache_bytes`, its
// log-softmax for every window (tokens × vocab floats), so a sweep of many models against one base does
// not recompute the base. Without the cache the base is recomputed per window (same numbers, bit for bit).
class EvalBase {
 public:
  EvalBase(const Model& model, const EvalWindows& w, const ParallelFor& pf,
           const std::function<void(std::size_t done, std::size_t total)>& progress = {},
           uint64_t cache_bytes = 1ull << 30);
  const Model& model() const { return model_; }
  const std::vector<WindowResult>& windows() const { return nll_; }
  bool cached() const { return !logp_.empty(); }
  // Log-softmax of window k ([(seq_len−1) × vocab], row-major): from the cache or recomputed into `tmp`.
  const std::vector<float>& log_probs(std::size_t k, std::vector<float>& tmp) const;

 private:
  const Model& model_;
  const EvalWindows& w_;
  std::vector<WindowResult> nll_;
  std::vector<std::vector<float>> logp_;
};

struct EvalResult {
  std::vector<WindowResult> windows;  // per chosen window, in `chosen` order
  PplStats ppl;
  bool has_kl = false;
  KlStats kl;
  std::vector<float> token_kl;        // per predicted token, window by window (empty without a base)
};

// Evaluates `model` on the chosen windows (spread over `pf`; results do not depend on the thread count).
// `progress` gets (windows done, total) and may be called from pf's threads. With `base`, also KL.
EvalResult evaluate(const Model& model, const EvalWindows& w, const ParallelFor& pf,
                    const std::function<void(std::size_t done, std::size_t total)>& progress = {},
                    const EvalBase* base = nullptr);

// Log-softmax of the logits of tokens[0..T−2] (the predictions of tokens 1..T−1) and the window's total
// NLL, computed exactly as Model::nll does. Exposed for tests.
double window_log_probs(const Model& model, const std::vector<int>& tokens, std::vector<float>* logp);

// KL statistics from per-token values and the two runs' windows (exposed for tests).
KlStats kl_stats(const std::vector<float>& token_kl, std::size_t top1_agree, const std::vector<WindowResult>& base,
                 const std::vector<WindowResult>& model);
nlohmann::json kl_json(const KlStats& k);

}  // namespace squint
