#include "file_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace squint {

namespace fs = std::filesystem;

FileSource::FileSource(const std::string& path) : name_(fs::path(path).filename().string()) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path + ": cannot open (" + std::strerror(errno) + ")");
  struct stat st;
  if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fail(path + ": not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSource::read_at(uint64_t offset, std::span<uint8_t> out) const {
  check_range(offset, out.size());
  uint8_t* dst = out.data();
  const uint64_t len = out.size();
  uint64_t done = 0;
  while (done < len) {
    ssize_t r = ::pread(fd_, dst + done, len - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(name_ + ": read error at offset " + std::to_string(offset + done) + " (" + std::strerror(errno) + ")");
    }
    if (r == 0) fail(name_ + ": file shrank while reading (offset " + std::to_string(offset + done) + ")");
    done += static_cast<uint64_t>(r);
  }
}

bool DirProvider::exists(const std::string& file) const {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir_) / file, ec);
}

std::unique_ptr<ByteSource> DirProvider::open(const std::string& file) const {
  return std::make_unique<FileSource>((fs::path(dir_) / file).string());
}

std::vector<std::string> DirProvider::list() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec))
    if (e.is_regular_file()) out.push_back(e.path().filename().string());
  return out;
}

ModelPath resolve_model_path(const std::string& path) {
  std::error_code ec;
  ModelPath mp;
  if (fs::is_directory(path, ec)) {
    mp.provider = std::make_unique<DirProvider>(path);
  } else if (fs::is_regular_file(path, ec)) {
    fs::path p(path);
    std::string parent = p.parent_path().empty() ? "." : p.parent_path().string();
    mp.provider = std::make_unique<DirProvider>(parent);
    if (p.filename() != "model.safetensors.index.json") mp.single_file = p.filename().string();
  } else {
    fail(path + ": no such file or directory");
  }
  return mp;
}

Checkpoint open_model(const std::string& path) {
  ModelPath mp = resolve_model_path(path);
  return open_checkpoint(*mp.provider, mp.single_file);
}

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path + ": cannot open (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

bool path_exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

}  // namespace squint
