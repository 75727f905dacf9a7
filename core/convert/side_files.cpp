#include "convert/side_files.h"

namespace squint {

bool describes_weights(const std::string& f) { return f == "SOURCE.txt" || f == "TENSORS.txt" || f == "REFERENCE.txt"; }

bool is_side_file(const std::string& f) {
  if (f == "config.json" || f == "model.safetensors.index.json" || f.starts_with(".") || describes_weights(f))
    return false;
  return !f.ends_with(".safetensors");
}

std::string converted_source(const std::string& what, const std::string& made_from,
                             const std::string& original_source) {
  std::string s = "This model: " + what + ".\nMade from: " + made_from + ".\n";
  s += "The files that described the original's weights (SOURCE.txt, TENSORS.txt, REFERENCE.txt) are not copied; ";
  if (original_source.empty()) return s + "the original had no SOURCE.txt.\n";
  s += "the original's SOURCE.txt follows.\n\n--- SOURCE.txt of the original model ---\n" + original_source;
  if (!original_source.ends_with("\n")) s += "\n";
  return s;
}

const std::vector<std::string>& known_side_files() {
  static const std::vector<std::string> k = {"tokenizer.model",        "tokenizer.json",         "tokenizer_config.json",
                                             "special_tokens_map.json", "generation_config.json", "vocab.json",
                                             "merges.txt",             "added_tokens.json",      "chat_template.jinja",
                                             "chat_template.json"};
  return k;
}

}  // namespace squint
