#include "text/spm.h"

#include <algorithm>
#include <functional>
#include <queue>

#include "text/unicode.h"
#include "util/error.h"

namespace squint::text {

namespace {
const std::string kSpace = "\xe2\x96\x81";  // U+2581, sentencepiece's kSpaceSymbol

std::string byte_piece(int b) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("<0x") + hex[(b >> 4) & 15] + hex[b & 15] + ">";
}
}  // namespace

SpmTokenizer::SpmTokenizer(SpmVocab v, const std::string& source) : v_(std::move(v)) {
  const std::size_t n = v_.pieces.size();
  if (n == 0) fail(source + ": the vocabulary is empty");
  if (v_.scores.size() != n || v_.types.size() != n)
    fail(source + ": " + std::to_string(n) + " tokens but " + std::to_string(v_.scores.size()) + " scores and " +
         std::to_string(v_.types.size()) + " token types");
  for (int t : v_.types)
    if (t < 1 || t > 6) fail(source + ": token type " + std::to_string(t) + " is not a sentencepiece type (1-6)");
  auto check_id = [&](int id, const char* what) {
    if (id >= static_cast<int>(n)) fail(source + ": " + what + " id " + std::to_string(id) + " is not below the vocabulary size " + std::to_string(n));
  };
  check_id(v_.unk, "unknown-token");
  check_id(v_.bos, "BOS");
  check_id(v_.eos, "EOS");
  all_.reserve(n);
  mergeable_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view p = v_.pieces[i];
    const int id = static_cast<int>(i);
    all_.emplace(p, id);
    const int t = v_.types[i];
    if (t == 1 || t == 4 || t == 5) mergeable_.emplace(p, id);
    if (t == 4 && !p.empty()) user_defined_.emplace_back(p);
  }
  std::sort(user_defined_.begin(), user_defined_.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (int b = 0; b < 256; ++b) {
    auto it = all_.find(byte_piece(b));
    byte_ids_[b] = it != all_.end() && v_.types[static_cast<std::size_t>(it->second)] == 6 ? it->second : -1;
    byte_fallback_ = byte_fallback_ || byte_ids_[b] >= 0;
  }
  byte_of_.assign(n, -1);
  for (int b = 0; b < 256; ++b)
    if (byte_ids_[b] >= 0) byte_of_[static_cast<std::size_t>(byte_ids_[b])] = static_cast<int16_t>(b);
  if (v_.unk < 0 && !byte_fallback_) fail(source + ": the vocabulary has neither an unknown token nor byte tokens");
}

std::string SpmTokenizer::normalize(const std::string& text) const {
  // normalizer.cc Normalize() with the identity rule.
  const bool rm = v_.remove_extra_whitespaces;
  std::size_t i = 0;
  if (rm)
    while (i < text.size() && text[i] == ' ') ++i;
  std::string out;
  if (i == text.size()) return out;
  out.reserve(text.size() + text.size() / 4 + 3);
  if (v_.add_dummy_prefix) out += kSpace;
  bool prev_space = rm;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      if (!prev_space) out += kSpace;
      prev_space = rm;
      continue;
    }
    const std::size_t start = i;
    const uint32_t cp = next_cp(text, i);
    if (cp == 0xFFFD && i == start + 1 && static_cast<unsigned char>(text[start]) >= 0x80) out += "\xef\xbf\xbd";
    else out.append(text, start, i - start);
    prev_space = false;
  }
  if (rm)
    while (out.size() >= kSpace.size() && out.compare(out.size() - kSpace.size(), kSpace.size(), kSpace) == 0)
      out.resize(out.size() - kSpace.size());
  return out;
}

