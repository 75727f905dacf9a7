#include "eval/evaluate.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace squint {

std::vector<int> EvalWindows::tokens(std::size_t k) const {
  const std::size_t w = chosen.at(k);
  return std::vector<int>(ids.begin() + static_cast<std::ptrdiff_t>(w * seq_len),
                          ids.begin() + static_cast<std::ptrdiff_t>((w + 1) * seq_len));
}

EvalWindows make_windows(std::vector<int> ids, int seq_len, int samples, uint64_t seed, const std::string& source) {
  if (seq_len < 2) fail("--seq-len must be at least 2");
  EvalWindows w;
  w.seq_len = static_cast<std::size_t>(seq_len);
  w.count = ids.size() / w.seq_len;
  if (w.count == 0)
    fail(source + ": " + std::to_string(ids.size()) + " tokens, fewer than one window of " + std::to_string(seq_len));
  w.ids = std::move(ids);
  w.samples = samples;
  w.seed = seed;
  w.chosen = sample_windows(w.count, samples, seed);
  return w;
}

double window_log_probs(const Model& model, const std::vector<int>& tokens, std::vector<float>* logp) {
  if (tokens.size() < 2) {
    if (logp) logp->clear();
    return 0;
  }
  std::vector<int> in(tokens.begin(), tokens.end() - 1);
  RowMat lg = model.logits(in);
  const Eigen::Index V = lg.cols();
  if (logp) logp->resize(static_cast<std::size_t>(lg.rows() * V));
  double total = 0;
  // The same arithmetic as Model::nll, so `eval` results stay bit-identical.
  for (Eigen::Index t = 0; t < lg.rows(); ++t) {
    const float mx = lg.row(t).maxCoeff();
    double se = 0;
    for (Eigen::Index v = 0; v < V; ++v) se += std::exp(static_cast<double>(lg(t, v) - mx));
    const double lse = std::log(se);
    total += -(static_cast<double>(lg(t, tokens[static_cast<std::size_t>(t) + 1]) - mx) - lse);
    if (logp) {
      float* row = logp->data() + t * V;
      for (Eigen::Index v = 0; v < V; ++v) row[v] = static_cast<float>(static_cast<double>(lg(t, v) - mx) - lse);
    }
  }
  return total;
}

EvalBase::EvalBase(const Model& model, const EvalWindows& w, const ParallelFor& pf,
                   const std::function<void(std::size_t, std::size_t)>& progress, uint64_t cache_bytes)
    : model_(model), w_(w) {
  const std::size_t n = w.chosen.size();
  const uint64_t need = static_cast<uint64_t>(n) * (w.seq_len - 1) * static_cast<uint64_t>(model.config().vocab) * 4;
  const bool cache = need <= cache_bytes;
  nll_.resize(n);
  if (cache) logp_.resize(n);
  std::atomic<std::size_t> done{0};
  pf(n, [&](std::size_t k) {
    std::vector<float> lp;
    const double total = window_log_probs(model, w.tokens(k), &lp);
    nll_[k] = {w.chosen[k], total / static_cast<double>(w.seq_len - 1), w.seq_len - 1};
    if (cache) logp_[k] = std::move(lp);
    const std::size_t d = ++done;
    if (progress) progress(d, n);
  });
}

const std::vector<float>& EvalBase::log_probs(std::size_t k, std::vector<float>& tmp) const {
  if (!logp_.empty()) return logp_[k];
  window_log_probs(model_, w_.tokens(k), &tmp);
  return tmp;
}

namespace {
double quantile_sorted(const std::vector<float>& v, double q) {
  if (v.empty()) return 0;
  const double pos = q * static_cast<double>(v.size() - 1);
  const std::size_t i = static_cast<std::size_t>(pos);
  const double f = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] + f * (static_cast<double>(v[i + 1]) - v[i]) : v[i];
}
}  // namespace

