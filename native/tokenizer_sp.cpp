#include "tokenizer_sp.h"

#include <sentencepiece_processor.h>

#include <nlohmann/json.hpp>

#include "eval/hf_tokenizer.h"
#include "file_source.h"
#include "util/error.h"

namespace squint {

namespace {
class SpTokenizer : public Tokenizer {
 public:
  explicit SpTokenizer(const std::string& path) {
    auto st = sp_.Load(path);
    if (!st.ok()) fail(path + ": cannot load SentencePiece model (" + st.ToString() + ")");
  }
  std::vector<int> encode(const std::string& text) const override {
    std::vector<int> ids;
    auto st = sp_.Encode(text, &ids);
    if (!st.ok()) fail("SentencePiece encode failed: " + st.ToString());
    return ids;
  }
  std::string decode(const std::vector<int>& ids) const override {
    std::string out;
    sp_.Decode(ids, &out);
    return out;
  }
  int bos_id() const override { return sp_.bos_id(); }

 private:
  sentencepiece::SentencePieceProcessor sp_;
};
}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& path) { return std::make_unique<SpTokenizer>(path); }

std::unique_ptr<Tokenizer> load_model_tokenizer(const std::string& dir) {
  const std::string sp = dir + "/tokenizer.model", hf = dir + "/tokenizer.json", cfg = dir + "/tokenizer_config.json";
  if (!path_exists(sp)) {
    if (!path_exists(hf)) fail(dir + ": no tokenizer.model (SentencePiece) or tokenizer.json (Hugging Face)");
    return HfBpeTokenizer::from_json(read_text_file(hf), path_exists(cfg) ? read_text_file(cfg) : std::string(), hf);
  }
  auto t = load_sentencepiece(sp);
  if (path_exists(dir + "/tokenizer_config.json")) {
    auto j = nlohmann::json::parse(read_text_file(dir + "/tokenizer_config.json"), nullptr, false);
    if (j.is_object() && j.contains("add_bos_token") && j["add_bos_token"].is_boolean()) t->add_bos = j["add_bos_token"].get<bool>();
  }
  return t;
}

}  // namespace squint
