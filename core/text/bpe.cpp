#include "text/bpe.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <queue>

#include "text/unicode.h"
#include "util/error.h"

namespace squint::text {

using nlohmann::json;

namespace {
constexpr std::size_t kCacheWords = 100000;  // cleared when full; only words up to kCacheLen bytes
constexpr std::size_t kCacheLen = 256;

std::string opt_string(const json& m, const char* k, bool& present) {
  present = m.contains(k) && m[k].is_string();
  return present ? m[k].get<std::string>() : std::string();
}
}  // namespace

void Bpe::MergeMap::reserve(std::size_t n) {
  std::size_t cap = 16;
  int bits = 4;
  while (cap < 2 * n + 2) cap <<= 1, ++bits;
  keys_.assign(cap, kEmpty);
  vals_.assign(cap, {0, 0});
  shift_ = 64 - bits;
  size_ = 0;
}

void Bpe::MergeMap::put(uint64_t k, std::pair<int, int> v) {
  if (2 * (size_ + 1) > keys_.size()) {  // grow (reserve() normally makes this unnecessary)
    auto ok = std::move(keys_);
    auto ov = std::move(vals_);
    reserve(2 * (size_ + 1));
    for (std::size_t i = 0; i < ok.size(); ++i)
      if (ok[i] != kEmpty) put(ok[i], ov[i]);
  }
  const std::size_t mask = keys_.size() - 1;
  for (std::size_t i = slot(k);; i = (i + 1) & mask) {
    if (keys_[i] == kEmpty) {
      keys_[i] = k;
      vals_[i] = v;
      ++size_;
      return;
    }
    if (keys_[i] == k) {
      vals_[i] = v;
      return;
    }
  }
}

const std::pair<int, int>* Bpe::MergeMap::find(uint64_t k) const {
  if (keys_.empty()) return nullptr;
  const std::size_t mask = keys_.size() - 1;
  for (std::size_t i = slot(k);; i = (i + 1) & mask) {
    if (keys_[i] == k) return &vals_[i];
    if (keys_[i] == kEmpty) return nullptr;
  }
}

Bpe::Bpe(const json& m, std::vector<std::pair<std::string, int>> vocab,
         const std::vector<std::pair<std::string, std::string>>& merges, const std::string& source) {
  if (m.contains("dropout") && !m["dropout"].is_null())
    fail(source + ": BPE dropout is not supported (tokenization would be random)");
  vocab_.reserve(vocab.size());
  int max_id = -1;
  for (const auto& [tok, id] : vocab) max_id = std::max(max_id, id);
  // Real vocabularies number their tokens densely; a sparse one would make the id table huge.
  if (static_cast<std::size_t>(max_id) > 2 * vocab.size() + 1024) fail(source + ": vocab ids are not dense (max id " + std::to_string(max_id) + ")");
  id_to_token_.resize(static_cast<std::size_t>(max_id + 1));
  for (auto& [tok, id] : vocab) {
    id_to_token_[static_cast<std::size_t>(id)] = tok;
    vocab_[std::move(tok)] = id;  // a repeated key keeps its last id, as a JSON object does
  }
  prefix_ = opt_string(m, "continuing_subword_prefix", has_prefix_);
  suffix_ = opt_string(m, "end_of_word_suffix", has_suffix_);
  byte_fallback_ = m.value("byte_fallback", false);
  fuse_unk_ = m.value("fuse_unk", false);
  ignore_merges_ = m.value("ignore_merges", false);
  bool has_unk = false;
  const std::string unk = opt_string(m, "unk_token", has_unk);
  if (has_unk) {
    auto it = vocab_.find(unk);
    if (it == vocab_.end()) fail(source + ": unk_token '" + unk + "' is not in the vocab");
    unk_ = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto it = vocab_.find(name);
    byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }
  merges_.reserve(merges.size());
  // The cut character: the Metaspace marker, else a space (see bpe.h), when it is a token of its own.
  if (!has_prefix_ && !has_suffix_)
    for (const char* c : {"\u2581", " "})
      if (vocab_.count(c)) {
        cut_char_ = c;
        break;
      }
  int rank = 0;
  for (const auto& [a, b] : merges) {
    auto ia = vocab_.find(a), ib = vocab_.find(b);
    if (ia == vocab_.end() || ib == vocab_.end()) fail(source + ": merge '" + a + " " + b + "' uses a token missing from the vocab");
    // The merged token drops the right part's continuing-subword prefix (as the library builds it).
    const std::string merged = a + (has_prefix_ && b.compare(0, prefix_.size(), prefix_) == 0 ? b.substr(prefix_.size()) : b);
    auto im = vocab_.find(merged);
    if (im == vocab_.end()) fail(source + ": merge '" + a + " " + b + "' produces a token missing from the vocab");
    if (!cut_char_.empty())  // every character followed by cut_char_ inside a merge result blocks a cut after it
      for (std::size_t i = 0, prev = 0; i < merged.size(); prev = i, i += utf8_len(static_cast<unsigned char>(merged[i])))
        if (i > 0 && merged.compare(i, cut_char_.size(), cut_char_) == 0) cut_blocked_.insert(merged.substr(prev, i - prev));
    merges_.put(key(ia->second, ib->second), {rank++, im->second});  // a repeated pair keeps its last rank, as HF
  }
}

void Bpe::merge_word(std::string_view w, std::vector<int>& out) const {
  struct Sym {
    int id;
    int prev, next;
    bool alive;
  };
  std::vector<Sym> sym;
  sym.reserve(w.size());
  auto add = [&](int id) {
    const int n = static_cast<int>(sym.size());
    sym.push_back({id, n - 1, -1, true});
    if (n > 0) sym[static_cast<std::size_t>(n - 1)].next = n;
  };
  int unk_pending = -1;  // the library keeps one pending unk (fused or not) and emits it lazily
  std::string s;
  for (std::size_t i = 0; i < w.size();) {
    const std::size_t start = i;
    i += utf8_len(static_cast<unsigned char>(w[i]));
    if (i > w.size()) i = w.size();
    s.assign(has_prefix_ && start > 0 ? prefix_ : std::string());
    s.append(w.substr(start, i - start));
    if (has_suffix_ && i == w.size()) s += suffix_;
    auto it = vocab_.find(s);
    if (it != vocab_.end()) {
      if (unk_pending >= 0) {
        add(unk_pending);
        unk_pending = -1;
      }
      add(it->second);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char b : s) all = all && byte_ids_[b] >= 0;
      if (all) {
        for (unsigned char b : s) add(byte_ids_[b]);  // note: a pending unk is not flushed first (as HF)
        continue;
      }
    }
    if (unk_ >= 0) {
      if (unk_pending >= 0 && !fuse_unk_) add(unk_pending);
      unk_pending = unk_;
    }
  }
  if (unk_pending >= 0) add(unk_pending);

