// GGUF speed figures (issue 13): `gguf_bench_speed MODEL [RUNS] [BPW] [--per-type]`.
// 1. Analysis with the GGUF candidate set (13 ggml types, byte-exact ggml quantizers; and the 12 without the
//    grid type IQ3_S) vs the MLX set (18
//    affine configs), all threads, alternated in the same run: medians of RUNS (default 3), params/s, GB/s
//    read and the time ratio GGUF / MLX; --per-type also times each GGUF type alone (one run each).
// 2. GGUF conversion throughput: `squint quantize MODEL --format gguf --type F16` (float copy: layout,
//    Q/K permutation, tokenizer) and, with a plan at BPW bits/weight (default 4.5) from the GGUF analysis,
//    `squint quantize MODEL --format gguf --plan P` (quantized: the ggml quantizers), each RUNS times as a child
//    process: medians of wall time, GB/s read and written, peak RSS. A quantized conversion that this build
//    cannot do is reported as such.
// --convert-only: just the F16 conversion (no analysis, no plan).
// Make the Llama-3-8B-shaped input: squint synth /tmp/bench8b --preset llama3-8b --layers 2 --vocab 4096
#include <fmt/core.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "analysis/analysis.h"
#include "analysis/analysis_json.h"
#include "file_source.h"
#include "parallel.h"
#include "quant/affine.h"
#include "quant/ggml_quants.h"
#include "bench_util.h"

using namespace squint;
using squint::bench::median;
using squint::bench::now;
namespace fs = std::filesystem;

namespace {
struct Child {
  int status = -1;
  double secs = 0, rss_mb = 0;
};

Child run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const double t0 = now();
  pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  int st = 0;
  struct rusage ru {};
  wait4(pid, &st, 0, &ru);
  Child c;
  c.secs = now() - t0;
  c.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  c.rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
  return c;
}

