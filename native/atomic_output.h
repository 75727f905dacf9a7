#pragma once
// Outputs appear whole or not at all: everything is written under a temporary name beside the target and
// renamed at the end; on any error (or a destructor without commit) the temporary is removed.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace squint {

// A file written atomically.
void write_file_atomic(const std::string& path, const std::string& content);

// A directory written atomically: create(), write files into path(), then commit().
class AtomicDir {
 public:
  // Fails if `target` exists and !overwrite (the message names the flag to pass).
  AtomicDir(std::string target, bool overwrite, const std::string& overwrite_flag = "--force");
  ~AtomicDir();
  AtomicDir(const AtomicDir&) = delete;
  AtomicDir& operator=(const AtomicDir&) = delete;
  const std::string& path() const { return tmp_; }
  std::string file(const std::string& name) const { return tmp_ + "/" + name; }
  // How messages name that file: TARGET/NAME (the temporary folder's name means nothing to the user).
  std::string shown(const std::string& name) const { return target_ + "/" + name; }
  // Writes `text` as the folder's file `name`, checking every byte (a full disk is an error, not a
  // truncated file).
  void write_text(const std::string& name, const std::string& text) const;
  // Copies the file at `src` into the folder as `name`.
  void copy_in(const std::string& src, const std::string& name) const;
  void commit();

 private:
  std::string target_, tmp_;
  bool overwrite_, committed_ = false;
};

// One file streamed atomically: write() appends (buffered), commit() flushes, fsyncs and renames into place;
// without commit the temporary is removed.
class AtomicFile {
 public:
  AtomicFile(std::string target, bool overwrite, const std::string& overwrite_flag = "--force");
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const void* data, std::size_t n);
  void commit();
  uint64_t written() const { return written_; }

 private:
  std::string target_, tmp_;
  bool overwrite_, committed_ = false;
  std::FILE* f_ = nullptr;
  uint64_t written_ = 0;
};

// Removes the temporaries (".NAME.tmp-PID-*") in `dir` that killed writers left behind (their pid is no
// longer running); with `target_name`, only those of that target. Returns the removed paths. AtomicDir does
// this for its own target; `squint clean DIR` for a whole folder.
std::vector<std::string> remove_stale_temporaries(const std::string& dir, const std::string& target_name = "");

// Test hook for "nothing half-written": with SQUINT_TEST_FAIL_WRITE=N in the environment, the Nth write of
// this process and every later one fail as on a full disk (ENOSPC). Every writer counts: write_file_atomic,
// AtomicDir::write_text/copy_in, AtomicFile::write, SafetensorsWriter, and the fsyncs before each rename.
// The first injected failure says so on stderr ("squint: test hook: write N fails"), so that a verb which
// swallows it and exits 0 is caught. Returns the errno to report, or 0
// (always 0 when the variable is unset: production runs never see it). Used by tests/test_write_faults.cpp.
int injected_write_error();

// Checks that a file can be created at `path` before long work starts (clear error if not).
void check_writable_parent(const std::string& path);

}  // namespace squint
