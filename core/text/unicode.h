#pragma once
// UTF-8 and Unicode properties for the tokenizer (utf8proc underneath). The predicates follow Rust's
// `char` methods because that is what Hugging Face tokenizers calls (is_whitespace = White_Space,
// is_alphanumeric = Alphabetic | Numeric, is_numeric = Nd | Nl | No, punctuation = P*).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace squint::text {

// Decodes the code point at s[i] and advances i; invalid bytes decode as U+FFFD (one byte consumed).
uint32_t next_cp(std::string_view s, std::size_t& i);
void append_utf8(std::string& out, uint32_t cp);
std::string utf8(uint32_t cp);
// Byte length of the UTF-8 sequence starting with lead byte c (1 for invalid leads).
inline std::size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1; }
bool valid_utf8(std::string_view s);

bool is_whitespace(uint32_t cp);
bool is_alphabetic(uint32_t cp);
bool is_numeric(uint32_t cp);
inline bool is_alphanumeric(uint32_t cp) { return is_alphabetic(cp) || is_numeric(cp); }
bool is_punctuation(uint32_t cp);  // Rust's is_ascii_punctuation || Unicode P* (tokenizers' is_punc)
bool is_control(uint32_t cp);      // general category Cc/Cf/Co/Cn... as BertNormalizer uses it
bool is_mark_nonspacing(uint32_t cp);
bool is_chinese_char(uint32_t cp);

// Full lowercase of one code point, as Rust's char::to_lowercase (İ -> i + U+0307).
void append_lower(std::string& out, uint32_t cp);

enum class NormForm { NFC, NFD, NFKC, NFKD };
std::string normalize(std::string_view s, NormForm f);

}  // namespace squint::text