  struct Merge {
    int pos, rank, new_id;
    bool operator<(const Merge& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }  // min-heap
  };
  std::priority_queue<Merge> q;
  auto consider = [&](int pos) {
    const int nx = sym[static_cast<std::size_t>(pos)].next;
    if (nx < 0) return;
    const auto* it = merges_.find(key(sym[static_cast<std::size_t>(pos)].id, sym[static_cast<std::size_t>(nx)].id));
    if (it) q.push({pos, it->first, it->second});
  };
  for (int i = 0; i + 1 < static_cast<int>(sym.size()); ++i) consider(i);
  while (!q.empty()) {
    const Merge top = q.top();
    q.pop();
    Sym& cur = sym[static_cast<std::size_t>(top.pos)];
    if (!cur.alive || cur.next < 0) continue;
    Sym& right = sym[static_cast<std::size_t>(cur.next)];
    const auto* it = merges_.find(key(cur.id, right.id));
    if (!it || it->second != top.new_id) continue;  // stale entry
    cur.id = top.new_id;
    right.alive = false;
    cur.next = right.next;
    if (cur.next >= 0) sym[static_cast<std::size_t>(cur.next)].prev = top.pos;
    if (cur.prev >= 0) consider(cur.prev);
    consider(top.pos);
  }
  for (const auto& x : sym)
    if (x.alive) out.push_back(x.id);
}

bool Bpe::safe_cut(std::string_view p) const {
  const std::string ps(p);
  return vocab_.count(ps) && !cut_blocked_.count(ps);
}

void Bpe::tokenize(std::string_view word, std::vector<int>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    auto it = vocab_.find(std::string(word));
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  if (word.size() > kCacheLen && !cut_char_.empty()) {
    // Cut where no merge can cross (bpe.h); characters stepped exactly as merge_word splits them.
    std::size_t from = 0, prev = 0;
    for (std::size_t i = 0; i < word.size(); prev = i, i += utf8_len(static_cast<unsigned char>(word[i]))) {
      if (i > from && word.compare(i, cut_char_.size(), cut_char_) == 0 && safe_cut(word.substr(prev, i - prev))) {
        merge_cached(word.substr(from, i - from), out);
        from = i;
      }
    }
    merge_cached(word.substr(from), out);
    return;
  }
  merge_cached(word, out);
}

void Bpe::merge_cached(std::string_view word, std::vector<int>& out) const {
  if (word.empty()) return;
  const bool cacheable = word.size() <= kCacheLen;
  if (cacheable) {
    auto it = cache_.find(std::string(word));
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const std::size_t at = out.size();
  merge_word(word, out);
  if (cacheable) {
    if (cache_.size() >= kCacheWords) cache_.clear();
    cache_.emplace(std::string(word), std::vector<int>(out.begin() + static_cast<std::ptrdiff_t>(at), out.end()));
  }
}

}  // namespace squint::text
