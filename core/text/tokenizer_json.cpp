#include "text/tokenizer_json.h"
#include "util/json_guard.h"

#include "util/error.h"

namespace squint::text {

using nlohmann::json;

namespace {

// Forwards every event to nlohmann's DOM builder except the contents of model.vocab / model.merges.
class Sax : public json::json_sax_t {
 public:
  Sax(TokenizerFile& f, const std::string& source) : f_(f), dom_(f.doc, false), source_(source) {}

  bool null() override { return in_table() ? bad("null") : dom_.null(); }
  bool boolean(bool b) override { return in_table() ? bad("a boolean") : dom_.boolean(b); }
  bool number_integer(number_integer_t v) override { return in_table() ? vocab_id(v) : dom_.number_integer(v); }
  bool number_unsigned(number_unsigned_t v) override {
    return in_table() ? vocab_id(v > 1u << 30 ? -1 : static_cast<int64_t>(v)) : dom_.number_unsigned(v);
  }
  bool number_float(number_float_t v, const string_t& s) override { return in_table() ? bad("a float") : dom_.number_float(v, s); }
  bool binary(binary_t& b) override { return dom_.binary(b); }
  bool string(string_t& s) override {
    if (mode_ == Mode::Merges && depth_ == table_depth_) {  // "a b"
      const auto sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) fail(source_ + ": malformed merge '" + s + "'");
      f_.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      return true;
    }
    if (mode_ == Mode::Merges && depth_ == table_depth_ + 1) {  // ["a", "b"]
      pair_.push_back(std::move(s));
      return true;
    }
    return in_table() ? bad("a string") : dom_.string(s);
  }
  bool start_object(std::size_t n) override {
    ++depth_;
    if (mode_ != Mode::None) return bad("an object");
    if (depth_ == 3 && path_is("vocab")) {
      mode_ = Mode::Vocab;
      table_depth_ = depth_;
      return dom_.start_object(0);
    }
    return dom_.start_object(n);
  }
  bool key(string_t& k) override {
    if (depth_ <= 2) keys_[static_cast<std::size_t>(depth_)] = k;
    if (mode_ == Mode::Vocab) {
      key_ = std::move(k);
      return true;
    }
    return dom_.key(k);
  }
  bool end_object() override {
    --depth_;
    if (mode_ == Mode::Vocab && depth_ < table_depth_) mode_ = Mode::None;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) override {
    ++depth_;
    if (mode_ == Mode::Merges) {
      if (depth_ != table_depth_ + 1) return bad("a nested array");
      pair_.clear();
      return true;
    }
    if (mode_ == Mode::Vocab) return bad("an array");
    if (depth_ == 3 && path_is("merges")) {
      mode_ = Mode::Merges;
      table_depth_ = depth_;
      return dom_.start_array(0);
    }
    return dom_.start_array(n);
  }
  bool end_array() override {
    --depth_;
    if (mode_ == Mode::Merges) {
      if (depth_ == table_depth_) {
        if (pair_.size() != 2) fail(source_ + ": malformed merge (a pair needs two strings)");
        f_.merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
        return true;
      }
      mode_ = Mode::None;
    }
    return dom_.end_array();
  }
  bool parse_error(std::size_t pos, const std::string&, const json::exception&) override {
    fail(source_ + ": not valid JSON (at byte " + std::to_string(pos) + ")");
  }

 private:
  enum class Mode { None, Vocab, Merges };
  bool in_table() const { return mode_ != Mode::None; }
  bool path_is(const char* table) const { return keys_[1] == "model" && keys_[2] == table; }
  bool bad(const char* what) { fail(source_ + ": model." + (mode_ == Mode::Vocab ? "vocab" : "merges") + " holds " + what); }
  bool vocab_id(int64_t v) {
    if (mode_ != Mode::Vocab) return bad("a number");
    if (v < 0 || v > 50'000'000) fail(source_ + ": vocab id out of range for '" + key_ + "'");
    f_.vocab.emplace_back(std::move(key_), static_cast<int>(v));
    return true;
  }

  TokenizerFile& f_;
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  const std::string& source_;
  int depth_ = 0, table_depth_ = 0;
  Mode mode_ = Mode::None;
  std::string keys_[3], key_;
  std::vector<std::string> pair_;
};

}  // namespace

TokenizerFile read_tokenizer_json(const std::string& text, const std::string& source) {
  TokenizerFile f;
  Sax sax(f, source);
  json::sax_parse(text, &sax);
  if (!f.doc.is_object()) fail(source + ": not valid JSON");
  check_json_numbers(f.doc, source);  // before any get<int>/value(key, 0u) reads them
  return f;
}

}  // namespace squint::text
