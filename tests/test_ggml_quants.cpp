// The ggml port against the real ggml: libggml-base.so shipped with @node-llama-cpp/linux-x64 (installed by
// scripts/deps.sh, so its absence fails the test). Every type, many kinds of rows, without and with importance
// weights (random per-column weights of several kinds): squint's blocks must be byte-identical to
// ggml_quantize_chunk(imatrix) and squint's dequantization bitwise equal to ggml's to_float.
#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "quant/ggml_quants.h"
#include "util/error.h"
#include "util/rng.h"

using namespace squint;

namespace {

struct GgmlLib {
  using QuantizeChunk = size_t (*)(int type, const float* src, void* dst, int64_t start, int64_t nrows,
                                   int64_t n_per_row, const float* imatrix);
  using ToFloat = void (*)(const void* x, float* y, int64_t k);
  struct TypeTraits {  // ggml.h struct ggml_type_traits
    const char* type_name;
    int64_t blck_size;
    int64_t blck_size_interleave;
    size_t type_size;
    bool is_quantized;
    ToFloat to_float;
    void* from_float_ref;
  };
  using GetTraits = const TypeTraits* (*)(int type);
  using Validate = bool (*)(int type, const void* data, size_t nbytes);
  using QuantizeInit = void (*)(int type);

  void* handle = nullptr;
  QuantizeChunk quantize_chunk = nullptr;
  GetTraits get_traits = nullptr;
  Validate validate = nullptr;
  QuantizeInit quantize_init = nullptr;
  std::string error;

  GgmlLib() {
    const std::string path =
        std::string(SQUINT_SOURCE_DIR) + "/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so";
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      error = "cannot load " + path + " (scripts/deps.sh installs it): " + dlerror();
      return;
    }
    quantize_chunk = reinterpret_cast<QuantizeChunk>(dlsym(handle, "ggml_quantize_chunk"));
    get_traits = reinterpret_cast<GetTraits>(dlsym(handle, "ggml_get_type_traits"));
    validate = reinterpret_cast<Validate>(dlsym(handle, "ggml_validate_row_data"));
    quantize_init = reinterpret_cast<QuantizeInit>(dlsym(handle, "ggml_quantize_init"));
    if (!quantize_chunk || !get_traits || !validate || !quantize_init)
      error = "libggml-base.so lacks the expected symbols";
  }
};

const GgmlLib& lib() {
  static GgmlLib l;
  return l;
}

// Rows of many shapes: what real weights look like, and the edge cases that steer ggml's branches.
std::vector<std::vector<float>> make_rows(std::size_t n, uint64_t seed) {
  SplitMix64 rng{seed};
  std::vector<std::vector<float>> rows;
  auto gen = [&](auto f) {
    std::vector<float> r(n);
    for (std::size_t i = 0; i < n; ++i) r[i] = f(i);
    rows.push_back(std::move(r));
  };
  gen([&](std::size_t) { return static_cast<float>(rng.normal()); });
  gen([&](std::size_t) { return static_cast<float>(0.02 * rng.normal()); });
  gen([&](std::size_t) { return static_cast<float>(0.5 + 0.1 * rng.normal()); });  // all positive
  gen([&](std::size_t) {  // Student-t with 3 degrees of freedom: heavy tails
    const double a = rng.normal(), b = rng.normal(), c = rng.normal();
    return static_cast<float>(rng.normal() / std::sqrt((a * a + b * b + c * c) / 3));
  });
  gen([&](std::size_t) { return 0.37f; });
  gen([&](std::size_t) { return -1.5f; });
  gen([&](std::size_t) { return 0.0f; });
  gen([&](std::size_t) { return -0.0f; });
  gen([&](std::size_t) { return static_cast<float>(1e30 * rng.normal()); });
  gen([&](std::size_t) { return static_cast<float>(1e-30 * rng.normal()); });
  gen([&](std::size_t) { return static_cast<float>(1e-6 * rng.normal()); });  // fp16-subnormal scales
  gen([&](std::size_t) { return static_cast<float>(3e4 * rng.normal()); });   // near the fp16 range
  gen([&](std::size_t i) {  // a few exact outliers
    return (i % 97 == 5) ? (i % 2 ? 40.0f : -55.0f) : static_cast<float>(0.05 * rng.normal());
  });
  gen([&](std::size_t i) { return (i % 16 < 8) ? 0.0f : static_cast<float>(rng.normal()); });  // half-zero blocks
  gen([&](std::size_t) { return static_cast<float>(std::floor(rng.uniform() * 17) - 8) / 8.0f; });  // exact ties
  gen([&](std::size_t i) { return static_cast<float>(i % 7) - 3.0f; });  // small integers
  gen([&](std::size_t i) { return i == n - 1 ? 1.0f : 0.0f; });          // one nonzero
  for (int k = 0; k < 40; ++k) {  // random scales 1e-4..1e2 and mixed tails: many search paths
    const double scale = std::pow(10.0, -4.0 + 6.0 * rng.uniform());
    const bool heavy = k % 2 == 1;
    gen([&](std::size_t) {
      const double z = rng.normal();
      return static_cast<float>(scale * (heavy ? z * std::exp(0.7 * rng.normal()) : z));
    });
  }
  return rows;
}

