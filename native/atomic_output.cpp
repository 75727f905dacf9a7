#include "atomic_output.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "util/error.h"

namespace squint {

namespace fs = std::filesystem;

namespace {
// ".NAME.tmp-PID-RANDOM" beside the target: the pid tells a later run whether its writer is still alive.
std::string tmp_name(const std::string& target) {
  std::random_device rd;
  char buf[48];
  std::snprintf(buf, sizeof buf, ".tmp-%ld-%08x", static_cast<long>(::getpid()), rd());
  fs::path p(target);
  return (p.parent_path() / ("." + p.filename().string() + buf)).string();
}

// The writer's pid in a temporary name made by tmp_name (0 if `name` is not one).
long tmp_owner(const std::string& name, const std::string& prefix) {
  if (!name.starts_with(prefix)) return 0;
  const std::string rest = name.substr(prefix.size());
  const auto dash = rest.find('-');
  if (dash == std::string::npos || dash == 0) return 0;
  for (std::size_t i = 0; i < dash; ++i)
    if (rest[i] < '0' || rest[i] > '9') return 0;
  return std::stol(rest.substr(0, dash));
}

bool process_alive(long pid) { return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM; }

// ::write, or the injected failure (-1 with errno set).
ssize_t write_some(int fd, const char* p, std::size_t n) {
  if (const int e = injected_write_error()) {
    errno = e;
    return -1;
  }
  return ::write(fd, p, n);
}

// ::fsync, or the injected failure. A full disk can first show here (delayed allocation), so it counts as a
// write for the hook.
int sync_fd(int fd) {
  if (const int e = injected_write_error()) {
    errno = e;
    return -1;
  }
  return ::fsync(fd);
}
}  // namespace

int injected_write_error() {
  static const long fail_from = [] {
    const char* v = std::getenv("SQUINT_TEST_FAIL_WRITE");
    return v ? std::atol(v) : 0L;
  }();
  if (fail_from <= 0) return 0;
  static std::atomic<long> writes{0};
  const long n = ++writes;
  // Said once, so that a test can tell a run that swallowed the failure (exit 0 after this line) from one
  // that never reached the Nth write.
  if (n == fail_from) std::fprintf(stderr, "squint: test hook: write %ld fails with ENOSPC\n", n);
  return n >= fail_from ? ENOSPC : 0;
}

std::vector<std::string> remove_stale_temporaries(const std::string& dir, const std::string& target_name) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir.empty() ? "." : dir, ec)) {
    const std::string n = e.path().filename().string();
    if (!n.starts_with(".")) continue;
    const auto k = n.find(".tmp-");
    if (k == std::string::npos) continue;
    if (!target_name.empty() && n.substr(1, k - 1) != target_name) continue;
    const long pid = tmp_owner(n, n.substr(0, k) + ".tmp-");
    if (pid <= 0 || process_alive(pid)) continue;
    std::error_code rc;
    fs::remove_all(e.path(), rc);
    if (!rc) removed.push_back(e.path().string());
  }
  return removed;
}

void check_writable_parent(const std::string& path) {
  fs::path p = fs::absolute(path);
  fs::path parent = p.parent_path();
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) fail(path + ": cannot write: folder " + parent.string() + " does not exist");
  if (access(parent.c_str(), W_OK) != 0) fail(path + ": cannot write: folder " + parent.string() + " is not writable");
}

void write_file_atomic(const std::string& path, const std::string& content) {
  check_writable_parent(path);
  std::string tmp = tmp_name(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(path + ": cannot write (" + std::strerror(errno) + ")");
  std::size_t off = 0;
  while (off < content.size()) {
    ssize_t w = write_some(fd, content.data() + off, content.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail(path + ": write failed (" + std::strerror(e) + ")");
    }
    off += static_cast<std::size_t>(w);
  }
  int e = sync_fd(fd) != 0 ? errno : 0;
  if (::close(fd) != 0 && !e) e = errno;
  if (e) {
    ::unlink(tmp.c_str());
    fail(path + ": write failed (" + std::strerror(e) + ")");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    fail(path + ": cannot rename into place (" + std::strerror(e) + ")");
  }
}

AtomicDir::AtomicDir(std::string target, bool overwrite, const std::string& overwrite_flag)
    : target_(std::move(target)), overwrite_(overwrite) {
  std::error_code ec;
  if (fs::exists(target_, ec) && !overwrite_)
    fail(target_ + ": already exists (pass " + overwrite_flag + " to replace it)");
  check_writable_parent(target_);
  // A killed earlier run (SIGKILL, power loss) left its temporary folder: remove it now.
  fs::path tp(target_);
  remove_stale_temporaries(tp.parent_path().string(), tp.filename().string());
  tmp_ = tmp_name(target_);
  if (!fs::create_directory(tmp_, ec)) fail(target_ + ": cannot create temporary folder " + tmp_ + " (" + ec.message() + ")");
}

void AtomicDir::write_text(const std::string& name, const std::string& text) const {
  const std::string path = file(name);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(shown(name) + ": cannot create (" + std::strerror(errno) + ")");
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t w = write_some(fd, text.data() + off, text.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = w < 0 ? errno : ENOSPC;
      ::close(fd);
      fail(target_ + ": cannot write " + name + " (" + std::strerror(e) + ")");
    }
    off += static_cast<std::size_t>(w);
  }
  if (::close(fd) != 0) fail(target_ + ": cannot write " + name + " (" + std::strerror(errno) + ")");
}

