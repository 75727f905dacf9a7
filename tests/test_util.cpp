#include "test_util.h"

#include <cstdio>
#include <fstream>
#include <random>

namespace squint::test {

std::vector<uint8_t> make_safetensors(const std::vector<FakeTensor>& ts, const std::map<std::string, std::string>& meta) {
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

std::vector<uint8_t> raw_safetensors(const std::string& header, const std::vector<uint8_t>& data, int64_t declared_len) {
  uint64_t n = declared_len >= 0 ? static_cast<uint64_t>(declared_len) : header.size();
  std::vector<uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>((n >> (8 * i)) & 0xff);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write_bytes(const std::filesystem::path& p, const std::vector<uint8_t>& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_text(const std::filesystem::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

TempDir::TempDir() {
  std::random_device rd;
  path = std::filesystem::temp_directory_path() / ("squint-test-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

int run(const std::string& cmd, std::string* output) {
  std::string full = cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (!p) return -1;
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  if (output) *output = out;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

std::string cli() { return SQUINT_CLI; }
std::string shared_dir() { return SQUINT_SHARED_DIR; }

std::vector<float> randn(std::size_t n, uint64_t seed, float scale) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

}  // namespace squint::test
