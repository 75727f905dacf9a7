#include "util/closest.h"

#include <algorithm>

namespace squint {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i)
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::string closest_name(std::string_view given, const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(2, given.size() / 3);
  std::string best;
  std::size_t best_d = limit + 1;
  bool tie = false;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(given, c);
    if (d < best_d) {
      best = c, best_d = d, tie = false;
    } else if (d == best_d && c != best) {
      tie = true;
    }
  }
  if (!best.empty() && !tie) return best;
  std::string prefixed;
  for (const auto& c : candidates)
    if (given.size() >= 3 && c.starts_with(given)) {
      if (!prefixed.empty() && prefixed != c) return "";
      prefixed = c;
    }
  return prefixed;
}

}  // namespace squint