KlStats kl_stats(const std::vector<float>& token_kl, std::size_t top1_agree, const std::vector<WindowResult>& base,
                 const std::vector<WindowResult>& model) {
  KlStats k;
  k.tokens = token_kl.size();
  if (!token_kl.empty()) {
    double s = 0;
    for (float x : token_kl) s += x;
    k.mean = s / static_cast<double>(token_kl.size());
    std::vector<float> v = token_kl;
    std::sort(v.begin(), v.end());
    k.median = quantile_sorted(v, 0.5);
    k.p99 = quantile_sorted(v, 0.99);
    k.max = v.back();
    k.top1 = static_cast<double>(top1_agree) / static_cast<double>(token_kl.size());
  }
  const PplStats a = ppl_stats(base), b = ppl_stats(model);
  k.base_mean_ppl = a.mean_ppl;
  k.base_median_ppl = a.median_ppl;
  k.d_mean_ppl = a.mean_ppl > 0 ? 100.0 * (b.mean_ppl - a.mean_ppl) / a.mean_ppl : 0;
  k.d_median_ppl = a.median_ppl > 0 ? 100.0 * (b.median_ppl - a.median_ppl) / a.median_ppl : 0;
  return k;
}

EvalResult evaluate(const Model& model, const EvalWindows& w, const ParallelFor& pf,
                    const std::function<void(std::size_t, std::size_t)>& progress, const EvalBase* base) {
  const std::size_t n = w.chosen.size(), T = w.seq_len - 1;
  if (base && base->model().config().vocab != model.config().vocab)
    fail("--kl-base: the base model's vocabulary (" + std::to_string(base->model().config().vocab) +
         ") differs from the model's (" + std::to_string(model.config().vocab) + ")");
  EvalResult r;
  r.windows.resize(n);
  if (base) r.token_kl.resize(n * T);
  std::vector<std::size_t> agree(n, 0);
  std::atomic<std::size_t> done{0};
  pf(n, [&](std::size_t k) {
    const std::vector<int> toks = w.tokens(k);
    if (!base) {
      const double total = window_log_probs(model, toks, nullptr);
      r.windows[k] = {w.chosen[k], total / static_cast<double>(T), T};
    } else {
      std::vector<float> lq, tmp;
      const double total = window_log_probs(model, toks, &lq);
      r.windows[k] = {w.chosen[k], total / static_cast<double>(T), T};
      const std::vector<float>& lp = base->log_probs(k, tmp);
      const std::size_t V = static_cast<std::size_t>(model.config().vocab);
      for (std::size_t t = 0; t < T; ++t) {
        const float* p = lp.data() + t * V;
        const float* q = lq.data() + t * V;
        double kl = 0;
        std::size_t ap = 0, aq = 0;
        for (std::size_t v = 0; v < V; ++v) {
          kl += std::exp(static_cast<double>(p[v])) * (static_cast<double>(p[v]) - q[v]);
          if (p[v] > p[ap]) ap = v;
          if (q[v] > q[aq]) aq = v;
        }
        r.token_kl[k * T + t] = static_cast<float>(kl);
        agree[k] += ap == aq;
      }
    }
    const std::size_t d = ++done;
    if (progress) progress(d, n);
  });
  r.ppl = ppl_stats(r.windows);
  if (base) {
    std::size_t a = 0;
    for (auto x : agree) a += x;
    r.has_kl = true;
    r.kl = kl_stats(r.token_kl, a, base->windows(), r.windows);
  }
  return r;
}

nlohmann::json kl_json(const KlStats& k) {
  return {{"mean", k.mean},
          {"median", k.median},
          {"p99", k.p99},
          {"max", k.max},
          {"top1_agreement", k.top1},
          {"tokens", k.tokens},
          {"base_mean_ppl", k.base_mean_ppl},
          {"base_median_ppl", k.base_median_ppl},
          {"delta_mean_ppl_pct", k.d_mean_ppl},
          {"delta_median_ppl_pct", k.d_median_ppl}};
}

}  // namespace squint
