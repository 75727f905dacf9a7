#pragma once
// The articles' evaluation protocol (method.md §6): text → one token stream → non-overlapping windows →
// seeded sample → per-window NLL; statistics robust to the heavy right tail (median, trimmed mean), the
// per-window comparison of two runs, and the matched-noise control.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace squint {

// Drop empty (all-whitespace) lines and join the rest with "\n\n".
std::string prepare_eval_text(const std::string& raw);

// Indices of the windows to evaluate: all if k >= count (or k <= 0), else k of them drawn by a portable
// seeded Fisher–Yates (splitmix64), returned in ascending order.
std::vector<std::size_t> sample_windows(std::size_t count, int k, uint64_t seed);

struct WindowResult {
  std::size_t index = 0;   // window number in the token stream
  double nll = 0;          // mean NLL over the window's predicted tokens
  std::size_t tokens = 0;  // predicted tokens (seq_len − 1)
};

struct PplStats {
  double mean_ppl = 0;     // exp(total NLL / total tokens)
  double median_ppl = 0;   // median of per-window PPL (primary)
  double trimmed_ppl = 0;  // exp(mean window NLL) after dropping the 5 % highest and 5 % lowest windows
  std::size_t over_100 = 0;
  std::size_t windows = 0, tokens = 0;
};
PplStats ppl_stats(const std::vector<WindowResult>& w);

struct CompareResult {
  double d_mean = 0, d_median = 0;          // OTHER − BASE (relative, %)
  double improved = 0, degraded = 0;         // fractions of windows (matched by index)
  std::vector<double> quartile_change;       // mean relative PPL change (%) per quartile of BASE's PPL
  std::size_t matched = 0;
};
CompareResult compare_runs(const std::vector<WindowResult>& base, const std::vector<WindowResult>& other);

nlohmann::json windows_json(const std::vector<WindowResult>& w);
std::vector<WindowResult> windows_from_json(const nlohmann::json& j, const std::string& source);

// Matched-noise control: w += N(0, σ²) with σ² = ‖w‖²·10^(−sqnr_db/10)/n, seeded per tensor name.
void add_matched_noise(float* w, std::size_t n, double sqnr_db, uint64_t seed, const std::string& name);

}  // namespace squint
