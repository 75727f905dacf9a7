#pragma once
// What the evaluator needs from a tokenizer; implementations: SentencePiece tokenizer.model
// (native/tokenizer_sp.*) and Hugging Face tokenizer.json (core/text/hf_tokenizer.*, native-only).
#include <memory>
#include <string>
#include <vector>

namespace squint {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int> encode(const std::string& text) const = 0;  // no BOS / special additions
  // The ids a model sees: encode() plus the special tokens the tokenizer adds (by default the BOS rule
  // below; tokenizer.json overrides it with its post_processor).
  virtual std::vector<int> encode_special(const std::string& text) const {
    std::vector<int> ids = encode(text);
    if (add_bos) ids.insert(ids.begin(), bos_id());
    return ids;
  }
  virtual std::string decode(const std::vector<int>& ids) const = 0;
  // The string of one token as the vocabulary spells it ("" for an unknown id).
  virtual std::string token_text(int id) const = 0;
  virtual int bos_id() const = 0;
  bool add_bos = true;
};

}  // namespace squint
