#pragma once
// A one-line progress bar on stderr, drawn only when stderr is a terminal (scripts get clean output).
#include <chrono>
#include <cstdint>
#include <string>

namespace squint {

class Progress {
 public:
  Progress(std::string label, bool enabled);
  ~Progress();
  // done/total in items; bytes for the throughput figure.
  void update(uint64_t done, uint64_t total, uint64_t bytes_done, const std::string& what = "");
  void finish();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

bool stderr_is_tty();

}  // namespace squint
