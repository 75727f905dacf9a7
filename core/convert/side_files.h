#pragma once
// Which files of a model travel with a converted copy of it (quantize, dequantize): the tokenizer,
// generation config, chat template and the like, never the weights, their index or config.json (the
// converter writes those anew).
#include <string>
#include <vector>

namespace squint {

// From a model folder: every regular file but *.safetensors, model.safetensors.index.json, config.json and
// hidden files.
bool is_side_file(const std::string& name);
// From a single .safetensors file, whose folder may hold anything: only these usual side files.
const std::vector<std::string>& known_side_files();

}  // namespace squint
