#include "eval/hf_tokenizer.h"

#include <algorithm>
#include <climits>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace squint {

using nlohmann::json;

namespace {

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// Splits UTF-8 into code-point strings (invalid bytes become single-byte pieces).
std::vector<std::string> utf8_chars(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + n > s.size()) n = 1;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

const std::vector<std::string>& byte_table() {
  static const std::vector<std::string> t = [] {
    std::vector<int> bs;
    for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
    for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
    for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
    std::vector<std::string> m(256);
    for (int b : bs) m[b] = utf8(static_cast<uint32_t>(b));
    int n = 0;
    for (int b = 0; b < 256; ++b)
      if (std::find(bs.begin(), bs.end(), b) == bs.end()) m[b] = utf8(256 + n++);
    return m;
  }();
  return t;
}

enum class Cls { Letter, Digit, Space, Other };
Cls cls(const std::string& ch) {
  const unsigned char c = static_cast<unsigned char>(ch[0]);
  if (c >= 0x80) return Cls::Letter;
  if (std::isalpha(c)) return Cls::Letter;
  if (std::isdigit(c)) return Cls::Digit;
  if (std::isspace(c)) return Cls::Space;
  return Cls::Other;
}

const char* kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};

}  // namespace

std::string byte_to_unicode(unsigned char b) { return byte_table()[b]; }

std::unique_ptr<HfBpeTokenizer> HfBpeTokenizer::from_json(const std::string& text, const std::string& config,
                                                          const std::string& source) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(source + ": not valid JSON");
  auto t = std::unique_ptr<HfBpeTokenizer>(new HfBpeTokenizer());
  try {
    const json& m = j.at("model");
    if (m.value("type", std::string("BPE")) != "BPE") fail(source + ": only BPE tokenizer models are supported");
    t->byte_fallback_ = m.value("byte_fallback", false);
    for (auto it = m.at("vocab").begin(); it != m.at("vocab").end(); ++it) {
      const int id = it.value().get<int>();
      t->vocab_[it.key()] = id;
      if (id >= static_cast<int>(t->id_to_token_.size())) t->id_to_token_.resize(id + 1);
      t->id_to_token_[id] = it.key();
    }
    int rank = 0;
    for (const auto& mg : m.at("merges")) {
      std::string a, b;
      if (mg.is_string()) {
        const std::string s = mg.get<std::string>();
        const auto sp = s.find(' ');
        if (sp == std::string::npos) fail(source + ": malformed merge '" + s + "'");
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else {
        a = mg.at(0).get<std::string>();
        b = mg.at(1).get<std::string>();
      }
      t->merge_rank_.emplace(a + '\x01' + b, rank++);
    }
    if (m.contains("unk_token") && m["unk_token"].is_string()) {
      auto u = t->vocab_.find(m["unk_token"].get<std::string>());
      if (u != t->vocab_.end()) t->unk_ = u->second;
    }
    for (const auto& a : j.value("added_tokens", json::array())) {
      const std::string c = a.at("content").get<std::string>();
      const int id = a.at("id").get<int>();
      t->added_.emplace_back(c, id);
      if (id >= static_cast<int>(t->id_to_token_.size())) t->id_to_token_.resize(id + 1);
      t->id_to_token_[id] = c;
    }
    std::sort(t->added_.begin(), t->added_.end(), [](auto& x, auto& y) { return x.first.size() > y.first.size(); });
    // Byte-level if a ByteLevel pre-tokenizer or decoder appears anywhere; the Llama-3 split if its pattern does.
    const std::string pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"].dump() : "null";
    const std::string dec = j.contains("decoder") ? j["decoder"].dump() : "null";
    t->byte_level_ = pre.find("ByteLevel") != std::string::npos || dec.find("ByteLevel") != std::string::npos;
    t->llama3_split_ = pre.find("\\\\p{N}{1,3}") != std::string::npos || pre.find("\\p{N}{1,3}") != std::string::npos;
    const std::string norm = j.contains("normalizer") ? j["normalizer"].dump() : "null";
    t->prepend_space_ = !t->byte_level_ &&
                        (norm.find("Prepend") != std::string::npos || pre.find("\"prepend_scheme\":\"always\"") != std::string::npos ||
                         pre.find("\"add_prefix_space\":true") != std::string::npos || norm == "null");
  } catch (const json::exception& e) {
    fail(source + ": malformed tokenizer.json (" + std::string(e.what()) + ")");
  }
  // BOS: tokenizer_config.json's bos_token (string or {content}) and add_bos_token.
  std::string bos_tok = t->byte_level_ ? "<|begin_of_text|>" : "<s>";
  t->add_bos = !t->byte_level_;
  json c = config.empty() ? json() : json::parse(config, nullptr, false);
  if (c.is_object()) {
    if (c.contains("bos_token") && c["bos_token"].is_string()) bos_tok = c["bos_token"].get<std::string>();
    if (c.contains("bos_token") && c["bos_token"].is_object()) bos_tok = c["bos_token"].value("content", bos_tok);
    if (c.contains("bos_token") && c["bos_token"].is_null()) bos_tok.clear();
    if (c.contains("add_bos_token") && c["add_bos_token"].is_boolean()) t->add_bos = c["add_bos_token"].get<bool>();
  }
  for (const auto& [s, id] : t->added_)
    if (s == bos_tok) t->bos_ = id;
  if (t->bos_ < 0) {
    auto it = t->vocab_.find(bos_tok);
    if (it != t->vocab_.end()) t->bos_ = it->second;
  }
  if (t->bos_ < 0) t->add_bos = false;
  return t;
}

