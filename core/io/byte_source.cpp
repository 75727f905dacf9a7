#include "io/byte_source.h"

#include <cstring>

#include "util/error.h"

namespace squint {

void ByteSource::check_range(uint64_t offset, uint64_t len) const {
  const uint64_t n = size();
  if (offset > n || len > n - offset)
    fail(name() + ": read of " + std::to_string(len) + " bytes at offset " + std::to_string(offset) +
         " runs past the end of the file (" + std::to_string(n) + " bytes)");
}

void MemorySource::read_at(uint64_t offset, std::span<uint8_t> dst) const {
  check_range(offset, dst.size());
  if (!dst.empty()) std::memcpy(dst.data(), bytes_->data() + offset, dst.size());
}

bool MemoryProvider::exists(const std::string& file) const {
  for (const auto& f : files_)
    if (f.first == file) return true;
  return false;
}

std::unique_ptr<ByteSource> MemoryProvider::open(const std::string& file) const {
  for (const auto& f : files_)
    if (f.first == file) return std::make_unique<MemorySource>(f.first, f.second);
  fail(file + ": no such file");
}

std::vector<std::string> MemoryProvider::list() const {
  std::vector<std::string> out;
  for (const auto& f : files_) out.push_back(f.first);
  return out;
}

std::string read_all_text(const ByteSource& src, uint64_t max_bytes) {
  uint64_t n = src.size();
  if (n > max_bytes) fail(src.name() + ": file is " + std::to_string(n) + " bytes, more than the " + std::to_string(max_bytes) + " allowed");
  std::string s(n, '\0');
  if (n) src.read(0, n, reinterpret_cast<uint8_t*>(s.data()));
  return s;
}

}  // namespace squint
