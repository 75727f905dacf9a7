#pragma once
// Core-only test helpers (no OS calls), usable by the wasm build of the core tests.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "io/safetensors.h"

namespace squint::test {

struct StTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<float> values;  // empty = zeros
};

inline std::vector<uint8_t> make_st(const std::vector<StTensor>& ts, const std::map<std::string, std::string>& meta = {}) {
  std::vector<TensorSpec> specs;
  for (const auto& t : ts) specs.push_back({t.name, t.dtype, t.shape});
  std::string prefix = build_safetensors_prefix(specs, meta);
  std::vector<uint8_t> out(prefix.begin(), prefix.end());
  for (std::size_t i = 0; i < ts.size(); ++i) {
    std::vector<uint8_t> b(specs[i].nbytes(), 0);
    if (!ts[i].values.empty()) from_f32(ts[i].dtype, ts[i].values.data(), ts[i].values.size(), b.data());
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

inline std::vector<uint8_t> raw_st(const std::string& header, const std::vector<uint8_t>& data, int64_t declared = -1) {
  uint64_t n = declared >= 0 ? static_cast<uint64_t>(declared) : header.size();
  std::vector<uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>((n >> (8 * i)) & 0xff);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

}  // namespace squint::test
