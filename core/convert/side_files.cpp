#include "convert/side_files.h"

namespace squint {

bool is_side_file(const std::string& f) {
  if (f == "config.json" || f == "model.safetensors.index.json" || f.starts_with(".")) return false;
  return !f.ends_with(".safetensors");
}

const std::vector<std::string>& known_side_files() {
  static const std::vector<std::string> k = {"tokenizer.model",        "tokenizer.json",         "tokenizer_config.json",
                                             "special_tokens_map.json", "generation_config.json", "vocab.json",
                                             "merges.txt",             "added_tokens.json",      "chat_template.jinja",
                                             "chat_template.json"};
  return k;
}

}  // namespace squint
