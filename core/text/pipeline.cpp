#include "text/pipeline.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "text/regex.h"
#include "text/unicode.h"
#include "util/byte_level.h"
#include "util/error.h"
#include "util/json_guard.h"

namespace squint::text {

using nlohmann::json;

namespace {

using Span = std::pair<std::size_t, std::size_t>;
struct Match {
  Span at;
  bool is_match;
};

std::string type_of(const json& j, const std::string& source, const char* what) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) fail(source + ": " + what + " without a type");
  return j["type"].get<std::string>();
}

[[noreturn]] void unsupported(const std::string& source, const char* what, const std::string& type) {
  fail(source + ": unsupported " + std::string(what) + " '" + type + "'");
}

// ---- patterns (tokenizers' Pattern::find_matches): the whole string as matched / unmatched spans ----

std::vector<Match> regex_matches(const Regex& re, std::string_view s) {
  std::vector<Match> out;
  if (s.empty()) return {{{0, 0}, false}};
  std::size_t prev = 0;
  for (auto [b, e] : re.find_all(s)) {
    if (prev != b) out.push_back({{prev, b}, false});
    out.push_back({{b, e}, true});
    prev = e;
  }
  if (prev != s.size()) out.push_back({{prev, s.size()}, false});
  return out;
}

template <class Pred>
std::vector<Match> pred_matches(Pred pred, std::string_view s) {
  if (s.empty()) return {{{0, 0}, false}};
  std::vector<Match> out;
  std::size_t last = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t b = i;
    const uint32_t c = next_cp(s, i);
    if (pred(c)) {
      if (last < b) out.push_back({{last, b}, false});
      out.push_back({{b, i}, true});
      last = i;
    }
  }
  if (s.size() > last) out.push_back({{last, s.size()}, false});
  return out;
}

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior parse_behavior(const json& j, const std::string& source) {
  const std::string b = j.is_string() ? j.get<std::string>() : std::string();
  if (b == "Removed") return Behavior::Removed;
  if (b == "Isolated") return Behavior::Isolated;
  if (b == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (b == "MergedWithNext") return Behavior::MergedWithNext;
  if (b == "Contiguous") return Behavior::Contiguous;
  fail(source + ": unsupported split behavior " + j.dump());
}

// NormalizedString::split: which spans survive and how they join, per behavior.
std::vector<Span> apply_behavior(std::vector<Match> m, Behavior b) {
  std::vector<std::pair<Span, bool>> acc;  // (span, remove)
  switch (b) {
    case Behavior::Isolated:
      for (auto& x : m) acc.push_back({x.at, false});
      break;
    case Behavior::Removed:
      for (auto& x : m) acc.push_back({x.at, x.is_match});
      break;
    case Behavior::Contiguous: {
      bool prev = false;
      for (auto& x : m) {
        if (x.is_match == prev && !acc.empty()) acc.back().first.second = x.at.second;
        else acc.push_back({x.at, false});
        prev = x.is_match;
      }
      break;
    }
    case Behavior::MergedWithPrevious: {
      bool prev = false;
      for (auto& x : m) {
        if (x.is_match && !prev && !acc.empty()) acc.back().first.second = x.at.second;
        else acc.push_back({x.at, false});
        prev = x.is_match;
      }
      break;
    }
    case Behavior::MergedWithNext: {
      bool prev = false;
      for (auto it = m.rbegin(); it != m.rend(); ++it) {
        if (it->is_match && !prev && !acc.empty()) acc.back().first.first = it->at.first;
        else acc.push_back({it->at, false});
        prev = it->is_match;
      }
      std::reverse(acc.begin(), acc.end());
      break;
    }
  }
  std::vector<Span> out;
  for (auto& [sp, rm] : acc)
    if (!rm) out.push_back(sp);
  return out;
}

// PreTokenizedString::split: splits every piece that is not yet a token; empty results are dropped.
template <class F>
void split_pieces(std::vector<Piece>& pieces, F matches_of, Behavior b, bool invert = false) {
  std::vector<Piece> out;
  out.reserve(pieces.size());
  for (auto& p : pieces) {
    if (p.token >= 0) {
      out.push_back(std::move(p));
      continue;
    }
    auto m = matches_of(std::string_view(p.s));
    if (invert)
      for (auto& x : m) x.is_match = !x.is_match;
    for (auto [b0, e0] : apply_behavior(std::move(m), b))
      if (e0 > b0) out.push_back({p.s.substr(b0, e0 - b0), p.at_start && b0 == 0, -1});
  }
  pieces = std::move(out);
}

// ---- normalizers ----

std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  std::string out;
  std::size_t at = 0;
  for (std::size_t p; (p = s.find(from, at)) != std::string::npos; at = p + from.size()) out.append(s, at, p - at).append(to);
  out.append(s, at, std::string::npos);
  return out;
}