void AtomicDir::copy_in(const std::string& src, const std::string& name) const {
  if (const int e = injected_write_error()) fail(target_ + ": cannot copy " + name + " (" + std::strerror(e) + ")");
  std::error_code ec;
  fs::copy_file(src, file(name), ec);
  if (ec) fail(target_ + ": cannot copy " + name + " (" + ec.message() + ")");
}

AtomicDir::~AtomicDir() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
}

void AtomicDir::commit() {
  std::error_code ec;
  // fsync every file so that a crash after the rename cannot expose a folder of empty files; a failed
  // fsync (a full disk under delayed allocation, an I/O error) means the data may not be there: fail.
  for (const auto& e : fs::directory_iterator(tmp_, ec)) {
    int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(target_ + ": cannot reopen " + e.path().filename().string() + " (" + std::strerror(errno) + ")");
    const int rc = sync_fd(fd), err = errno;
    ::close(fd);
    if (rc != 0) fail(target_ + ": write failed (" + e.path().filename().string() + ": " + std::strerror(err) + ")");
  }
  if (ec) fail(target_ + ": cannot list " + tmp_ + " (" + ec.message() + ")");
  if (fs::exists(target_, ec)) {
    if (!overwrite_) fail(target_ + ": appeared while writing; not replaced");
    std::string old = tmp_name(target_);
    fs::rename(target_, old, ec);
    if (ec) fail(target_ + ": cannot move the old output aside (" + ec.message() + ")");
    fs::rename(tmp_, target_, ec);
    if (ec) {
      fs::rename(old, target_);
      fail(target_ + ": cannot rename into place (" + ec.message() + ")");
    }
    fs::remove_all(old, ec);
  } else {
    fs::rename(tmp_, target_, ec);
    if (ec) fail(target_ + ": cannot rename into place (" + ec.message() + ")");
  }
  committed_ = true;
}

AtomicFile::AtomicFile(std::string target, bool overwrite, const std::string& overwrite_flag)
    : target_(std::move(target)), overwrite_(overwrite) {
  std::error_code ec;
  if (fs::exists(target_, ec) && !overwrite_) fail(target_ + ": already exists (pass " + overwrite_flag + " to replace it)");
  check_writable_parent(target_);
  fs::path tp(target_);
  remove_stale_temporaries(tp.parent_path().string(), tp.filename().string());
  tmp_ = tmp_name(target_);
  int fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 || !(f_ = ::fdopen(fd, "wb"))) fail(target_ + ": cannot create " + tmp_ + " (" + std::strerror(errno) + ")");
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 22);
}

AtomicFile::~AtomicFile() {
  if (f_) std::fclose(f_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, std::size_t n) {
  if (const int e = injected_write_error()) fail(target_ + ": write failed (" + std::strerror(e) + ")");
  if (n && std::fwrite(data, 1, n, f_) != n) fail(target_ + ": write failed (" + std::strerror(errno) + ")");
  written_ += n;
}

void AtomicFile::commit() {
  if (std::fflush(f_) != 0 || sync_fd(::fileno(f_)) != 0) fail(target_ + ": write failed (" + std::strerror(errno) + ")");
  const int rc = std::fclose(f_);
  f_ = nullptr;
  if (rc != 0) fail(target_ + ": write failed (" + std::strerror(errno) + ")");
  std::error_code ec;
  if (fs::exists(target_, ec) && !overwrite_) fail(target_ + ": appeared while writing; not replaced");
  if (::rename(tmp_.c_str(), target_.c_str()) != 0) fail(target_ + ": cannot rename into place (" + std::strerror(errno) + ")");
  committed_ = true;
}

}  // namespace squint