// RUNS conversions into OUT; false when the first one fails (the build cannot write that file).
bool convert(const std::string& label, const std::vector<std::string>& args, const std::string& out, int runs,
             double in_bytes, double params) {
  std::vector<double> secs, rss;
  double written = 0;
  for (int r = 0; r < runs; ++r) {
    fs::remove(out);
    Child c = run(args);
    if (c.status != 0) {
      fmt::print("{:<34} not available in this build (squint quantize exit {})\n", label, c.status);
      return false;
    }
    secs.push_back(c.secs);
    rss.push_back(c.rss_mb);
    written = static_cast<double>(fs::file_size(out));
  }
  const double s = median(secs);
  fmt::print("{:<34} {:>8.2f} s {:>9.1f} M params/s {:>7.3f} GB/s read {:>7.3f} GB/s written ({:.2f} GB)  peak RSS {:.0f} MB\n",
             label, s, params / s / 1e6, in_bytes / s / 1e9, written / s / 1e9, written / 1e9, median(rss));
  fs::remove(out);
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> pos;
  bool per_type = false, convert_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--per-type") per_type = true;
    else if (std::string(argv[i]) == "--convert-only") convert_only = true;
    else pos.emplace_back(argv[i]);
  }
  if (pos.empty()) {
    fmt::print(stderr, "usage: gguf_bench_speed MODEL [RUNS] [BPW] [--per-type] [--convert-only]\n");
    return 2;
  }
  const std::string model = pos[0];
  const int runs = pos.size() > 1 ? std::stoi(pos[1]) : 3;
  const std::string bpw = pos.size() > 2 ? pos[2] : "4.5";
  const std::string squint = (fs::path(fs::read_symlink("/proc/self/exe")).parent_path() / "squint").string();
  Checkpoint ck = open_model(model);
  const double params = static_cast<double>(ck.total_params()), bytes = static_cast<double>(ck.total_bytes());
  const int threads = default_threads();

  const std::string base = fs::temp_directory_path() / ("gguf-bench-" + std::to_string(getpid()));
  const std::string an = base + "-analysis.json", plan = base + "-plan.json", out = base + ".gguf";
  if (convert_only) {
    fmt::print("model: {} ({:.0f} M params, {:.2f} GB), medians of {} runs\n", model, params / 1e6, bytes / 1e9, runs);
    convert("GGUF conversion, F16", {squint, "-q", "quantize", model, "--format", "gguf", "--type", "F16", "-o", out},
            out, runs, bytes, params);
    return 0;
  }
  AnalyzeOptions mlx, gguf, nogrid;
  mlx.parallel = gguf.parallel = make_thread_pool(threads);
  gguf.configs = all_gguf_configs();
  gguf.format = QFormat::Gguf;
  // The candidates without the grid types (IQ3_S is the one without an imatrix): what the grid types cost.
  nogrid = gguf;
  std::erase_if(nogrid.configs, [](QConfig c) { return ggml_is_grid_type(c.type); });
  std::vector<double> tm, tg, tn;
  Analysis ga;
  for (int r = 0; r < runs; ++r) {
    double a = now();
    analyze_checkpoint(ck, mlx);
    tm.push_back(now() - a);
    a = now();
    ga = analyze_checkpoint(ck, gguf);
    tg.push_back(now() - a);
    a = now();
    analyze_checkpoint(ck, nogrid);
    tn.push_back(now() - a);
    fmt::print(stderr, "run {}: MLX {:.2f} s, GGUF {:.2f} s, GGUF without grid types {:.2f} s\n", r + 1, tm.back(),
               tg.back(), tn.back());
  }
  const double m = median(tm), g = median(tg), gn = median(tn);
  fmt::print("model: {} ({:.0f} M params, {:.2f} GB), {} threads, medians of {} runs\n", model, params / 1e6, bytes / 1e9,
             threads, runs);
  fmt::print("{:<34} {:>9} {:>12} {:>8}\n", "analysis", "seconds", "M params/s", "GB/s");
  fmt::print("{:<34} {:>9.3f} {:>12.1f} {:>8.3f}\n", fmt::format("MLX set ({} configs)", mlx.configs.size()), m,
             params / m / 1e6, bytes / m / 1e9);
  fmt::print("{:<34} {:>9.3f} {:>12.1f} {:>8.3f}\n", fmt::format("GGUF set ({} types)", gguf.configs.size()), g,
             params / g / 1e6, bytes / g / 1e9);
  fmt::print("{:<34} {:>9.3f} {:>12.1f} {:>8.3f}\n",
             fmt::format("GGUF set without grid types ({})", nogrid.configs.size()), gn, params / gn / 1e6,
             bytes / gn / 1e9);
  fmt::print("GGUF / MLX analysis time: {:.2f}x; without the grid types {:.2f}x (same run)\n", g / m, gn / m);
  // Where the GGUF time goes: each type alone (one run each; --per-type).
  for (QConfig c :
       per_type ? all_gguf_configs() : std::vector<QConfig>{}) {  // the types an imatrix adds: gguf_types_speed
    AnalyzeOptions one = gguf;
    one.configs = {c};
    const double a = now();
    analyze_checkpoint(ck, one);
    const double s = now() - a;
    fmt::print("  {:<8} alone {:>8.3f} s {:>10.1f} M params/s\n", ggml_type_info(c.type)->name, s, params / s / 1e6);
  }

  std::ofstream(an) << serialize_analysis(ga);
  convert("GGUF conversion, F16", {squint, "-q", "quantize", model, "--format", "gguf", "--type", "F16", "-o", out},
          out, runs, bytes, params);
  if (run({squint, "-q", "plan", an, "--bpw", bpw, "-o", plan}).status == 0)
    convert(fmt::format("GGUF conversion, plan {} bpw", bpw),
            {squint, "-q", "quantize", model, "--format", "gguf", "--plan", plan, "-o", out}, out, runs, bytes, params);
  else
    fmt::print("squint plan --bpw {} failed\n", bpw);
  fs::remove(an);
  fs::remove(plan);
  return 0;
}
