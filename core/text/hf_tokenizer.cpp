#include "text/hf_tokenizer.h"

#include <nlohmann/json.hpp>

#include "text/tokenizer_json.h"
#include "text/unicode.h"
#include "util/error.h"

namespace squint::text {

using nlohmann::json;

namespace {

// post_processor -> ids before and after a single sequence (with add_special_tokens).
void read_post(const json& j, const std::string& source, std::vector<int>& pre, std::vector<int>& suf) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) fail(source + ": post_processor without a type");
  const std::string t = j["type"].get<std::string>();
  if (t == "ByteLevel") return;  // offsets only
  if (t == "Sequence") {
    for (const auto& p : j.at("processors")) {
      std::vector<int> a, b;
      read_post(p, source, a, b);
      pre.insert(pre.begin(), a.begin(), a.end());
      suf.insert(suf.end(), b.begin(), b.end());
    }
    return;
  }
  if (t == "TemplateProcessing") {
    const json& single = j.at("single");
    if (!single.is_array()) fail(source + ": TemplateProcessing 'single' is not a list");
    const json& specials = j.value("special_tokens", json::object());
    bool seen_a = false;
    for (const auto& piece : single) {
      if (piece.contains("Sequence")) {
        if (seen_a) fail(source + ": TemplateProcessing 'single' uses the sequence twice");
        seen_a = true;
        continue;
      }
      if (!piece.contains("SpecialToken")) fail(source + ": unsupported TemplateProcessing piece " + piece.dump());
      const std::string id = piece["SpecialToken"].at("id").get<std::string>();
      if (!specials.contains(id)) fail(source + ": TemplateProcessing special token '" + id + "' is not defined");
      for (const auto& x : specials[id].at("ids")) (seen_a ? suf : pre).push_back(x.get<int>());
    }
    if (!seen_a) fail(source + ": TemplateProcessing 'single' has no sequence");
    return;
  }
  if (t == "RobertaProcessing" || t == "BertProcessing") {
    pre.push_back(j.at("cls").at(1).get<int>());
    suf.push_back(j.at("sep").at(1).get<int>());
    return;
  }
  fail(source + ": unsupported post_processor '" + t + "'");
}

}  // namespace

std::unique_ptr<HfTokenizer> HfTokenizer::from_json(const std::string& text, const std::string& config,
                                                    const std::string& source) {
  TokenizerFile file = read_tokenizer_json(text, source);
  const json& j = file.doc;
  auto t = std::unique_ptr<HfTokenizer>(new HfTokenizer());
  t->source_ = source;
  try {
    if (!j.contains("model") || !j["model"].is_object()) fail(source + ": no model object");
    const json& m = j["model"];
    const std::string mt = m.value("type", std::string("BPE"));
    if (mt != "BPE") fail(source + ": unsupported model '" + mt + "' (only BPE)");
    t->model_ = std::make_unique<Bpe>(m, std::move(file.vocab), file.merges, source);
    for (const auto& a : j.value("added_tokens", json::array())) {
      AddedToken at;
      at.content = a.at("content").get<std::string>();
      at.id = a.at("id").get<int>();
      at.special = a.value("special", false);
      at.normalized = a.value("normalized", !at.special);
      at.lstrip = a.value("lstrip", false);
      at.rstrip = a.value("rstrip", false);
      at.single_word = a.value("single_word", false);
      (at.normalized ? t->normalized_added_ : t->raw_added_).add(at);
      t->added_text_[at.id] = at.content;
    }
    t->normalizer_ = make_normalizer(j.value("normalizer", json()), source);
    t->pre_tokenizer_ = make_pre_tokenizer(j.value("pre_tokenizer", json()), source);
    t->decoder_ = make_decoder(j.value("decoder", json()), source);
    const json post = j.value("post_processor", json());
    if (!post.is_null()) {
      t->has_post_ = true;
      read_post(post, source, t->post_prefix_, t->post_suffix_);
    }
  } catch (const json::exception& e) {
    fail(source + ": malformed tokenizer.json (" + std::string(e.what()) + ")");
  }
  // BOS: the post_processor's leading special token; without a post_processor, tokenizer_config.json's
  // bos_token (string or {content}) and add_bos_token (default false: the library adds nothing).
  if (t->has_post_) {
    t->add_bos = !t->post_prefix_.empty();
    if (t->add_bos) t->bos_ = t->post_prefix_.front();
  } else {
    t->add_bos = false;
    json c = config.empty() ? json() : json::parse(config, nullptr, false);
    std::string bos_tok;
    if (c.is_object() && c.contains("bos_token")) {
      if (c["bos_token"].is_string()) bos_tok = c["bos_token"].get<std::string>();
      if (c["bos_token"].is_object()) bos_tok = c["bos_token"].value("content", std::string());
    }
    if (c.is_object() && c.contains("add_bos_token") && c["add_bos_token"].is_boolean()) t->add_bos = c["add_bos_token"].get<bool>();
    for (const auto& [id, s] : t->added_text_)
      if (!bos_tok.empty() && s == bos_tok) t->bos_ = id;
    if (t->bos_ < 0 && !bos_tok.empty()) {
      auto it = t->model_->vocab().find(bos_tok);
      if (it != t->model_->vocab().end()) t->bos_ = it->second;
    }
    if (t->bos_ < 0) t->add_bos = false;
  }
  return t;
}

std::vector<int> HfTokenizer::encode(const std::string& text) const {
  if (!valid_utf8(text)) fail(source_ + ": the text is not valid UTF-8");
  std::vector<Piece> pieces;
  raw_added_.split(text, true, pieces);
  // normalize each remaining segment, then cut out the added tokens that match normalized text
  std::vector<Piece> norm;
  norm.reserve(pieces.size());
  for (auto& p : pieces) {
    if (p.token >= 0) {
      norm.push_back(std::move(p));
      continue;
    }
    if (normalizer_) normalizer_(p.s);
    if (p.s.empty()) continue;
    if (normalized_added_.empty()) norm.push_back(std::move(p));
    else normalized_added_.split(p.s, p.at_start, norm);
  }
  if (pre_tokenizer_) pre_tokenizer_(norm);
  std::vector<int> ids;
  ids.reserve(text.size() / 3);
  for (const auto& p : norm) {
    if (p.token >= 0) ids.push_back(p.token);
    else model_->tokenize(p.s, ids);
  }
  return ids;
}

std::vector<int> HfTokenizer::encode_special(const std::string& text) const {
  if (!has_post_) return Tokenizer::encode_special(text);
  std::vector<int> ids = post_prefix_;
  const auto body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.insert(ids.end(), post_suffix_.begin(), post_suffix_.end());
  return ids;
}

std::string HfTokenizer::token_text(int id) const {
  auto it = added_text_.find(id);
  if (it != added_text_.end()) return it->second;
  const auto& v = model_->id_to_token();
  return id >= 0 && id < static_cast<int>(v.size()) ? v[static_cast<std::size_t>(id)] : std::string();
}

std::string HfTokenizer::decode(const std::vector<int>& ids) const {
  std::vector<std::string> toks;
  for (int id : ids) {
    std::string s = token_text(id);
    if (!s.empty()) toks.push_back(std::move(s));
  }
  if (!decoder_) {  // the library joins with spaces when there is no decoder
    std::string out;
    for (std::size_t i = 0; i < toks.size(); ++i) out += (i ? " " : "") + toks[i];
    return out;
  }
  decoder_(toks);
  std::string out;
  for (const auto& s : toks) out += s;
  return out;
}

}  // namespace squint::text