// {"String": "..."} or {"Regex": "..."} -> a regex (string patterns escaped), or the literal when String.
struct PatternSpec {
  bool is_regex = false;
  std::string text;
};
PatternSpec parse_pattern(const json& j, const std::string& source) {
  if (j.is_object() && j.contains("String") && j["String"].is_string()) return {false, j["String"].get<std::string>()};
  if (j.is_object() && j.contains("Regex") && j["Regex"].is_string()) return {true, j["Regex"].get<std::string>()};
  fail(source + ": unsupported pattern " + j.dump());
}

template <class F>
std::string map_chars(const std::string& s, F f) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) f(out, next_cp(s, i));
  return out;
}

}  // namespace

Normalizer make_normalizer(const json& j, const std::string& source) {
  if (j.is_null()) return {};
  const std::string t = type_of(j, source, "normalizer");
  if (t == "Sequence") {
    std::vector<Normalizer> parts;
    for (const auto& n : j.at("normalizers"))
      if (auto f = make_normalizer(n, source)) parts.push_back(std::move(f));
    return [parts](std::string& s) {
      for (const auto& f : parts) f(s);
    };
  }
  if (t == "NFC") return [](std::string& s) { s = normalize(s, NormForm::NFC); };
  if (t == "NFD") return [](std::string& s) { s = normalize(s, NormForm::NFD); };
  if (t == "NFKC") return [](std::string& s) { s = normalize(s, NormForm::NFKC); };
  if (t == "NFKD") return [](std::string& s) { s = normalize(s, NormForm::NFKD); };
  if (t == "Lowercase") return [](std::string& s) { s = map_chars(s, [](std::string& o, uint32_t c) { append_lower(o, c); }); };
  if (t == "StripAccents")
    return [](std::string& s) {
      s = map_chars(s, [](std::string& o, uint32_t c) {
        if (!is_mark_nonspacing(c)) append_utf8(o, c);
      });
    };
  if (t == "Strip") {
    const bool l = j.value("strip_left", true), r = j.value("strip_right", true);
    return [l, r](std::string& s) {
      std::size_t b = s.size(), e = 0;  // first / one past the last non-whitespace byte
      for (std::size_t i = 0; i < s.size();) {
        const std::size_t at = i;
        if (!is_whitespace(next_cp(s, i))) b = std::min(b, at), e = i;
      }
      if (b == s.size()) {  // all whitespace
        if (l || r) s.clear();
        return;
      }
      s = s.substr(l ? b : 0, (r ? e : s.size()) - (l ? b : 0));
    };
  }
  if (t == "Prepend") {
    const std::string p = j.at("prepend").get<std::string>();
    return [p](std::string& s) {
      if (!s.empty()) s = p + s;
    };
  }
  if (t == "Replace") {
    const PatternSpec ps = parse_pattern(j.at("pattern"), source);
    const std::string content = j.at("content").get<std::string>();
    if (!ps.is_regex) return [from = ps.text, content](std::string& s) { s = replace_all(s, from, content); };
    auto re = std::make_shared<Regex>(ps.text);
    return [re, content](std::string& s) {
      std::string out;
      std::size_t prev = 0;
      for (auto [b, e] : re->find_all(s)) out.append(s, prev, b - prev).append(content), prev = e;
      out.append(s, prev, std::string::npos);
      s = std::move(out);
    };
  }
  if (t == "BertNormalizer") {
    const bool clean = j.value("clean_text", true), chinese = j.value("handle_chinese_chars", true);
    const bool lower = j.value("lowercase", true);
    const bool strip = j.contains("strip_accents") && j["strip_accents"].is_boolean() ? j["strip_accents"].get<bool>() : lower;
    return [=](std::string& s) {
      if (clean)
        s = map_chars(s, [](std::string& o, uint32_t c) {
          if (c == 0 || c == 0xFFFD || is_control(c)) return;
          if (c == '\t' || c == '\n' || c == '\r' || is_whitespace(c)) o += ' ';
          else append_utf8(o, c);
        });
      if (chinese)
        s = map_chars(s, [](std::string& o, uint32_t c) {
          if (is_chinese_char(c)) o += ' ', append_utf8(o, c), o += ' ';
          else append_utf8(o, c);
        });
      if (strip) {
        s = normalize(s, NormForm::NFD);
        s = map_chars(s, [](std::string& o, uint32_t c) {
          if (!is_mark_nonspacing(c)) append_utf8(o, c);
        });
      }
      if (lower) s = map_chars(s, [](std::string& o, uint32_t c) { append_lower(o, c); });
    };
  }
  unsupported(source, "normalizer", t);
}

// ---- byte-level map (util/byte_level.h) ----

