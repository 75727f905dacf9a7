#pragma once
// What every benchmark needs to time itself: a monotonic clock in seconds and the median of repeated runs
// (the median, not the mean: a shared machine gives a few slow outliers).
#include <algorithm>
#include <chrono>
#include <vector>

namespace squint::bench {

inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace squint::bench
