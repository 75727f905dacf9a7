#include "analysis_journal_file.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "atomic_output.h"
#include "output.h"
#include "util/error.h"

namespace squint {

std::string journal_path(const std::string& out) { return out + ".journal"; }

JournalFile::JournalFile(std::string path, AnalysisIdentity id, bool resume)
    : path_(std::move(path)), id_(std::move(id)), last_sync_(std::chrono::steady_clock::now()) {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) {
    if (resume) note(fmt::format("{}: no journal to resume; starting from the first tensor", path_));
    return;
  }
  open_locked(false);
  if (!resume) {
    note(fmt::format("{}: replacing the journal of an interrupted run (--resume would continue it)", path_));
    return;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail(path_ + ": cannot read (" + std::strerror(errno) + ")");
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t r = ::pread(fd_, text.data() + got, text.size() - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) fail(path_ + ": cannot read (" + std::string(r < 0 ? std::strerror(errno) : "file shrank") + ")");
    got += static_cast<std::size_t>(r);
  }
  JournalRead jr = read_journal(text, id_, path_);
  end_ = jr.valid_bytes;
  if (jr.torn_tail) {
    if (::ftruncate(fd_, static_cast<off_t>(end_)) != 0)
      fail(path_ + ": cannot truncate (" + std::strerror(errno) + ")");
    note(fmt::format("{}: dropped its last line, cut short by the interruption", path_));
  }
  header_written_ = end_ > 0;
  resumed_ = std::move(jr.records);
}

JournalFile::~JournalFile() {
  if (fd_ >= 0) ::close(fd_);  // also releases the lock
}

void JournalFile::open_locked(bool create) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
  if (fd_ < 0) fail(path_ + ": cannot open (" + std::strerror(errno) + ")");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(fd_);
    fd_ = -1;
    if (e == EWOULDBLOCK) fail(path_ + ": in use by another squint run writing the same output");
    fail(path_ + ": cannot lock (" + std::strerror(e) + ")");
  }
}

void JournalFile::write_all(const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t w;
    if (const int e = injected_write_error()) {  // the test hook: a full disk at this write
      errno = e;
      w = -1;
    } else {
      w = ::pwrite(fd_, bytes.data() + off, bytes.size() - off, static_cast<off_t>(end_ + off));
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) fail(path_ + ": write failed (" + std::strerror(errno) + ")");
    off += static_cast<std::size_t>(w);
  }
  end_ += bytes.size();
}

void JournalFile::append(std::size_t i, const TensorAnalysis& t) {
  if (fd_ < 0) open_locked(true);
  if (!header_written_) {
    // A fresh journal, or an old one being replaced: this run's header first.
    end_ = 0;
    if (::ftruncate(fd_, 0) != 0) fail(path_ + ": cannot truncate (" + std::strerror(errno) + ")");
    write_all(journal_header_line(id_));
    header_written_ = true;
  }
  write_all(journal_record_line(i, t));
  // Test hook (tests/test_analysis_parts.cpp): SQUINT_TEST_KILL_AFTER_TENSORS=N kills the process with
  // SIGKILL right after its Nth record, the way a scheduler or the OOM killer would.
  static const long kill_after = [] {
    const char* v = std::getenv("SQUINT_TEST_KILL_AFTER_TENSORS");
    return v ? std::atol(v) : 0L;
  }();
  if (kill_after > 0 && ++appended_ == kill_after) std::raise(SIGKILL);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_sync_ >= std::chrono::seconds(1)) {
    if (::fsync(fd_) != 0) fail(path_ + ": write failed (" + std::strerror(errno) + ")");
    last_sync_ = now;
  }
}

void JournalFile::remove() {
  if (fd_ >= 0) {
    ::unlink(path_.c_str());
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace squint
