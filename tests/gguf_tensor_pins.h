// A GGUF file's tensors by name, and llama_model_quantize requests that give each tensor squint's type: the
// imatrix tests compare squint's GGUF files with llama.cpp's byte for byte this way.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "file_source.h"
#include "io/gguf.h"
#include "llama_quantize.h"

namespace squint::test {

// name -> (ggml type, tensor bytes)
using GgufTensorData = std::map<std::string, std::pair<uint32_t, std::vector<uint8_t>>>;

inline GgufTensorData gguf_tensor_data(const std::string& path) {
  FileSource f(path);
  const GgufFile g = read_gguf(f);
  GgufTensorData out;
  for (const auto& t : g.tensors) {
    std::vector<uint8_t> b(t.nbytes);
    f.read(g.absolute_offset(t), b.size(), b.data());
    out[t.name] = {t.type, std::move(b)};
  }
  return out;
}

// One --tensor-type override per quantized tensor of `ours` (its name anchored, dots escaped) with its type;
// float tensors are left to the request's ftype. Returns the names of the types pinned.
inline std::set<std::string> pin_tensor_types(LlamaQuantizeRequest& r, const GgufTensorData& ours) {
  std::set<std::string> types;
  for (const auto& [name, t] : ours) {
    if (gguf_type_size(t.first).block <= 1) continue;  // float tensors: kept
    std::string re = "^";
    for (char c : name) re += (c == '.' ? std::string("\\.") : std::string(1, c));
    r.tensor_types.emplace_back(re + "$", t.first);
    types.insert(gguf_type_size(t.first).name);
  }
  return types;
}

}  // namespace squint::test
