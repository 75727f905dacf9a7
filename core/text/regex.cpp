#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/regex.h"

#include <pcre2.h>

#include "text/unicode.h"
#include "util/error.h"

namespace squint::text {

namespace {
const char* kWhite = "\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
// Oniguruma's Unicode \w: Alphabetic, marks, decimal digits, connector punctuation, ZWNJ/ZWJ (PCRE2 10.42's
// \w lacks the marks).
const char* kWord = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}";
}  // namespace

std::string onig_to_pcre2(const std::string& p) {
  std::string out;
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char n = p[i + 1];
      if (n == 's' || n == 'w') {
        const std::string set = n == 's' ? kWhite : kWord;
        out += in_class ? set : "[" + set + "]";
      } else if ((n == 'S' || n == 'W') && !in_class) {
        out += "[^" + std::string(n == 'S' ? kWhite : kWord) + "]";
      } else {
        out += c;
        out += n;  // \S inside a class has no simple rewrite; kept (never used by real files)
      }
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // a leading ] is literal
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

std::string regex_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}-").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

struct Regex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
};

Regex::Regex(const std::string& pattern) : impl_(std::make_unique<Impl>()) {
  const std::string p = onig_to_pcre2(pattern);
  int err = 0;
  PCRE2_SIZE off = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(), PCRE2_UTF | PCRE2_UCP, &err, &off, nullptr);
  if (!impl_->code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    fail("tokenizer regex '" + pattern + "' does not compile: " + reinterpret_cast<const char*>(msg) + " at offset " +
         std::to_string(off));
  }
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() {
  if (impl_ && impl_->code) pcre2_code_free(impl_->code);
}

std::vector<std::pair<std::size_t, std::size_t>> Regex::find_all(std::string_view s) const {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  const auto* subj = reinterpret_cast<PCRE2_SPTR>(s.data());
  std::size_t at = 0;
  while (at <= s.size()) {
    // The subject is valid UTF-8 (checked once by the caller), so skip PCRE2's per-call check.
    const int rc = impl_->jit ? pcre2_jit_match(impl_->code, subj, s.size(), at, PCRE2_NO_UTF_CHECK, md, nullptr)
                              : pcre2_match(impl_->code, subj, s.size(), at, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      pcre2_match_data_free(md);
      fail("tokenizer regex match failed (PCRE2 error " + std::to_string(rc) + ")");
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const std::size_t b = ov[0], e = ov[1];
    if (e == b) {
      if (b >= s.size()) break;
      at = b + utf8_len(static_cast<unsigned char>(s[b]));
      continue;
    }
    out.emplace_back(b, e);
    at = e;
  }
  pcre2_match_data_free(md);
  return out;
}

}  // namespace squint::text
