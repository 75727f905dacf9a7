#include "eval/perplexity.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"
#include "util/json_guard.h"
#include "util/rng.h"

namespace squint {

namespace {
double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
}  // namespace

std::string prepare_eval_text(const std::string& raw) {
  std::string out, line;
  std::size_t i = 0;
  while (i <= raw.size()) {
    std::size_t j = raw.find('\n', i);
    if (j == std::string::npos) j = raw.size();
    line = raw.substr(i, j - i);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t\r\f\v") != std::string::npos) {
      if (!out.empty()) out += "\n\n";
      out += line;
    }
    i = j + 1;
  }
  return out;
}

std::vector<std::size_t> sample_windows(std::size_t count, int k, uint64_t seed) {
  std::vector<std::size_t> idx(count);
  for (std::size_t i = 0; i < count; ++i) idx[i] = i;
  if (k <= 0 || static_cast<std::size_t>(k) >= count) return idx;
  SplitMix64 r{seed};
  for (std::size_t i = count - 1; i > 0; --i) std::swap(idx[i], idx[r.next() % (i + 1)]);
  idx.resize(static_cast<std::size_t>(k));
  std::sort(idx.begin(), idx.end());
  return idx;
}

PplStats ppl_stats(const std::vector<WindowResult>& w) {
  PplStats s;
  s.windows = w.size();
  if (w.empty()) return s;
  double total = 0;
  std::vector<double> ppl, nll;
  for (const auto& x : w) {
    total += x.nll * static_cast<double>(x.tokens);
    s.tokens += x.tokens;
    ppl.push_back(std::exp(x.nll));
    nll.push_back(x.nll);
    s.over_100 += std::exp(x.nll) > 100.0;
  }
  s.mean_ppl = std::exp(total / static_cast<double>(s.tokens));
  s.median_ppl = median_of(ppl);
  std::sort(nll.begin(), nll.end());
  const std::size_t cut = nll.size() / 20;
  double sum = 0;
  for (std::size_t i = cut; i < nll.size() - cut; ++i) sum += nll[i];
  s.trimmed_ppl = std::exp(sum / static_cast<double>(nll.size() - 2 * cut));
  return s;
}

CompareResult compare_runs(const std::vector<WindowResult>& base, const std::vector<WindowResult>& other) {
  CompareResult c;
  const PplStats a = ppl_stats(base), b = ppl_stats(other);
  c.d_mean = 100.0 * (b.mean_ppl - a.mean_ppl) / a.mean_ppl;
  c.d_median = 100.0 * (b.median_ppl - a.median_ppl) / a.median_ppl;
  std::vector<std::pair<double, double>> pairs;  // (base ppl, relative change)
  for (const auto& x : base)
    for (const auto& y : other)
      if (x.index == y.index) {
        const double pa = std::exp(x.nll), pb = std::exp(y.nll);
        pairs.emplace_back(pa, (pb - pa) / pa);
        c.improved += pb < pa;
        c.degraded += pb > pa;
        break;
      }
  c.matched = pairs.size();
  if (pairs.empty()) fail("the two runs share no window (different text, seq-len or samples?)");
  c.improved /= static_cast<double>(pairs.size());
  c.degraded /= static_cast<double>(pairs.size());
  std::sort(pairs.begin(), pairs.end());
  for (int q = 0; q < 4; ++q) {
    const std::size_t lo = pairs.size() * q / 4, hi = pairs.size() * (q + 1) / 4;
    double sum = 0;
    for (std::size_t i = lo; i < hi; ++i) sum += pairs[i].second;
    c.quartile_change.push_back(hi > lo ? 100.0 * sum / static_cast<double>(hi - lo) : 0.0);
  }
  return c;
}

nlohmann::json windows_json(const std::vector<WindowResult>& w) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& x : w) a.push_back({{"index", x.index}, {"nll", x.nll}, {"tokens", x.tokens}});
  return a;
}

std::vector<WindowResult> windows_from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object() || !j.contains("windows") || !j["windows"].is_array())
    fail(source + ": not a squint eval result (no 'windows' array)");
  std::vector<WindowResult> w;
  for (const auto& x : j["windows"])
    w.push_back({json_int_at<std::size_t>(x, "index", source + ": window"), x.at("nll").get<double>(),
                 json_int_at<std::size_t>(x, "tokens", source + ": window")});
  return w;
}

void add_matched_noise(float* w, std::size_t n, double sqnr_db, uint64_t seed, const std::string& name) {
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += static_cast<double>(w[i]) * w[i];
  const double sigma = std::sqrt(ss * std::pow(10.0, -sqnr_db / 10.0) / static_cast<double>(n));
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : name) h = (h ^ ch) * 1099511628211ull;
  SplitMix64 r{seed ^ h};
  for (std::size_t i = 0; i < n; i += 2) {
    const double u1 = r.uniform(), u2 = r.uniform();
    const double rad = std::sqrt(-2.0 * std::log(u1));
    w[i] += static_cast<float>(sigma * rad * std::cos(6.283185307179586 * u2));
    if (i + 1 < n) w[i + 1] += static_cast<float>(sigma * rad * std::sin(6.283185307179586 * u2));
  }
}

}  // namespace squint