std::vector<int> SpmTokenizer::encode(const std::string& text) const {
  const std::string norm = normalize(text);
  std::vector<int> ids;
  if (norm.empty()) return ids;
  struct Sym {
    int prev, next;
    uint32_t start, len;
    bool freeze;
  };
  std::vector<Sym> sym;
  sym.reserve(norm.size());
  for (std::size_t pos = 0; pos < norm.size();) {
    std::size_t len = 0;
    bool freeze = false;
    for (const auto& u : user_defined_)
      if (norm.compare(pos, u.size(), u) == 0) {
        len = u.size();
        freeze = true;
        break;
      }
    if (!len) len = std::min(utf8_len(static_cast<unsigned char>(norm[pos])), norm.size() - pos);
    const int idx = static_cast<int>(sym.size());
    sym.push_back({idx - 1, pos + len == norm.size() ? -1 : idx + 1, static_cast<uint32_t>(pos), static_cast<uint32_t>(len), freeze});
    pos += len;
  }
  struct Pair {
    float score;
    int left, right;
    uint32_t size;
  };
  // bpe_model.cc's agenda: highest score first, ties to the leftmost pair.
  auto lower = [](const Pair& a, const Pair& b) { return a.score < b.score || (a.score == b.score && a.left > b.left); };
  std::priority_queue<Pair, std::vector<Pair>, decltype(lower)> agenda(lower);
  std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>> rev_merge;
  const std::string_view nv = norm;
  auto view = [&](const Sym& s) { return nv.substr(s.start, s.len); };
  auto add_pair = [&](int l, int r) {
    if (l < 0 || r < 0 || sym[static_cast<std::size_t>(l)].freeze || sym[static_cast<std::size_t>(r)].freeze) return;
    const Sym& a = sym[static_cast<std::size_t>(l)];
    const Sym& b = sym[static_cast<std::size_t>(r)];
    const std::string_view piece = nv.substr(a.start, a.len + b.len);
    auto it = mergeable_.find(piece);
    if (it == mergeable_.end()) return;
    agenda.push({v_.scores[static_cast<std::size_t>(it->second)], l, r, a.len + b.len});
    if (v_.types[static_cast<std::size_t>(it->second)] == 5) rev_merge[piece] = {view(a), view(b)};
  };
  for (int i = 1; i < static_cast<int>(sym.size()); ++i) add_pair(i - 1, i);
  while (!agenda.empty()) {
    const Pair top = agenda.top();
    agenda.pop();
    Sym& l = sym[static_cast<std::size_t>(top.left)];
    Sym& r = sym[static_cast<std::size_t>(top.right)];
    if (l.len == 0 || r.len == 0 || l.len + r.len != top.size) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[static_cast<std::size_t>(r.next)].prev = top.left;
    add_pair(l.prev, top.left);
    add_pair(top.left, l.next);
  }
  auto emit = [&](std::string_view w) {
    auto it = all_.find(w);
    const int id = it == all_.end() ? v_.unk : it->second;
    if ((id < 0 || id == v_.unk) && byte_fallback_) {
      for (unsigned char c : w) {
        if (byte_ids_[c] < 0) {
          if (v_.unk < 0) fail("the vocabulary has no byte token for 0x" + byte_piece(c).substr(3, 2) + " and no unknown token");
          ids.push_back(v_.unk);
        } else {
          ids.push_back(byte_ids_[c]);
        }
      }
      return;
    }
    if (id < 0) fail("the vocabulary has no unknown token for a piece it lacks");
    ids.push_back(id);
  };
  std::function<void(std::string_view)> resegment = [&](std::string_view w) {
    auto it = all_.find(w);
    if (it != all_.end() && v_.types[static_cast<std::size_t>(it->second)] == 5) {
      auto rm = rev_merge.find(w);
      if (rm != rev_merge.end()) {
        resegment(rm->second.first);
        resegment(rm->second.second);
        return;
      }
    }
    emit(w);
  };
  for (int i = 0; i != -1; i = sym[static_cast<std::size_t>(i)].next) resegment(view(sym[static_cast<std::size_t>(i)]));
  return ids;
}

std::string SpmTokenizer::token_text(int id) const {
  return id >= 0 && id < static_cast<int>(v_.pieces.size()) ? v_.pieces[static_cast<std::size_t>(id)] : std::string();
}

std::string SpmTokenizer::decode(const std::vector<int>& ids) const {
  std::string out, bytes;
  bool bos_ws = v_.add_dummy_prefix || v_.remove_extra_whitespaces;
  auto flush = [&] {
    for (std::size_t i = 0; i < bytes.size();) {
      const std::size_t start = i;
      const uint32_t cp = next_cp(bytes, i);
      if (cp == 0xFFFD && i == start + 1 && static_cast<unsigned char>(bytes[start]) >= 0x80) out += "\xef\xbf\xbd";
      else out.append(bytes, start, i - start);
    }
    if (!bytes.empty()) bos_ws = false;
    bytes.clear();
  };
  for (int id : ids) {
    if (id < 0 || id >= static_cast<int>(v_.pieces.size())) continue;
    const int t = v_.types[static_cast<std::size_t>(id)];
    if (t == 6 && byte_of_[static_cast<std::size_t>(id)] >= 0) {
      bytes += static_cast<char>(byte_of_[static_cast<std::size_t>(id)]);
      continue;
    }
    flush();
    if (t == 3) continue;
    if (t == 2) {
      out += " \xe2\x81\x87 ";  // sentencepiece's default unk surface " ⁇ "
      bos_ws = false;
      continue;
    }
    std::string_view p = v_.pieces[static_cast<std::size_t>(id)];
    if (bos_ws && p.substr(0, kSpace.size()) == kSpace) p.remove_prefix(kSpace.size());
    for (std::size_t i = 0; i < p.size();) {
      if (p.compare(i, kSpace.size(), kSpace) == 0) {
        out += ' ';
        i += kSpace.size();
      } else {
        out += p[i++];
      }
    }
    if (!v_.pieces[static_cast<std::size_t>(id)].empty()) bos_ws = false;
  }
  flush();
  return out;
}

}  // namespace squint::text
