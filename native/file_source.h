#pragma once
// Native byte sources: files are opened read-only (never written) and read with pread, so streamed
// tensors go through the page cache without counting towards our RSS; folders are FileProviders.
#include <memory>
#include <optional>
#include <string>

#include "io/byte_source.h"
#include "io/checkpoint.h"

namespace squint {

class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::string& path);
  ~FileSource() override;
  uint64_t size() const override { return size_; }
  // Thread-safe: pread carries its own offset, so concurrent calls never share a file position.
  void read_at(uint64_t offset, std::span<uint8_t> dst) const override;
  const std::string& name() const override { return name_; }

 private:
  std::string name_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

class DirProvider : public FileProvider {
 public:
  explicit DirProvider(std::string dir) : dir_(std::move(dir)) {}
  bool exists(const std::string& file) const override;
  std::unique_ptr<ByteSource> open(const std::string& file) const override;
  std::vector<std::string> list() const override;
  std::string location() const override { return dir_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// MODEL is a folder or one .safetensors file (whose folder then supplies config.json).
struct ModelPath {
  std::unique_ptr<DirProvider> provider;
  std::optional<std::string> single_file;
};
ModelPath resolve_model_path(const std::string& path);
Checkpoint open_model(const std::string& path);

std::string read_text_file(const std::string& path);
bool is_directory(const std::string& path);
bool path_exists(const std::string& path);

}  // namespace squint