// Per-column importance weights of several kinds (what llama.cpp passes: a weight's per-column E[x²]):
// log-normal over orders of magnitude, uniform, flat, and sparse with exact zeros.
std::vector<float> make_imatrix(std::size_t n, int kind, uint64_t seed) {
  SplitMix64 rng{seed};
  std::vector<float> w(n);
  for (std::size_t i = 0; i < n; ++i) {
    switch (kind % 4) {
      case 0:
        w[i] = static_cast<float>(std::exp(2.0 * rng.normal()));
        break;
      case 1:
        w[i] = static_cast<float>(1e-3 + rng.uniform());
        break;
      case 2:
        w[i] = 0.25f;
        break;
      default:
        w[i] = rng.uniform() < 0.3 ? 0.0f : static_cast<float>(std::exp(rng.normal()));
        break;
    }
  }
  return w;
}

// ggml_quantize_chunk of rows whose values are huge, in a child process: ggml's IQ grid searches abort the
// process (GGML_ASSERT) on values so large that their float sums overflow. Returns false if it aborted.
bool ggml_quantize_isolated(int id, const float* x, std::size_t nrows, std::size_t n, const float* imatrix,
                            uint8_t* dst, std::size_t bytes) {
  std::fflush(stdout);
  std::fflush(stderr);
  lib().quantize_init(id);  // in this process, so that each child does not build ggml's grid tables again
  int fd[2];
  REQUIRE(pipe(fd) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // no test framework here: default signal handling, no backtrace (ggml would run gdb), no output
    signal(SIGABRT, SIG_DFL);
    setenv("GGML_NO_BACKTRACE", "1", 1);
    if (FILE* f = freopen("/dev/null", "w", stderr)) (void)f;
    if (FILE* f = freopen("/dev/null", "w", stdout)) (void)f;  // ggml prints its neighbour search before aborting
    close(fd[0]);
    std::vector<uint8_t> out(bytes);
    lib().quantize_chunk(id, x, out.data(), 0, static_cast<int64_t>(nrows), static_cast<int64_t>(n), imatrix);
    std::size_t off = 0;
    while (off < bytes) {
      const ssize_t w = write(fd[1], out.data() + off, bytes - off);
      if (w <= 0) _exit(3);
      off += static_cast<std::size_t>(w);
    }
    _exit(0);
  }
  close(fd[1]);
  std::size_t off = 0;
  while (off < bytes) {
    const ssize_t r = read(fd[0], dst + off, bytes - off);
    if (r <= 0) break;
    off += static_cast<std::size_t>(r);
  }
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 && off == bytes;
}

bool huge(const std::vector<float>& row) {
  for (float v : row)
    if (std::fabs(v) > 1e10f) return true;
  return false;
}

void check_type(GgmlType t, std::size_t n, const float* imatrix = nullptr, int imatrix_kind = -1) {
  const GgmlLib& g = lib();
  const int id = static_cast<int>(t);
  const auto rows = make_rows(n, 1000 + static_cast<uint64_t>(id) * 31 + n);
  const std::size_t rb = ggml_row_bytes(t, n);
  std::size_t row_index = 0;
  std::vector<float> all;  // the rows ggml quantizes without aborting
  for (const auto& row : rows) {
    INFO(ggml_type_info(t)->name << " n=" << n << " imatrix kind " << imatrix_kind << " row kind " << row_index++);
    std::vector<uint8_t> ours(rb), theirs(rb, 0xAA);
    if (ggml_is_grid_type(t) && huge(row)) {
      // Where ggml aborts, squint refuses with an Error; elsewhere the bytes must agree as for any row.
      if (!ggml_quantize_isolated(id, row.data(), 1, n, imatrix, theirs.data(), rb)) {
        CHECK_THROWS_AS(ggml_quantize_rows(t, row.data(), 1, n, ours.data(), imatrix), Error);
        continue;
      }
      ggml_quantize_rows(t, row.data(), 1, n, ours.data(), imatrix);
    } else {
      ggml_quantize_rows(t, row.data(), 1, n, ours.data(), imatrix);
      const size_t wrote = g.quantize_chunk(id, row.data(), theirs.data(), 0, 1, static_cast<int64_t>(n), imatrix);
      REQUIRE(wrote == rb);
    }
    all.insert(all.end(), row.begin(), row.end());
    std::size_t first_diff = rb;
    for (std::size_t i = 0; i < rb; ++i) {
      if (ours[i] != theirs[i]) { first_diff = i; break; }
    }
    INFO("first differing byte " << first_diff << " of " << rb);
    CHECK(first_diff == rb);
    // Dequantize ggml's own blocks with both implementations: bitwise equal.
    // (F32 has no to_float in ggml: its "dequantization" is the bytes themselves.)
    std::vector<float> a(n), b(n);
    ggml_dequantize_rows(t, theirs.data(), 1, n, a.data());
    if (auto to_float = g.get_traits(id)->to_float) to_float(theirs.data(), b.data(), static_cast<int64_t>(n));
    else std::memcpy(b.data(), theirs.data(), n * sizeof(float));
    CHECK(std::memcmp(a.data(), b.data(), n * sizeof(float)) == 0);
  }
  // Many rows at once (ggml_quantize_chunk over nrows) equal row-by-row squint.
  const std::size_t nrows = all.size() / n;
  std::vector<uint8_t> ours(nrows * rb), theirs(nrows * rb);
  ggml_quantize_rows(t, all.data(), nrows, n, ours.data(), imatrix);
  g.quantize_chunk(id, all.data(), theirs.data(), 0, static_cast<int64_t>(nrows), static_cast<int64_t>(n), imatrix);
  CHECK(ours == theirs);
}

