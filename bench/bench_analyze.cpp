// Analysis throughput: `bench_analyze MODEL [RUNS]`. Reports, as medians of RUNS, the time of a plain read
// of every tensor's bytes (+ conversion to float) and of the full 18-config analysis, single-threaded and
// with all cores, as params/s, GB/s and ratios measured in the same run; plus peak RSS.
// Make a model with real layer shapes: squint synth /tmp/bench8b --preset llama3-8b --layers 2 --vocab 4096
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "analysis/analysis.h"
#include "file_source.h"
#include "parallel.h"
#include "bench_util.h"

using namespace squint;
using squint::bench::median;
using squint::bench::now;

namespace {
long peak_rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

double plain_read(const Checkpoint& ck) {
  std::vector<uint8_t> raw;
  std::vector<float> f;
  double t0 = now();
  for (const auto& t : ck.tensors) {
    // Same chunking as the analysis (64K elements), so the comparison is the compute, not the I/O pattern.
    const uint64_t esize = dtype_bits(t.dtype) / 8, chunk = (1 << 16) * esize;
    for (uint64_t off = 0; off < t.nbytes; off += chunk) {
      uint64_t n = std::min(chunk, t.nbytes - off);
      raw.resize(n);
      ck.sources[t.file]->read(t.offset + off, n, raw.data());
      if (is_float_measurable(t.dtype)) {
        f.resize(n / esize);
        to_f32(t.dtype, raw.data(), n / esize, f.data());
      }
    }
  }
  return now() - t0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_analyze MODEL [RUNS]\n");
    return 2;
  }
  const int runs = argc > 2 ? std::stoi(argv[2]) : 5;
  Checkpoint ck = open_model(argv[1]);
  const double params = static_cast<double>(ck.total_params()), bytes = static_cast<double>(ck.total_bytes());
  const int threads = default_threads();
  std::vector<double> tr, t1, tn;
  for (int r = 0; r < runs; ++r) {
    tr.push_back(plain_read(ck));
    AnalyzeOptions o;
    o.parallel = make_thread_pool(1);
    double a = now();
    analyze_checkpoint(ck, o);
    t1.push_back(now() - a);
    o.parallel = make_thread_pool(threads);
    a = now();
    analyze_checkpoint(ck, o);
    tn.push_back(now() - a);
  }
  const double r = median(tr), a1 = median(t1), an = median(tn);
  fmt::print("model: {} ({:.0f} M params, {:.2f} GB), {} configs, medians of {} runs\n", argv[1], params / 1e6,
             bytes / 1e9, all_configs().size(), runs);
  fmt::print("{:<28} {:>9} {:>12} {:>8} {:>14}\n", "", "seconds", "M params/s", "GB/s", "x plain read");
  fmt::print("{:<28} {:>9.3f} {:>12.1f} {:>8.2f} {:>14}\n", "plain read + to float", r, params / r / 1e6, bytes / r / 1e9, "1.00");
  fmt::print("{:<28} {:>9.3f} {:>12.1f} {:>8.2f} {:>14.2f}\n", "analyze, 1 thread", a1, params / a1 / 1e6, bytes / a1 / 1e9, a1 / r);
  fmt::print("{:<28} {:>9.3f} {:>12.1f} {:>8.2f} {:>14.2f}\n", fmt::format("analyze, {} threads", threads), an,
             params / an / 1e6, bytes / an / 1e9, an / r);
  fmt::print("thread speed-up {:.2f}x; peak RSS {:.1f} MB (model file {:.0f} MB)\n", a1 / an, peak_rss_kb() / 1024.0,
             bytes / 1e6);
  return 0;
}
