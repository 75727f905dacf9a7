// Conversion throughput: `bench_convert MODEL [RUNS] [BITS] [GROUP]`. Writes a plan that quantizes every
// quantizable tensor at (BITS, GROUP) (default 4, 64), then runs `squint quantize` RUNS times (default 3) as
// a child process and reports, as medians: wall time, params/s, GB/s written and the child's peak RSS
// (wait4 ru_maxrss). Make a multi-GB input: squint synth /tmp/big --preset llama3-8b --layers 2
#include <fmt/core.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "convert/mlx_layout.h"
#include "file_source.h"
#include "plan/plan.h"
#include "bench_util.h"

using namespace squint;
using squint::bench::median;
using squint::bench::now;
namespace fs = std::filesystem;

namespace {
uint64_t dir_bytes(const std::string& d) {
  uint64_t n = 0;
  for (const auto& e : fs::directory_iterator(d))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: bench_convert MODEL [RUNS] [BITS] [GROUP]\n");
    return 2;
  }
  const std::string model = argv[1];
  const int runs = argc > 2 ? std::stoi(argv[2]) : 3;
  const QConfig c{argc > 3 ? std::stoi(argv[3]) : 4, argc > 4 ? std::stoi(argv[4]) : 64};
  const std::string squint = (fs::path(fs::read_symlink("/proc/self/exe")).parent_path() / "squint").string();

  Checkpoint ck = open_model(model);
  Plan p;
  p.fingerprint = ck.fingerprint;
  p.solver = "bench";
  for (const auto& t : ck.tensors) {
    PlanTensor pt;
    pt.name = t.name;
    pt.params = t.numel();
    if (is_float_measurable(t.dtype) && t.shape.size() >= 2 && t.cols() % c.group == 0 && t.name.size() > 7 &&
        t.name.compare(t.name.size() - 7, 7, ".weight") == 0) {
      pt.bits = c.bits;
      pt.group_size = c.group;
    }
    p.tensors.push_back(pt);
  }
  const std::string base = fs::temp_directory_path() / ("bench-convert-" + std::to_string(getpid()));
  const std::string plan_path = base + "-plan.json", out = base + "-out";
  std::ofstream(plan_path) << serialize_plan(p);
  const uint64_t params = ck.total_params();

  std::vector<double> secs, rss_mb, written;
  for (int r = 0; r < runs; ++r) {
    fs::remove_all(out);
    auto t0 = std::chrono::steady_clock::now();
    pid_t pid = fork();
    if (pid == 0) {
      execl(squint.c_str(), squint.c_str(), "-q", "quantize", model.c_str(), "--plan", plan_path.c_str(), "-o",
            out.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    int st = 0;
    struct rusage ru {};
    wait4(pid, &st, 0, &ru);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      fmt::print(stderr, "squint quantize failed (status {})\n", st);
      return 1;
    }
    secs.push_back(s);
    rss_mb.push_back(static_cast<double>(ru.ru_maxrss) / 1024.0);
    written.push_back(static_cast<double>(dir_bytes(out)));
    fmt::print("run {}: {:.2f} s, peak RSS {:.0f} MB\n", r + 1, s, rss_mb.back());
  }
  // One gate run over the last output: dequantize + compare every tensor.
  auto g0 = std::chrono::steady_clock::now();
  const int grc = std::system((squint + " -q gate " + model + " " + out).c_str());
  const double gsecs = std::chrono::duration<double>(std::chrono::steady_clock::now() - g0).count();
  fs::remove_all(out);
  fs::remove(plan_path);
  fmt::print("gate: {:.2f} s ({:.1f} M params/s), exit {}\n", gsecs, static_cast<double>(params) / gsecs / 1e6,
             WEXITSTATUS(grc));
  const double s = median(secs);
  fmt::print("{}: {} params ({:.2f} GB in), {}-bit g{} everywhere, {} runs, median {:.2f} s: {:.1f} M params/s, "
             "{:.3f} GB/s written ({:.2f} GB out), {:.2f} GB/s read; peak RSS median {:.0f} MB\n",
             model, params, static_cast<double>(ck.total_bytes()) / 1e9, c.bits, c.group, runs, s,
             static_cast<double>(params) / s / 1e6, median(written) / s / 1e9, median(written) / 1e9,
             static_cast<double>(ck.total_bytes()) / s / 1e9, median(rss_mb));
  return 0;
}
