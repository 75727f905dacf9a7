#pragma once
// The BPE model of tokenizer.json, as Hugging Face tokenizers runs it: a word is split into characters
// (continuing_subword_prefix / end_of_word_suffix added), characters missing from the vocab become
// <0xNN> byte tokens (byte_fallback) or unk (fused when fuse_unk), then pairs are merged lowest rank first
// through a priority queue over linked symbols: O(n log n) per word. Words are cached.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
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
  struct PairHash {
    std::size_t operator()(uint64_t k) const { return std::hash<uint64_t>()(k * 0x9E3779B97F4A7C15ull); }
  };
  static uint64_t key(int a, int b) { return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b); }
  void merge_word(std::string_view w, std::vector<int>& out) const;

  std::unordered_map<std::string, int> vocab_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<uint64_t, std::pair<int, int>, PairHash> merges_;  // (a, b) -> (rank, new id)
  std::string prefix_, suffix_;
  bool has_prefix_ = false, has_suffix_ = false;
  bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
  int unk_ = -1;
  int byte_ids_[256];  // <0xNN> ids, -1 when absent
  mutable std::unordered_map<std::string, std::vector<int>> cache_;
};

}  // namespace squint::text
