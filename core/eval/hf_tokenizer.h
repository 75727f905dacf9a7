#pragma once
// Hugging Face tokenizer.json, BPE models: byte-level BPE (GPT-2, Llama 3, Qwen: bytes mapped to printable
// code points, a pre-tokenizer split, merges by rank) and SentencePiece-style BPE (Llama 2, Mistral: spaces
// as "▁", a leading "▁", merges, unknown pieces spelled as <0xNN> byte tokens). Special (added) tokens are
// matched verbatim before anything else.
//
// Pre-tokenizer approximation (std::regex has no \p{L}): the GPT-2 split is implemented by hand, with
// "letter" = ASCII letter or any non-ASCII code point, "number" = ASCII digit; Llama-3's variant (digits in
// groups of at most 3, one non-letter prefix on words) is selected when the tokenizer's Split pattern
// contains "\p{N}{1,3}". Scripts whose non-ASCII characters are punctuation or digits may split differently
// from the reference.
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "eval/tokenizer.h"

namespace squint {

class HfBpeTokenizer : public Tokenizer {
 public:
  // `config` is tokenizer_config.json (may be empty): bos_token, add_bos_token.
  static std::unique_ptr<HfBpeTokenizer> from_json(const std::string& tokenizer_json, const std::string& config,
                                                   const std::string& source);
  std::vector<int> encode(const std::string& text) const override;
  std::string decode(const std::vector<int>& ids) const override;
  int bos_id() const override { return bos_; }
  bool byte_level() const { return byte_level_; }

 private:
  std::vector<std::string> bpe(std::vector<std::string> symbols) const;
  void encode_plain(const std::string& text, std::vector<int>& out) const;
  std::vector<std::string> pre_split(const std::string& text) const;

  bool byte_level_ = true;
  bool llama3_split_ = false;
  bool byte_fallback_ = false;
  bool prepend_space_ = true;  // SentencePiece-style: a leading "▁"
  std::unordered_map<std::string, int> vocab_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, int> merge_rank_;  // "left\x01right" -> rank
  std::vector<std::pair<std::string, int>> added_;    // special tokens, longest first
  int unk_ = -1, bos_ = -1;
};

// The printable code point GPT-2's byte-level BPE uses for byte b (UTF-8 encoded).
std::string byte_to_unicode(unsigned char b);

}  // namespace squint
