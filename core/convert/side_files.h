#pragma once
// Which files of a model travel with a converted copy of it (quantize, dequantize): the tokenizer,
// generation config, chat template and the like, never the weights, their index or config.json (the
// converter writes those anew).
#include <string>
#include <vector>

namespace squint {

// From a model folder: every regular file but *.safetensors, model.safetensors.index.json, config.json,
// hidden files and the files that describe the float weights (describes_weights).
bool is_side_file(const std::string& name);
// SOURCE.txt, TENSORS.txt, REFERENCE.txt: the float model's provenance, tensor list and reference outputs. A
// converted copy would carry them as if they described it; the converter writes its own SOURCE.txt instead.
bool describes_weights(const std::string& name);
// The SOURCE.txt of a converted model: what it is and what it was made from, then the original's SOURCE.txt
// (when it had one) quoted under a line that says whose it is.
std::string converted_source(const std::string& what, const std::string& made_from, const std::string& original_source);
// From a single .safetensors file, whose folder may hold anything: only these usual side files.
const std::vector<std::string>& known_side_files();

}  // namespace squint