namespace {
const char* kGpt2Split = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
}  // namespace

const std::string& byte_to_unicode(unsigned char b) { return byte_level_char(b); }
int unicode_to_byte(uint32_t cp) { return byte_level_byte(cp); }

// ---- pre-tokenizers ----

PreTokenizer make_pre_tokenizer(const json& j, const std::string& source) {
  if (j.is_null()) return {};
  const std::string t = type_of(j, source, "pre_tokenizer");
  if (t == "Sequence") {
    std::vector<PreTokenizer> parts;
    for (const auto& p : j.at("pretokenizers"))
      if (auto f = make_pre_tokenizer(p, source)) parts.push_back(std::move(f));
    return [parts](std::vector<Piece>& ps) {
      for (const auto& f : parts) f(ps);
    };
  }
  if (t == "Split") {
    const PatternSpec ps = parse_pattern(j.at("pattern"), source);
    auto re = std::make_shared<Regex>(ps.is_regex ? ps.text : regex_escape(ps.text));
    const Behavior b = parse_behavior(j.at("behavior"), source);
    const bool invert = j.value("invert", false);
    // An empty String pattern matches nothing (tokenizers special-cases it).
    const bool never = !ps.is_regex && ps.text.empty();
    return [re, b, invert, never](std::vector<Piece>& v) {
      split_pieces(
          v, [&](std::string_view s) { return never ? std::vector<Match>{{{0, s.size()}, false}} : regex_matches(*re, s); }, b, invert);
    };
  }
  if (t == "ByteLevel") {
    const bool prefix = j.value("add_prefix_space", true), use_regex = j.value("use_regex", true);
    auto re = std::make_shared<Regex>(kGpt2Split);
    return [prefix, use_regex, re](std::vector<Piece>& v) {
      if (prefix)
        for (auto& p : v)
          if (p.token < 0 && (p.s.empty() || p.s[0] != ' ')) p.s.insert(0, 1, ' ');
      if (use_regex) split_pieces(v, [&](std::string_view s) { return regex_matches(*re, s); }, Behavior::Isolated);
      for (auto& p : v)
        if (p.token < 0) p.s = byte_level_encode(p.s);
    };
  }
  if (t == "Metaspace") {
    const std::string rep = j.value("replacement", std::string("\xE2\x96\x81"));
    std::string scheme = "always";
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) scheme = j["prepend_scheme"].get<std::string>();
    else if (j.contains("add_prefix_space") && j["add_prefix_space"].is_boolean()) scheme = j["add_prefix_space"].get<bool>() ? "always" : "never";
    if (scheme != "always" && scheme != "first" && scheme != "never") fail(source + ": unsupported Metaspace prepend_scheme '" + scheme + "'");
    const bool split = j.value("split", true);
    std::size_t ri = 0;
    const uint32_t rep_cp = next_cp(rep, ri);
    return [rep, rep_cp, scheme, split](std::vector<Piece>& v) {
      for (auto& p : v) {
        if (p.token >= 0) continue;
        p.s = replace_all(p.s, " ", rep);
        const bool starts = p.s.compare(0, rep.size(), rep) == 0;
        if (!starts && (scheme == "always" || (scheme == "first" && p.at_start))) p.s = rep + p.s;
      }
      if (split) split_pieces(v, [&](std::string_view s) { return pred_matches([&](uint32_t c) { return c == rep_cp; }, s); }, Behavior::MergedWithNext);
    };
  }
  if (t == "Digits") {
    const bool individual = j.value("individual_digits", false);
    return [individual](std::vector<Piece>& v) {
      split_pieces(v, [](std::string_view s) { return pred_matches(is_numeric, s); }, individual ? Behavior::Isolated : Behavior::Contiguous);
    };
  }
  if (t == "Punctuation") {
    const Behavior b = j.contains("behavior") ? parse_behavior(j["behavior"], source) : Behavior::Isolated;
    return [b](std::vector<Piece>& v) { split_pieces(v, [](std::string_view s) { return pred_matches(is_punctuation, s); }, b); };
  }
  if (t == "Whitespace") {
    auto re = std::make_shared<Regex>(R"(\w+|[^\w\s]+)");
    return [re](std::vector<Piece>& v) { split_pieces(v, [&](std::string_view s) { return regex_matches(*re, s); }, Behavior::Removed, true); };
  }
  if (t == "WhitespaceSplit")
    return [](std::vector<Piece>& v) { split_pieces(v, [](std::string_view s) { return pred_matches(is_whitespace, s); }, Behavior::Removed); };
  if (t == "BertPreTokenizer")
    return [](std::vector<Piece>& v) {
      split_pieces(v, [](std::string_view s) { return pred_matches(is_whitespace, s); }, Behavior::Removed);
      split_pieces(v, [](std::string_view s) { return pred_matches(is_punctuation, s); }, Behavior::Isolated);
    };
  unsupported(source, "pre_tokenizer", t);
}

