#include "text/added_tokens.h"

#include <algorithm>

#include "text/unicode.h"

namespace squint::text {

int AddedMatcher::child(int node, unsigned char b) const {
  const auto& nx = nodes_[static_cast<std::size_t>(node)].next;
  auto it = std::lower_bound(nx.begin(), nx.end(), std::make_pair(b, -1));
  return it != nx.end() && it->first == b ? it->second : -1;
}

void AddedMatcher::add(const AddedToken& t) {
  if (t.content.empty()) return;
  int n = 0;
  for (unsigned char b : t.content) {
    int c = child(n, b);
    if (c < 0) {
      c = static_cast<int>(nodes_.size());
      nodes_.push_back({});
      auto& nx = nodes_[static_cast<std::size_t>(n)].next;
      nx.insert(std::lower_bound(nx.begin(), nx.end(), std::make_pair(b, -1)), {b, c});
    }
    n = c;
  }
  // The same content twice: the later entry wins.
  if (nodes_[static_cast<std::size_t>(n)].token >= 0) {
    tokens_[static_cast<std::size_t>(nodes_[static_cast<std::size_t>(n)].token)] = t;
    return;
  }
  nodes_[static_cast<std::size_t>(n)].token = static_cast<int>(tokens_.size());
  tokens_.push_back(t);
}

namespace {
uint32_t last_cp(std::string_view s) {
  std::size_t i = s.size();
  while (i > 0 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) --i;
  if (i > 0) --i;
  return next_cp(s, i);
}
}  // namespace

void AddedMatcher::split(const std::string& s, bool at_start, std::vector<Piece>& out) const {
  std::size_t start_offset = 0, pos = 0;
  while (pos < s.size()) {
    // longest token starting at pos
    int n = 0, best = -1;
    std::size_t best_end = 0;
    for (std::size_t k = pos; k < s.size(); ++k) {
      n = child(n, static_cast<unsigned char>(s[k]));
      if (n < 0) break;
      if (nodes_[static_cast<std::size_t>(n)].token >= 0) best = nodes_[static_cast<std::size_t>(n)].token, best_end = k + 1;
    }
    if (best < 0) {
      ++pos;
      continue;
    }
    const AddedToken& t = tokens_[static_cast<std::size_t>(best)];
    std::size_t start = pos, stop = best_end;
    if (t.single_word) {
      const bool start_space = start == 0 || !is_alphanumeric(last_cp(std::string_view(s).substr(0, start)));
      std::size_t i = stop;
      const bool stop_space = stop == s.size() || !is_alphanumeric(next_cp(s, i));
      if (!start_space || !stop_space) {
        pos = best_end;  // the library's match iterator has consumed it: it resumes after the match
        continue;
      }
    }
    if (t.lstrip) {
      std::size_t b = start;
      while (b > 0) {
        std::size_t cs = b - 1;
        while (cs > 0 && (static_cast<unsigned char>(s[cs]) & 0xC0) == 0x80) --cs;
        std::size_t i = cs;
        if (!is_whitespace(next_cp(s, i))) break;
        b = cs;
      }
      start = std::max(b, start_offset);
    }
    if (t.rstrip) {
      std::size_t i = stop;
      while (i < s.size()) {
        const std::size_t at = i;
        if (!is_whitespace(next_cp(s, i))) {
          i = at;
          break;
        }
      }
      stop = i;
    }
    if (start_offset < start) out.push_back({s.substr(start_offset, start - start_offset), at_start && start_offset == 0, -1});
    out.push_back({s.substr(start, stop - start), at_start && start == 0, t.id});
    start_offset = stop;
    pos = best_end;
  }
  if (start_offset < s.size()) out.push_back({s.substr(start_offset), at_start && start_offset == 0, -1});
}

}  // namespace squint::text