// Without importance weights (where ggml allows it), every size that holds whole blocks.
void check_plain(GgmlType t) {
  if (ggml_requires_imatrix(t)) return;  // ggml refuses (asserts) without one
  const int block = ggml_type_info(t)->block;
  for (std::size_t n : {32, 64, 256, 512, 4096}) {
    if (n % static_cast<std::size_t>(block) != 0) continue;
    if (ggml_is_grid_type(t) && n == 4096) continue;  // slow types: 256 and 512 cover one and two super-blocks
    check_type(t, n);
  }
}

// With random importance weights of each kind.
void check_weighted(GgmlType t) {
  const int block = ggml_type_info(t)->block;
  int kind = 0;
  for (std::size_t n : {32, 256, 512, 1536}) {
    if (n % static_cast<std::size_t>(block) != 0) continue;
    if (ggml_is_grid_type(t) && n == 1536) continue;
    for (int rep = 0; rep < 2; ++rep, ++kind) {
      const auto w = make_imatrix(n, kind, 500 + static_cast<uint64_t>(t) * 7 + n + rep);
      check_type(t, n, w.data(), kind % 4);
    }
  }
}

// Negative control: the weights must actually be applied. Quantizing real-looking rows with one weight vector
// and with that vector perturbed (every 5th column made 50x heavier) changes the bytes of every type that uses
// them, in squint and in ggml alike; Q8_0 ignores them in both.
void check_perturbed(GgmlType t) {
  const GgmlLib& g = lib();
  const std::size_t n = 512, nrows = 16;
  SplitMix64 rng{4242};
  std::vector<float> x(n * nrows);
  for (auto& v : x) v = static_cast<float>(0.02 * rng.normal() * std::exp(0.5 * rng.normal()));
  const auto w = make_imatrix(n, 0, 99);
  auto w2 = w;
  for (std::size_t i = 0; i < n; i += 5) w2[i] *= 50.0f;
  INFO(ggml_type_info(t)->name);
  const std::size_t bytes = nrows * ggml_row_bytes(t, n);
  std::vector<uint8_t> a(bytes), b(bytes), none(bytes), ga(bytes), gb(bytes);
  ggml_quantize_rows(t, x.data(), nrows, n, a.data(), w.data());
  ggml_quantize_rows(t, x.data(), nrows, n, b.data(), w2.data());
  if (ggml_requires_imatrix(t)) {
    CHECK_THROWS_WITH(
        ggml_quantize_rows(t, x.data(), nrows, n, none.data()),
        std::string(ggml_type_info(t)->name) + ": ggml quantizes this type only with an importance matrix (--imatrix)");
  } else {
    ggml_quantize_rows(t, x.data(), nrows, n, none.data());
  }
  g.quantize_chunk(static_cast<int>(t), x.data(), ga.data(), 0, nrows, n, w.data());
  g.quantize_chunk(static_cast<int>(t), x.data(), gb.data(), 0, nrows, n, w2.data());
  CHECK(a == ga);
  CHECK(b == gb);
  if (t == GgmlType::Q8_0) {
    CHECK(a == b);
    CHECK(a == none);
  } else {
    CHECK(a != b);
    if (!ggml_requires_imatrix(t)) CHECK(a != none);
  }
}

}  // namespace

