#pragma once
// A Hugging Face tokenizer.json with a BPE model, run the way the `tokenizers` library runs it:
//   added tokens (non-normalized ones cut out of the raw text) -> normalizer per remaining segment ->
//   added tokens marked normalized -> pre-tokenizer -> BPE per word -> post_processor (special tokens).
// Native-only (PCRE2, utf8proc); see docs/eval.md for the supported components.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "eval/tokenizer.h"
#include "text/added_tokens.h"
#include "text/bpe.h"
#include "text/pipeline.h"

namespace squint::text {

class HfTokenizer : public Tokenizer {
 public:
  // `config` is tokenizer_config.json ("" when absent): bos_token and add_bos_token, used only when
  // tokenizer.json has no post_processor. Throws squint::Error (one line, naming `source`).
  static std::unique_ptr<HfTokenizer> from_json(const std::string& tokenizer_json, const std::string& config,
                                                const std::string& source);
  std::vector<int> encode(const std::string& text) const override;
  std::vector<int> encode_special(const std::string& text) const override;
  std::string decode(const std::vector<int>& ids) const override;
  std::string token_text(int id) const override;
  int bos_id() const override { return bos_; }
  bool has_post_processor() const { return has_post_; }

 private:
  HfTokenizer() = default;
  std::string source_;
  AddedMatcher raw_added_, normalized_added_;
  std::unordered_map<int, std::string> added_text_;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  Decoder decoder_;
  std::unique_ptr<Bpe> model_;
  bool has_post_ = false;
  std::vector<int> post_prefix_, post_suffix_;  // what the post_processor puts around a single sequence
  int bos_ = -1;
};

}  // namespace squint::text