std::vector<std::string> HfBpeTokenizer::bpe(std::vector<std::string> sym) const {
  while (sym.size() > 1) {
    int best = INT_MAX;
    std::size_t at = 0;
    for (std::size_t i = 0; i + 1 < sym.size(); ++i) {
      auto it = merge_rank_.find(sym[i] + '\x01' + sym[i + 1]);
      if (it != merge_rank_.end() && it->second < best) {
        best = it->second;
        at = i;
      }
    }
    if (best == INT_MAX) break;
    sym[at] += sym[at + 1];
    sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  }
  return sym;
}

std::vector<std::string> HfBpeTokenizer::pre_split(const std::string& text) const {
  // GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  // Llama 3: (?i:'s|…)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  const auto ch = utf8_chars(text);
  std::vector<std::string> out;
  std::size_t i = 0;
  auto join = [&](std::size_t a, std::size_t b) {
    std::string s;
    for (std::size_t k = a; k < b; ++k) s += ch[k];
    return s;
  };
  while (i < ch.size()) {
    if (ch[i] == "'") {
      bool hit = false;
      for (const char* c : kContractions) {
        const std::string cs(c);
        std::string cand = join(i, std::min(ch.size(), i + cs.size()));
        std::string low = cand;
        if (llama3_split_) std::transform(low.begin(), low.end(), low.begin(), ::tolower);
        if ((llama3_split_ ? low : cand) == cs) {
          out.push_back(cand);
          i += cs.size();
          hit = true;
          break;
        }
      }
      if (hit) continue;
    }
    const Cls c = cls(ch[i]);
    const bool nl = ch[i] == "\r" || ch[i] == "\n";
    // [optional prefix] letters
    std::size_t j = i;
    if (llama3_split_) {
      if (c != Cls::Letter && c != Cls::Digit && !nl && i + 1 < ch.size() && cls(ch[i + 1]) == Cls::Letter) j = i + 1;
    } else if (ch[i] == " " && i + 1 < ch.size() && cls(ch[i + 1]) != Cls::Space) {
      j = i + 1;
    }
    if (j < ch.size() && cls(ch[j]) == Cls::Letter && (j == i || llama3_split_ || ch[i] == " ")) {
      std::size_t k = j;
      while (k < ch.size() && cls(ch[k]) == Cls::Letter) ++k;
      out.push_back(join(i, k));
      i = k;
      continue;
    }
    if (j < ch.size() && cls(ch[j]) == Cls::Digit && (j == i || (!llama3_split_ && ch[i] == " "))) {
      std::size_t k = j;
      const std::size_t limit = llama3_split_ ? 3 : SIZE_MAX;
      while (k < ch.size() && cls(ch[k]) == Cls::Digit && k - j < limit) ++k;
      out.push_back(join(i, k));
      i = k;
      continue;
    }
    if (j < ch.size() && cls(ch[j]) == Cls::Other && (j == i || ch[i] == " ")) {
      std::size_t k = j;
      while (k < ch.size() && cls(ch[k]) == Cls::Other) ++k;
      if (llama3_split_)
        while (k < ch.size() && (ch[k] == "\r" || ch[k] == "\n")) ++k;
      out.push_back(join(i, k));
      i = k;
      continue;
    }
    // whitespace: \s+(?!\S) — leave the last space for the next word — else \s+
    std::size_t k = i;
    while (k < ch.size() && cls(ch[k]) == Cls::Space) ++k;
    if (k < ch.size() && k - i > 1) --k;
    if (k == i) k = i + 1;
    out.push_back(join(i, k));
    i = k;
  }
  return out;
}

