#pragma once
// Helpers for tests: build safetensors files in memory or on disk, temp folders, run the CLI.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "io/byte_source.h"
#include "io/dtype.h"
#include "io/safetensors.h"
#include "test_util_core.h"

namespace squint::test {

using FakeTensor = StTensor;

// A valid safetensors file holding the tensors, in order.
inline std::vector<uint8_t> make_safetensors(const std::vector<FakeTensor>& ts,
                                             const std::map<std::string, std::string>& meta = {}) {
  return make_st(ts, meta);
}
// A raw file from a header string and a data section (for malformed-file tests).
inline std::vector<uint8_t> raw_safetensors(const std::string& header, const std::vector<uint8_t>& data,
                                            int64_t declared_len = -1) {
  return raw_st(header, data, declared_len);
}
void write_bytes(const std::filesystem::path& p, const std::vector<uint8_t>& b);
void write_text(const std::filesystem::path& p, const std::string& s);

// A fresh temporary folder removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir();
  ~TempDir();
  std::string str(const std::string& sub = "") const { return (path / sub).string(); }
};

// Runs a shell command; returns its exit code and captures stdout+stderr.
int run(const std::string& cmd, std::string* output = nullptr);
std::string cli();          // path of the built squint binary
std::string shared_dir();   // ../shared
inline std::string stories() { return shared_dir() + "/models/stories260K"; }   // the smallest real model
inline std::string eval_text() { return shared_dir() + "/data/tinystories/eval.txt"; }  // held-out text
// Bit-identical float vectors (NaNs and signed zeros included).
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}
// `s` with every occurrence of each key of `v` replaced by its value ("{A}" -> a path): command templates.
inline std::string fill(std::string s, const std::map<std::string, std::string>& v) {
  for (const auto& [k, x] : v)
    for (std::size_t p; (p = s.find(k)) != std::string::npos;) s.replace(p, k.size(), x);
  return s;
}
// A model folder under ../shared/models.
inline std::string shared_model(const std::string& name) { return shared_dir() + "/models/" + name; }
std::vector<float> randn(std::size_t n, uint64_t seed, float scale = 1.0f);

}  // namespace squint::test
