#pragma once
// The BPE model of tokenizer.json, as Hugging Face tokenizers runs it: a word is split into characters
// (continuing_subword_prefix / end_of_word_suffix added), characters missing from the vocab become
// <0xNN> byte tokens (byte_fallback) or unk (fused when fuse_unk), then pairs are merged lowest rank first
// through a priority queue over linked symbols: O(n log n) per word. Words (and the pieces a long word is
// cut into where no merge can cross) are cached.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace squint::text {

class Bpe {
 public:
  // `model` is tokenizer.json's "model" object (type BPE) for its options; vocab and merges come as
  // tables (read_tokenizer_json); `source` names the file in errors.
  Bpe(const nlohmann::json& model, std::vector<std::pair<std::string, int>> vocab,
      const std::vector<std::pair<std::string, std::string>>& merges, const std::string& source);
  // Appends the ids of one pre-tokenized word. Not thread-safe (the cache).
  void tokenize(std::string_view word, std::vector<int>& out) const;
  const std::unordered_map<std::string, int>& vocab() const { return vocab_; }
  const std::vector<std::string>& id_to_token() const { return id_to_token_; }

 private:
  // (left id, right id) -> (rank, merged id): open addressing with linear probing, because merging a
  // 1 MB segment (SentencePiece-style files pre-tokenize nothing) is millions of lookups.
  class MergeMap {
   public:
    void reserve(std::size_t n);
    void put(uint64_t k, std::pair<int, int> v);
    const std::pair<int, int>* find(uint64_t k) const;

   private:
    static constexpr uint64_t kEmpty = ~0ull;
    std::size_t slot(uint64_t k) const { return static_cast<std::size_t>((k * 0x9E3779B97F4A7C15ull) >> shift_); }
    std::vector<uint64_t> keys_;
    std::vector<std::pair<int, int>> vals_;
    int shift_ = 64;
    std::size_t size_ = 0;
  };
  static uint64_t key(int a, int b) { return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b); }
  void merge_word(std::string_view w, std::vector<int>& out) const;
  void merge_cached(std::string_view w, std::vector<int>& out) const;
  bool safe_cut(std::string_view prev_char) const;

  std::unordered_map<std::string, int> vocab_;
  std::vector<std::string> id_to_token_;
  MergeMap merges_;
  std::string prefix_, suffix_;
  bool has_prefix_ = false, has_suffix_ = false;
  bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
  int unk_ = -1;
  int byte_ids_[256];  // <0xNN> ids, -1 when absent
  // A long word (SentencePiece-style files pre-tokenize nothing: the whole text is one word) is cut before
  // each cut_char_ whose preceding character p is a vocab token and no merge result contains p + cut_char_:
  // then no merge can ever join the two sides, so merging the pieces one by one (and caching them) gives
  // exactly the ids of merging the whole word. Empty when not applicable (no such char in the vocab, a
  // continuing-subword prefix or end-of-word suffix).
  std::string cut_char_;
  std::unordered_set<std::string> cut_blocked_;  // the characters p for which some merge result holds p + cut_char_
  mutable std::unordered_map<std::string, std::vector<int>> cache_;
};

}  // namespace squint::text
