// Per-type speed of the ggml port as the GGUF analysis uses it (ggml_measure_rows: quantize, dequantize,
// Σ err²), single thread (thread CPU time), on Gaussian rows of 4096 (Llama-3-8B's hidden size) with a few heavy-tailed
// outliers, against MLX's 18 affine configs (measure_rows) on the same rows. Prints ns/param per type (and the
// time to quantize with importance weights, for all 19 types), the total of the candidates without an imatrix
// (13), the MLX total and their ratio, and an FNV hash of every type's quantized bytes so that a
// speed change that moves any bit is seen at once (tests/test_ggml_quants.cpp compares with libggml itself).
// Usage: gguf_types_speed [ROWS=64] [COLS=4096] [REPS=1]
#include <fmt/core.h>

#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "quant/affine.h"
#include "quant/ggml_measure.h"
#include "quant/ggml_quants.h"

using namespace squint;

int main(int argc, char** argv) {
  const std::size_t rows = argc > 1 ? std::stoul(argv[1]) : 64, cols = argc > 2 ? std::stoul(argv[2]) : 4096;
  const int reps = argc > 3 ? std::stoi(argv[3]) : 1;
  std::mt19937_64 rng(7);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  std::vector<float> w(rows * cols);
  for (auto& v : w) v = nd(rng);
  for (std::size_t i = 0; i < w.size(); i += 997) w[i] *= 30.0f;  // outliers
  // Thread CPU time, not wall time: the machine is shared, and other processes' load should not count.
  auto now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  const double n = static_cast<double>(rows * cols) * reps;
  // Importance weights as llama.cpp passes them: the per-column mean of x² (here of the rows themselves).
  std::vector<float> imatrix(cols, 0.0f);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) imatrix[j] += w[r * cols + j] * w[r * cols + j] / static_cast<float>(rows);
  auto fnv = [](const std::vector<uint8_t>& q) {
    uint64_t h = 1469598103934665603ull;
    for (uint8_t b : q) h = (h ^ b) * 1099511628211ull;
    return h;
  };
  double total = 0;
  std::vector<uint8_t> q;
  for (const QConfig& c : all_gguf_configs(/*with_imatrix=*/true)) {
    if (cols % static_cast<std::size_t>(c.group)) continue;
    q.resize(static_cast<std::size_t>(ggml_row_bytes(c.type, cols)) * rows);
    // Quantizing with the importance weights (every type; the three that need them only so).
    const auto ti = now();
    for (int r = 0; r < reps; ++r) ggml_quantize_rows(c.type, w.data(), rows, cols, q.data(), imatrix.data());
    const double si = now() - ti;
    const uint64_t hi = fnv(q);
    if (ggml_requires_imatrix(c.type)) {
      fmt::print("{:<7} {:>9} ns/param  {:>29}  with imatrix: quantize {:>9.1f} ns/param, bytes fnv {:016x}\n",
                 config_name(c), "-", "(needs an imatrix)", si / n * 1e9, hi);
      continue;
    }
    double err = 0;
    const auto t0 = now();
    for (int r = 0; r < reps; ++r) ggml_measure_rows(w.data(), w.data(), rows, cols, &c, 1, &err);
    const double s = now() - t0;
    total += s;
    ggml_quantize_rows(c.type, w.data(), rows, cols, q.data());
    fmt::print(
        "{:<7} {:>9.1f} ns/param  err {:.9e}  bytes fnv {:016x}  with imatrix: quantize {:>9.1f} ns/param, bytes fnv "
        "{:016x}\n",
        config_name(c), s / n * 1e9, err, fnv(q), si / n * 1e9, hi);
  }
  // All 13 at once, as the analysis calls it (shared work across types, e.g. the IQ4 scale search).
  std::vector<QConfig> set;
  for (const QConfig& c : all_gguf_configs())
    if (cols % static_cast<std::size_t>(c.group) == 0) set.push_back(c);
  std::vector<double> es(set.size());
  const double tc0 = now();
  for (int r = 0; r < reps; ++r) ggml_measure_rows(w.data(), w.data(), rows, cols, set.data(), set.size(), es.data());
  const double together = now() - tc0;
  const auto mlx = all_configs();
  std::vector<double> e(mlx.size());
  const auto t0 = now();
  for (int r = 0; r < reps; ++r) measure_rows(w.data(), w.data(), rows, cols, mlx.data(), mlx.size(), DType::F16, e.data());
  const double ms = now() - t0;
  fmt::print("GGUF {} types one by one {:.1f} ns/param; in one call {:.1f} ns/param ({:.3f} M params/s); MLX 18 configs {:.1f} "
             "ns/param ({:.2f} M params/s); ratio GGUF/MLX {:.1f}x\n",
             set.size(), total / n * 1e9, together / n * 1e9, n / together / 1e6, ms / n * 1e9, n / ms / 1e6, together / ms);
}
