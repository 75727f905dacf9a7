#pragma once
// The one way core/ reads bytes: native/ implements it over mmap/pread, the browser over Blob.slice
// (FileReaderSync in a worker), tests over memory.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace squint {

// Thread safety: read_at is const and every implementation must allow concurrent calls on one source
// (parallel loops read different rows of one file at once: FileSource uses pread, MemorySource only reads
// its shared buffer, the browser's JsSource lives in a single-threaded worker). This is what lets a
// `const Checkpoint&` be shared by the analysis, conversion and gate threads.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Fills `dst` with the bytes at `offset`; throws squint::Error on a short read or a range past the end.
  virtual void read_at(uint64_t offset, std::span<uint8_t> dst) const = 0;
  // The same, pointer + length.
  void read(uint64_t offset, uint64_t len, uint8_t* dst) const { read_at(offset, {dst, static_cast<std::size_t>(len)}); }
  // Name used in error messages (usually the file name).
  virtual const std::string& name() const = 0;

 protected:
  // Throws the one "runs past the end" message when [offset, offset + len) is not inside the source.
  void check_range(uint64_t offset, uint64_t len) const;
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

// Bytes in memory, shared (not copied) between the provider and every source opened on them.
class MemorySource : public ByteSource {
 public:
  MemorySource(std::string name, std::shared_ptr<const std::vector<uint8_t>> bytes)
      : name_(std::move(name)), bytes_(std::move(bytes)) {}
  MemorySource(std::string name, std::vector<uint8_t> bytes)
      : MemorySource(std::move(name), std::make_shared<const std::vector<uint8_t>>(std::move(bytes))) {}
  uint64_t size() const override { return bytes_->size(); }
  void read_at(uint64_t offset, std::span<uint8_t> dst) const override;
  const std::string& name() const override { return name_; }

 private:
  std::string name_;
  std::shared_ptr<const std::vector<uint8_t>> bytes_;
};

// Files held in memory (tests, fuzzers, small browser files).
class MemoryProvider : public FileProvider {
 public:
  void add(const std::string& file, std::vector<uint8_t> bytes) {
    files_.emplace_back(file, std::make_shared<const std::vector<uint8_t>>(std::move(bytes)));
  }
  void add(const std::string& file, const std::string& text) { add(file, std::vector<uint8_t>(text.begin(), text.end())); }
  bool exists(const std::string& file) const override;
  std::unique_ptr<ByteSource> open(const std::string& file) const override;
  std::vector<std::string> list() const override;
  std::string location() const override { return "memory"; }

 private:
  std::vector<std::pair<std::string, std::shared_ptr<const std::vector<uint8_t>>>> files_;
};

// Reads a whole (small) file as text, e.g. config.json.
std::string read_all_text(const ByteSource& src, uint64_t max_bytes = 64ull << 20);

}  // namespace squint
