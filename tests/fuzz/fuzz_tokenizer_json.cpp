// libFuzzer: the tokenizer.json reader (core/text), then encoding and decoding. Input: tokenizer.json,
// optionally followed by "\0" and a text to encode (otherwise a fixed mixed-script text).
#include <cstdint>
#include <string>

#include "text/hf_tokenizer.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  const auto nul = s.find('\0');
  const std::string json = s.substr(0, nul);
  const std::string text = nul == std::string::npos ? std::string("Hello  world\r\n<s>é 123 日本 \xF0\x9F\x98\x80</s>") : s.substr(nul + 1);
  try {
    auto t = squint::text::HfTokenizer::from_json(json, "", "fuzz-tokenizer.json");
    const auto ids = t->encode_special(text);
    t->decode(ids);
    for (int id : ids) t->token_text(id);
  } catch (const squint::Error&) {
  }
  return 0;
}
