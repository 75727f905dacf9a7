#pragma once
// The stages of a tokenizer.json around the model, interpreted as Hugging Face tokenizers runs them:
// normalizers (per segment between added tokens), pre-tokenizers (splitting segments into words, each
// split rule with its `behavior`), and decoders (token strings back to text). A component or option this
// code does not implement is an Error naming it, never an approximation.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace squint::text {

// One piece of the text on its way to the model. `token` >= 0: an added token, already final.
// `at_start`: the piece begins at offset 0 of the original text (Metaspace prepend_scheme "first").
struct Piece {
  std::string s;
  bool at_start = false;
  int token = -1;
};

using Normalizer = std::function<void(std::string&)>;
using PreTokenizer = std::function<void(std::vector<Piece>&)>;
using Decoder = std::function<void(std::vector<std::string>&)>;

// null JSON -> an empty function (no stage). `source` names the file in errors.
Normalizer make_normalizer(const nlohmann::json& j, const std::string& source);
PreTokenizer make_pre_tokenizer(const nlohmann::json& j, const std::string& source);
Decoder make_decoder(const nlohmann::json& j, const std::string& source);

// GPT-2's byte <-> printable code point map used by ByteLevel (UTF-8 of the code point for byte b).
const std::string& byte_to_unicode(unsigned char b);
// Inverse: code point -> byte, -1 when the code point is not in the map.
int unicode_to_byte(uint32_t cp);

}  // namespace squint::text
