#include "tokenizer_sp.h"

#include <sentencepiece_processor.h>

#include <nlohmann/json.hpp>

#include "file_source.h"
#include "io/gguf.h"
#include "text/gguf_vocab.h"
#include "text/hf_tokenizer.h"
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
  std::string token_text(int id) const override {
    return id >= 0 && id < sp_.GetPieceSize() ? sp_.IdToPiece(id) : std::string();
  }
  int bos_id() const override { return sp_.bos_id(); }

 private:
  sentencepiece::SentencePieceProcessor sp_;
};

std::string dir_of(const std::string& file) {
  const auto p = file.find_last_of('/');
  return p == std::string::npos ? "." : file.substr(0, p);
}
}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& path) { return std::make_unique<SpTokenizer>(path); }

std::unique_ptr<Tokenizer> load_model_tokenizer(const std::string& path) {
  if (!is_directory(path) && path_exists(path)) {
    FileSource f(path);
    if (looks_like_gguf(f)) {
      const GgufFile g = read_gguf(f);
      try {
        return text::tokenizer_from_gguf(g);
      } catch (const Error& e) {
        fail(std::string(e.what()) + "; pass --tokenizer FOLDER (with the model's tokenizer.model or tokenizer.json)");
      }
    }
  }
  std::string dir = path, sp = path + "/tokenizer.model", hf = path + "/tokenizer.json";
  if (!is_directory(path)) {
    if (!path_exists(path)) fail(path + ": no such file or folder");
    dir = dir_of(path);
    const bool json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
    (json ? hf : sp) = path;
    (json ? sp : hf) = "";
  } else if (!path_exists(sp)) {
    sp.clear();
  }
  const std::string cfg_path = dir + "/tokenizer_config.json";
  const std::string cfg = path_exists(cfg_path) ? read_text_file(cfg_path) : std::string();
  if (sp.empty()) {
    if (!path_exists(hf)) fail(path + ": no tokenizer.model (SentencePiece) or tokenizer.json (Hugging Face)");
    return text::HfTokenizer::from_json(read_text_file(hf), cfg, hf);
  }
  auto t = load_sentencepiece(sp);
  auto j = nlohmann::json::parse(cfg, nullptr, false);
  if (j.is_object() && j.contains("add_bos_token") && j["add_bos_token"].is_boolean()) t->add_bos = j["add_bos_token"].get<bool>();
  return t;
}

}  // namespace squint