TEST_CASE("ggml port: type table agrees with ggml's type_traits", "[ggml]") {
  const GgmlLib& g = lib();
  INFO(g.error);
  REQUIRE(g.error.empty());
  for (uint32_t id = 0; id < 31; ++id) {
    const GgmlTypeInfo* info = ggml_type_from_id(id);
    if (!info) continue;
    const auto* tr = g.get_traits(static_cast<int>(id));
    INFO(info->name);
    CHECK(ggml_type_from_name(tr->type_name) == info);  // ggml spells them "q4_K", "iq4_nl", "bf16"
    CHECK(tr->blck_size == info->block);
    CHECK(tr->type_size == static_cast<size_t>(info->block_bytes));
  }
}

TEST_CASE("ggml port: blocks byte-identical to ggml_quantize_chunk, dequantization bitwise equal", "[ggml]") {
  const GgmlLib& g = lib();
  INFO(g.error);
  REQUIRE(g.error.empty());
  std::vector<GgmlType> types = ggml_quant_types();
  types.insert(types.end(), {GgmlType::F32, GgmlType::F16, GgmlType::BF16});
  for (GgmlType t : types)
    if (!ggml_is_grid_type(t)) check_plain(t);
}

TEST_CASE("ggml port: random bytes dequantize like ggml's to_float", "[ggml]") {
  const GgmlLib& g = lib();
  INFO(g.error);
  REQUIRE(g.error.empty());
  SplitMix64 rng{77};
  for (GgmlType t : ggml_quant_types()) {
    // The grid types look values up in tables of up to 2048 points: 4096-element rows x 100 reach every entry
    // (IQ1: 51200 lookups of 2048 points) with overwhelming probability.
    const std::size_t n = ggml_is_grid_type(t) ? 4096 : 512;
    const int reps = ggml_is_grid_type(t) ? 100 : 20;
    const std::size_t rb = ggml_row_bytes(t, n);
    std::vector<uint8_t> bytes(rb);
    for (int rep = 0; rep < reps; ++rep) {
      for (auto& b : bytes) b = static_cast<uint8_t>(rng.next());
      // Keep the fp16 scales finite so the comparison is about the decoding, not NaN payloads.
      if (!g.validate(static_cast<int>(t), bytes.data(), rb)) continue;
      std::vector<float> a(n), b(n);
      ggml_dequantize_rows(t, bytes.data(), 1, n, a.data());
      g.get_traits(static_cast<int>(t))->to_float(bytes.data(), b.data(), static_cast<int64_t>(n));
      INFO(ggml_type_info(t)->name);
      CHECK(std::memcmp(a.data(), b.data(), n * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("ggml port: with importance weights, blocks byte-identical to ggml_quantize_chunk(imatrix)", "[ggml]") {
  const GgmlLib& g = lib();
  INFO(g.error);
  REQUIRE(g.error.empty());
  for (GgmlType t : ggml_quant_types())
    if (!ggml_is_grid_type(t)) check_weighted(t);
}

TEST_CASE("ggml port: perturbed importance weights change the bytes of every type that uses them", "[ggml]") {
  const GgmlLib& g = lib();
  INFO(g.error);
  REQUIRE(g.error.empty());
  for (GgmlType t : ggml_quant_types())
    if (!ggml_is_grid_type(t)) check_perturbed(t);
}

// The seven grid types in one test case: ggml builds their search tables (iq2xs_init_impl, iq3xs_init_impl)
// once per process, ~26 s of CPU (IQ1's 14 s, IQ2_S's 6.5 s; squint's own take 0.15 s), so one process pays it
// once; the comparisons themselves take ~3 s.
TEST_CASE("ggml port: IQ2/IQ3/IQ1 grid types byte-identical to ggml, with and without importance weights", "[ggml][slow]") {
  const GgmlLib& g = lib();
  INFO(g.error);
  REQUIRE(g.error.empty());
  int n = 0;
  for (GgmlType t : ggml_quant_types()) {
    if (!ggml_is_grid_type(t)) continue;
    ++n;
    check_plain(t);
    check_weighted(t);
    check_perturbed(t);
  }
  CHECK(n == 7);
}

TEST_CASE("ggml port: which types need an importance matrix is ggml's ggml_quantize_requires_imatrix", "[ggml]") {
  const GgmlLib& g = lib();
  INFO(g.error);
  REQUIRE(g.error.empty());
  using Requires = bool (*)(int type);
  const auto requires_imatrix = reinterpret_cast<Requires>(dlsym(g.handle, "ggml_quantize_requires_imatrix"));
  REQUIRE(requires_imatrix);
  int n = 0;
  for (GgmlType t : ggml_quant_types()) {
    INFO(ggml_type_info(t)->name);
    CHECK(ggml_requires_imatrix(t) == requires_imatrix(static_cast<int>(t)));
    n += ggml_requires_imatrix(t);
  }
  CHECK(n == 3);  // IQ2_XXS, IQ2_XS, IQ1_S
}
