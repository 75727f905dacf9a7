// Planner speed: 20,000 items x 19 options (18 configs + keep) with RD curves shaped like real ones.
// Reports medians of several runs: build + one exact solve, one greedy solve, a 100-point sweep, and the
// exact-vs-greedy objective gap. `bench_plan [ITEMS] [RUNS]`
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "plan/planner.h"
#include "bench_util.h"

using namespace squint;
using squint::bench::median;
using squint::bench::now;

namespace {
Analysis synthetic(int n, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::lognormal_distribution<double> sens(0.0, 0.35);
  std::uniform_int_distribution<int> shape(0, 3);
  const int64_t outs[] = {4096, 1024, 14336, 4096}, ins[] = {4096, 4096, 4096, 14336};
  Analysis a;
  a.fingerprint = "xxh64:bench";
  a.configs = all_configs();
  for (int i = 0; i < n; ++i) {
    TensorAnalysis t;
    const int s = shape(g);
    t.name = "model.layers." + std::to_string(i / 7) + ".t" + std::to_string(i % 7) + ".weight";
    t.shape = {outs[s], ins[s]};
    t.params = static_cast<uint64_t>(outs[s] * ins[s]);
    t.dtype = t.out_dtype = DType::BF16;
    t.bytes = t.keep_bytes = t.params * 2;
    t.measured = true;
    t.role.role = Role::MlpUp;
    t.role.layer = i / 7;
    t.role.group_key = t.name;
    const double c = 1.8 * sens(g);
    for (QConfig q : all_configs()) {
      // NRMSE ~ 2^-b with a group-size penalty, as measured on real models (SQNR ≈ 6 dB per bit).
      const double nr = c * std::pow(2.0, -q.bits) * (1.0 + 0.09 * std::log2(q.group / 16.0)) * (1.0 + 0.02 * sens(g));
      t.results.push_back({q, nr, -20.0 * std::log10(nr), quantized_bytes(t.params, q, DType::BF16)});
    }
    a.tensors.push_back(t);
    a.total_params += t.params;
  }
  return a;
}
}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 20000, runs = argc > 2 ? std::stoi(argv[2]) : 5;
  Analysis a = synthetic(n, 42);
  std::vector<double> t_build, t_exact, t_greedy, t_sweep;
  Solution ex, gr;
  PlanOptions o;
  o.bpw = 4.0;
  for (int r = 0; r < runs; ++r) {
    double t0 = now();
    PlanProblem p = build_problem(a, o);
    t_build.push_back(now() - t0);
    const uint64_t budget = resolve_budget(p, o);
    t0 = now();
    ex = solve_exact(p, budget);
    t_exact.push_back(now() - t0);
    t0 = now();
    gr = solve_greedy(p, budget);
    t_greedy.push_back(now() - t0);
    t0 = now();
    auto pts = budget_curve(a, o, p.min_bytes, p.max_bytes, 100);
    t_sweep.push_back(now() - t0);
  }
  fmt::print("{} items x {} options, medians of {} runs\n", n, all_configs().size() + 1, runs);
  fmt::print("build problem        {:8.1f} ms\n", median(t_build) * 1e3);
  fmt::print("exact solve (4 bpw)  {:8.1f} ms  proven {}  objective {:.6f}  bound {:.6f}\n", median(t_exact) * 1e3,
             ex.proven, ex.objective, ex.bound);
  fmt::print("greedy solve         {:8.1f} ms  objective {:.6f}  (exact is {:.4f}% lower)\n", median(t_greedy) * 1e3,
             gr.objective, 100.0 * (gr.objective - ex.objective) / gr.objective);
  fmt::print("100-point sweep      {:8.1f} ms (including one problem build)\n", median(t_sweep) * 1e3);
  return 0;
}
