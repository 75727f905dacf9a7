#include "safetensors_writer.h"

#include <cerrno>
#include <cstring>

#include "atomic_output.h"
#include "util/error.h"

namespace squint {

SafetensorsWriter::SafetensorsWriter(const std::string& path, const std::vector<TensorSpec>& tensors,
                                     const std::map<std::string, std::string>& metadata, const std::string& shown_as)
    : path_(shown_as.empty() ? path : shown_as) {
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) fail(path_ + ": cannot create (" + std::strerror(errno) + ")");
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 22);
  std::string prefix = build_safetensors_prefix(tensors, metadata);
  for (const auto& t : tensors) expected_ += t.nbytes();
  if (const int e = injected_write_error()) fail(path_ + ": write failed (" + std::strerror(e) + ")");
  if (std::fwrite(prefix.data(), 1, prefix.size(), f_) != prefix.size()) fail(path_ + ": write failed (" + std::strerror(errno) + ")");
}

SafetensorsWriter::~SafetensorsWriter() {
  if (f_) std::fclose(f_);
}

void SafetensorsWriter::write(const void* data, std::size_t n) {
  if (written_ + n > expected_) fail(path_ + ": internal error: more tensor bytes than the header declares");
  if (const int e = n ? injected_write_error() : 0) fail(path_ + ": write failed (" + std::strerror(e) + ")");
  if (n && std::fwrite(data, 1, n, f_) != n) fail(path_ + ": write failed (" + std::strerror(errno) + ")");
  written_ += n;
}

void SafetensorsWriter::finish() {
  if (written_ != expected_)
    fail(path_ + ": internal error: wrote " + std::to_string(written_) + " of " + std::to_string(expected_) + " tensor bytes");
  if (std::fflush(f_) != 0) fail(path_ + ": write failed (" + std::strerror(errno) + ")");
  if (std::fclose(f_) != 0) {
    f_ = nullptr;
    fail(path_ + ": write failed (" + std::strerror(errno) + ")");
  }
  f_ = nullptr;
}

}  // namespace squint