void HfBpeTokenizer::encode_plain(const std::string& text, std::vector<int>& out) const {
  if (text.empty()) return;
  auto emit = [&](const std::string& tok) {
    auto it = vocab_.find(tok);
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
    if (byte_fallback_) {
      for (unsigned char b : tok) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        auto bt = vocab_.find(name);
        if (bt != vocab_.end()) out.push_back(bt->second);
        else if (unk_ >= 0) out.push_back(unk_);
      }
    } else if (unk_ >= 0) {
      out.push_back(unk_);
    }
  };
  if (byte_level_) {
    for (const auto& piece : pre_split(text)) {
      std::vector<std::string> sym;
      for (unsigned char b : piece) sym.push_back(byte_to_unicode(b));
      for (const auto& s : bpe(sym)) emit(s);
    }
    return;
  }
  std::string norm;
  for (char c : text) norm += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
  for (const auto& s : bpe(utf8_chars(norm))) emit(s);
}

std::vector<int> HfBpeTokenizer::encode(const std::string& text0) const {
  std::string text = text0;
  if (!byte_level_ && prepend_space_ && !text.empty()) text = " " + text;
  std::vector<int> out;
  std::size_t start = 0, i = 0;
  while (i < text.size()) {
    bool hit = false;
    for (const auto& [s, id] : added_)
      if (!s.empty() && text.compare(i, s.size(), s) == 0) {
        encode_plain(text.substr(start, i - start), out);
        out.push_back(id);
        i += s.size();
        start = i;
        hit = true;
        break;
      }
    if (!hit) ++i;
  }
  encode_plain(text.substr(start), out);
  return out;
}

std::string HfBpeTokenizer::decode(const std::vector<int>& ids) const {
  std::string raw;
  for (int id : ids)
    if (id >= 0 && id < static_cast<int>(id_to_token_.size())) raw += id_to_token_[id];
  if (byte_level_) {
    std::map<std::string, unsigned char> back;
    for (int b = 0; b < 256; ++b) back[byte_to_unicode(static_cast<unsigned char>(b))] = static_cast<unsigned char>(b);
    std::string out;
    for (const auto& c : utf8_chars(raw)) {
      auto it = back.find(c);
      out += it != back.end() ? std::string(1, static_cast<char>(it->second)) : c;
    }
    return out;
  }
  std::string out;
  for (std::size_t i = 0; i < raw.size();) {
    if (raw.compare(i, 3, "\xE2\x96\x81") == 0) {
      out += ' ';
      i += 3;
    } else if (raw.compare(i, 3, "<0x") == 0 && i + 5 < raw.size() + 1 && raw[i + 5] == '>') {
      out += static_cast<char>(std::stoi(raw.substr(i + 3, 2), nullptr, 16));
      i += 6;
    } else {
      out += raw[i++];
    }
  }
  if (prepend_space_ && !out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

}  // namespace squint
