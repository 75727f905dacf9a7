#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace squint {

bool stderr_is_tty() { return isatty(2) == 1; }

Progress::Progress(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled && stderr_is_tty()), start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { finish(); }

void Progress::update(uint64_t done, uint64_t total, uint64_t bytes_done, const std::string& what) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (done < total && drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  drawn_ = true;
  double secs = std::chrono::duration<double>(now - start_).count();
  double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  int width = 30, fill = static_cast<int>(frac * width);
  std::string bar(fill, '#');
  bar += std::string(width - fill, '.');
  // Throughput only for byte streams: item counters (eval windows, sweep models) pass 0 bytes, and "0 MB/s"
  // would read as a stall.
  char rate[32] = "";
  if (bytes_done > 0 && secs > 0) std::snprintf(rate, sizeof rate, "  %.0f MB/s", static_cast<double>(bytes_done) / secs / 1e6);
  std::string tail = what.size() > 40 ? "..." + what.substr(what.size() - 37) : what;
  std::fprintf(stderr, "\r%s [%s] %llu/%llu%s  %-40s", label_.c_str(), bar.c_str(),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), rate, tail.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\n");
    drawn_ = false;
  }
}

}  // namespace squint
