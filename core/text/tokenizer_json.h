#pragma once
// Reads tokenizer.json in one SAX pass: model.vocab and model.merges (hundreds of thousands of entries)
// go straight into flat tables, everything else into a small JSON document. Building them as a JSON DOM
// first cost seconds per load on the 33 MB Gemma 3 file.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace squint::text {

struct TokenizerFile {
  nlohmann::json doc;  // the file with model.vocab = {} and model.merges = []
  std::vector<std::pair<std::string, int>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;  // both JSON forms: "a b" and ["a", "b"]
};

// Throws squint::Error (naming `source`) on invalid JSON or malformed vocab/merges entries.
TokenizerFile read_tokenizer_json(const std::string& text, const std::string& source);

}  // namespace squint::text
