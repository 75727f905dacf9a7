#pragma once
// The one way core/ reads bytes: native/ implements it over mmap/pread, the browser over Blob.slice
// (FileReaderSync in a worker), tests over memory.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace squint {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Copies exactly `len` bytes at `offset` into `dst`; throws squint::Error on a short read.
  virtual void read(uint64_t offset, uint64_t len, uint8_t* dst) = 0;
  // Name used in error messages (usually the file name).
  virtual const std::string& name() const = 0;
};

// A model is a set of named files (a directory, dropped browser files, a test's in-memory map).
class FileProvider {
 public:
  virtual ~FileProvider() = default;
  virtual bool exists(const std::string& file) const = 0;
  virtual std::unique_ptr<ByteSource> open(const std::string& file) const = 0;
  // All file names, for discovering single-file checkpoints with non-standard names.
  virtual std::vector<std::string> list() const = 0;
  // Human-readable location for messages ("/models/llama", "dropped files").
  virtual std::string location() const = 0;
};

class MemorySource : public ByteSource {
 public:
  MemorySource(std::string name, std::vector<uint8_t> bytes) : name_(std::move(name)), bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_.size(); }
  void read(uint64_t offset, uint64_t len, uint8_t* dst) override;
  const std::string& name() const override { return name_; }

 private:
  std::string name_;
  std::vector<uint8_t> bytes_;
};

// Files held in memory (tests, fuzzers, small browser files).
class MemoryProvider : public FileProvider {
 public:
  void add(const std::string& file, std::vector<uint8_t> bytes) { files_.emplace_back(file, std::move(bytes)); }
  void add(const std::string& file, const std::string& text) { add(file, std::vector<uint8_t>(text.begin(), text.end())); }
  bool exists(const std::string& file) const override;
  std::unique_ptr<ByteSource> open(const std::string& file) const override;
  std::vector<std::string> list() const override;
  std::string location() const override { return "memory"; }

 private:
  std::vector<std::pair<std::string, std::vector<uint8_t>>> files_;
};

// Reads a whole (small) file as text, e.g. config.json.
std::string read_all_text(ByteSource& src, uint64_t max_bytes = 64ull << 20);

}  // namespace squint
