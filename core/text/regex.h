#pragma once
// The Split regexes of tokenizer.json through PCRE2 (UTF + UCP, JIT when available). Hugging Face compiles
// them with Oniguruma; the two engines agree on the constructs these files use (\p{L}, \p{N}, classes,
// (?i:...), lookahead), except the shorthand classes: PCRE2's \s also matches U+180E and its \w misses
// combining marks, so \s \S \w \W are rewritten into Oniguruma's Unicode definitions before compiling.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace squint::text {

class Regex {
 public:
  explicit Regex(const std::string& pattern);  // throws squint::Error naming the pattern
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  // Non-overlapping matches left to right as byte ranges [begin, end); an empty match advances one
  // code point (as Oniguruma's find_iter does).
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view s) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Oniguruma -> PCRE2 rewrite described above (exposed for tests).
std::string onig_to_pcre2(const std::string& pattern);
// A literal string as a regex (tokenizers' {"String": ...} patterns).
std::string regex_escape(std::string_view s);

}  // namespace squint::text