// ---- decoders (tokens -> tokens, as decode_chain) ----

Decoder make_decoder(const json& j, const std::string& source) {
  if (j.is_null()) return {};
  const std::string t = type_of(j, source, "decoder");
  if (t == "Sequence") {
    std::vector<Decoder> parts;
    for (const auto& d : j.at("decoders"))
      if (auto f = make_decoder(d, source)) parts.push_back(std::move(f));
    return [parts](std::vector<std::string>& v) {
      for (const auto& f : parts) f(v);
    };
  }
  if (t == "ByteLevel")
    return [](std::vector<std::string>& v) {
      std::string bytes;
      for (const auto& tok : v)
        for (std::size_t i = 0; i < tok.size();) {
          const std::size_t b = i;
          const int byte = unicode_to_byte(next_cp(tok, i));
          if (byte >= 0) bytes += static_cast<char>(byte);
          else bytes.append(tok, b, i - b);
        }
      // from_utf8_lossy: invalid sequences become U+FFFD
      std::string out;
      for (std::size_t i = 0; i < bytes.size();) append_utf8(out, next_cp(bytes, i));
      v = {out};
    };
  if (t == "Replace") {
    const PatternSpec ps = parse_pattern(j.at("pattern"), source);
    if (ps.is_regex) fail(source + ": unsupported Replace decoder with a Regex pattern");
    const std::string content = j.at("content").get<std::string>();
    return [from = ps.text, content](std::vector<std::string>& v) {
      for (auto& s : v) s = replace_all(s, from, content);
    };
  }
  if (t == "ByteFallback")
    return [](std::vector<std::string>& v) {
      std::vector<std::string> out;
      std::string pending;
      std::size_t npending = 0;
      auto flush = [&] {
        if (!npending) return;
        if (valid_utf8(pending)) out.push_back(pending);
        else
          for (std::size_t k = 0; k < npending; ++k) out.push_back("\xEF\xBF\xBD");
        pending.clear();
        npending = 0;
      };
      for (auto& s : v) {
        const bool byte = s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>' && std::isxdigit(static_cast<unsigned char>(s[3])) &&
                          std::isxdigit(static_cast<unsigned char>(s[4]));
        if (byte) {
          pending += static_cast<char>(std::stoi(s.substr(3, 2), nullptr, 16));
          ++npending;
        } else {
          flush();
          out.push_back(std::move(s));
        }
      }
      flush();
      v = std::move(out);
    };
  if (t == "Fuse")
    return [](std::vector<std::string>& v) {
      std::string all;
      for (auto& s : v) all += s;
      v = {all};
    };
  if (t == "Strip") {
    const std::string content = j.at("content").get<std::string>();
    std::size_t ci = 0;
    const uint32_t c = next_cp(content, ci);
    const std::size_t start = json_int_or<std::size_t>(j, "start", 0, "Strip decoder"),
                      stop = json_int_or<std::size_t>(j, "stop", 0, "Strip decoder");
    return [c, start, stop](std::vector<std::string>& v) {
      for (auto& s : v) {
        std::vector<std::size_t> at;  // code point starts
        std::vector<uint32_t> cps;
        for (std::size_t i = 0; i < s.size();) at.push_back(i), cps.push_back(next_cp(s, i));
        std::size_t b = 0, e = cps.size();
        while (b < std::min(start, cps.size()) && cps[b] == c) ++b;
        std::size_t k = 0;
        while (k < stop && e > b && cps[e - 1] == c) --e, ++k;
        s = b >= e ? std::string() : s.substr(at[b], (e < cps.size() ? at[e] : s.size()) - at[b]);
      }
    };
  }
  if (t == "Metaspace") {
    const std::string rep = j.value("replacement", std::string("\xE2\x96\x81"));
    std::string scheme = "always";
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) scheme = j["prepend_scheme"].get<std::string>();
    else if (j.contains("add_prefix_space") && j["add_prefix_space"].is_boolean()) scheme = j["add_prefix_space"].get<bool>() ? "always" : "never";
    return [rep, scheme](std::vector<std::string>& v) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        v[i] = replace_all(v[i], rep, " ");
        if (i == 0 && scheme != "never" && !v[i].empty() && v[i][0] == ' ') v[i].erase(0, 1);
      }
    };
  }
  if (t == "BPEDecoder") {
    const std::string suffix = j.value("suffix", std::string("</w>"));
    return [suffix](std::vector<std::string>& v) {
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = replace_all(v[i], suffix, i + 1 == v.size() ? "" : " ");
    };
  }
  unsupported(source, "decoder", t);
}

}  // namespace squint::text
