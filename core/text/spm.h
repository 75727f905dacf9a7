#pragma once
// A SentencePiece BPE vocabulary run the way libsentencepiece runs it (normalizer.cc + bpe_model.cc), from
// pieces, scores and types alone — what a GGUF 'llama' vocabulary carries — so a GGUF file tokenizes
// without its tokenizer.model. Normalization is the "identity" rule (Llama 2 and llama2.c models; GGUF
// has no precompiled charsmap): optional removal of extra spaces, the dummy "▁" prefix, ' ' -> "▁",
// malformed UTF-8 -> U+FFFD. Then the pair whose merged piece scores highest is merged first (ties: the
// leftmost), only into normal, user-defined or unused pieces; unused pieces are split back into the pair
// they came from; a symbol that is no piece becomes <0xNN> byte tokens (when the vocabulary has them) or unk.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "eval/tokenizer.h"

namespace squint::text {

struct SpmVocab {
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<int> types;  // sentencepiece types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
  int unk = -1, bos = -1, eos = -1;
  bool add_dummy_prefix = true, remove_extra_whitespaces = false;
};

class SpmTokenizer : public Tokenizer {
 public:
  // Throws squint::Error naming `source` when the tables disagree in length or a type is out of range.
  SpmTokenizer(SpmVocab v, const std::string& source);
  std::vector<int> encode(const std::string& text) const override;
  std::string decode(const std::vector<int>& ids) const override;
  std::string token_text(int id) const override;
  int bos_id() const override { return v_.bos; }
  // The normalized text the pieces are cut from (for tests).
  std::string normalize(const std::string& text) const;

 private:
  SpmVocab v_;
  std::unordered_map<std::string_view, int> all_;        // every piece (first id wins)
  std::unordered_map<std::string_view, int> mergeable_;  // normal, user-defined and unused pieces
  std::vector<std::string> user_defined_;                // matched whole, longest first, never merged
  int byte_ids_[256];
  std::vector<int16_t> byte_of_;  // id -> byte of a <0xNN> byte token, -1 otherwise
  bool byte_fallback_ = false;
};

}  // namespace squint::text
