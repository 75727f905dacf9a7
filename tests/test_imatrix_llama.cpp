// squint's imatrix files against llama.cpp's own code, from the libraries node-llama-cpp ships (installed by
// scripts/deps.sh, so their absence fails the test):
//  - common_imatrix_load (libllama-common.so, a C++ symbol) reads what squint writes, GGUF and legacy .dat,
//    with the same entries, values and metadata;
//  - squint's GGUF writer is byte-identical to llama-imatrix's save_imatrix, replayed here with ggml's gguf
//    writer (libggml-base.so);
//  - the weights squint gives the quantizer equal those llama-quantize computes from what its loader read.
#include <dlfcn.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "file_source.h"
#include "io/imatrix.h"
#include "test_util.h"
#include "util/error.h"
#include "util/rng.h"

using namespace squint;
using namespace squint::test;

namespace {

// common/imatrix-loader.h of the llama.cpp release node-llama-cpp 3.21.1 ships, field for field (the loader
// fills this struct through a reference, so the layout must be exactly that header's). Declared in an
// anonymous namespace so its std::map instantiation cannot be confused with the library's.
struct common_imatrix_entry {
  std::vector<float> sums;
  std::vector<int64_t> counts;
};
struct common_imatrix {
  std::map<std::string, common_imatrix_entry> entries;
  std::vector<std::string> datasets;
  int32_t chunk_count = 0;
  int32_t chunk_size = 0;
  bool is_legacy = false;
  bool has_metadata = false;
};
using ImatrixLoad = bool (*)(const std::string&, common_imatrix&);

std::string bins() {
  return std::string(SQUINT_SOURCE_DIR) + "/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/";
}

ImatrixLoad loader() {
  static ImatrixLoad f = [] {
    void* h = dlopen((bins() + "libllama-common.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) FAIL("cannot load libllama-common.so (scripts/deps.sh installs it): " << dlerror());
    auto* p = reinterpret_cast<ImatrixLoad>(
        dlsym(h, "_Z19common_imatrix_loadRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEER14common_imatrix"));
    if (!p) FAIL("libllama-common.so does not export common_imatrix_load");
    return p;
  }();
  return f;
}

common_imatrix llama_load(const std::string& file) {
  common_imatrix m;
  REQUIRE(loader()(file, m));
  return m;
}

// Differences between what squint and llama.cpp read, "" if none (floats compared bit for bit).
std::string differences(const Imatrix& s, const common_imatrix& l) {
  std::string d;
  if (s.entries.size() != l.entries.size()) d += "entry count; ";
  for (const auto& [name, e] : s.entries) {
    auto it = l.entries.find(name);
    if (it == l.entries.end()) {
      d += "missing " + name + "; ";
      continue;
    }
    if (e.sums.size() != it->second.sums.size() ||
        std::memcmp(e.sums.data(), it->second.sums.data(), e.sums.size() * sizeof(float)) != 0)
      d += "sums of " + name + "; ";
    if (e.counts != it->second.counts) d += "counts of " + name + "; ";
  }
  if (s.datasets != l.datasets) d += "datasets; ";
  if (s.chunk_count != l.chunk_count) d += "chunk_count; ";
  if (s.chunk_size != l.chunk_size) d += "chunk_size; ";
  if (s.legacy != l.is_legacy) d += "legacy; ";
  return d;
}

// tools/quantize/quantize.cpp load_imatrix, copied: what llama-quantize hands llama_model_quantize per weight.
std::vector<float> llama_quantize_weights(const common_imatrix_entry& entry, bool is_legacy) {
  std::vector<float> e(entry.sums.size());
  if (!is_legacy) {
    const int64_t ncounts = entry.counts.size();
    const int64_t ne0 = (int64_t)entry.sums.size() / ncounts;
    for (int64_t j = 0; j < ncounts; ++j) {
      const float count = (float)entry.counts[j];
      if (count > 0.0f) {
        for (int64_t i = 0; i < ne0; ++i) e[j * ne0 + i] = entry.sums[j * ne0 + i] / count;
      } else {
        for (int64_t i = 0; i < ne0; ++i) e[j * ne0 + i] = 1;
      }
    }
  } else {
    const int64_t ncall = entry.counts.empty() ? 0 : entry.counts[0];
    if (ncall > 0) {
      for (size_t i = 0; i < entry.sums.size(); ++i) e[i] = entry.sums[i] / ncall;
    } else {
      for (size_t i = 0; i < entry.sums.size(); ++i) e[i] = entry.sums[i];
    }
  }
  return e;
}

// A realistic imatrix: Σx² of random activations over `count` tokens, dense entries of a 2-layer model and a
// 4-expert stack with one idle expert; counts large enough that their float form matters (> 2^24 for one).
Imatrix random_imatrix(uint64_t seed) {
  SplitMix64 rng{seed};
  Imatrix m;
  m.datasets = {"train.txt", "more text.txt"};
  m.chunk_count = 37;
  m.chunk_size = 512;
  auto entry = [&](std::size_t cols, std::vector<int64_t> counts) {
    ImatrixEntry e;
    e.counts = counts;
    for (int64_t c : counts)
      for (std::size_t j = 0; j < cols; ++j) {
        const double x = rng.normal() * (1 + j % 7);
        e.sums.push_back(c ? static_cast<float>(x * x * static_cast<double>(c)) : 0.0f);
      }
    return e;
  };
  for (int l = 0; l < 2; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    for (const char* w : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up"})
      m.entries[b + w + ".weight"] = entry(64, {37 * 512});
    m.entries[b + "ffn_down.weight"] = entry(172, {37 * 512});
  }
  m.entries["blk.1.ffn_gate_exps.weight"] = entry(64, {9000, 0, 33554433, 1});
  m.entries["output.weight"] = entry(64, {18944});
  return m;
}

}  // namespace

TEST_CASE("imatrix: llama.cpp's common_imatrix_load reads squint's GGUF and .dat with the same entries and values",
          "[imatrix][llama]") {
  TempDir d;
  const Imatrix m = random_imatrix(7);
  write_bytes(d.path / "m.gguf", write_imatrix_gguf(m));
  write_bytes(d.path / "m.dat", write_imatrix_dat(m));

  const common_imatrix g = llama_load(d.str("m.gguf"));
  CHECK_FALSE(g.is_legacy);
  CHECK(g.has_metadata);  // llama-quantize refuses a GGUF imatrix without it
  // The count 33554433 (2^25 + 1) travels as a float: both readers see 33554432.
  Imatrix want = m;
  want.entries["blk.1.ffn_gate_exps.weight"].counts[2] = 33554432;
  CHECK(differences(want, g) == "");
  // squint reads back what it wrote, as llama.cpp does.
  FileSource gs(d.str("m.gguf"));
  CHECK(differences(read_imatrix(gs), g) == "");

  const common_imatrix l = llama_load(d.str("m.dat"));
  CHECK(l.is_legacy);
  FileSource ls(d.str("m.dat"));
  const Imatrix sl = read_imatrix(ls);
  CHECK(sl.datasets == std::vector<std::string>{"more text.txt"});  // the legacy trailer names one dataset
  CHECK(sl.chunk_count == 37);
  CHECK(differences(sl, l) == "");

  // The weights the quantizer gets: squint's equal llama-quantize's from its own loader's data, every entry.
  for (const auto& [name, e] : g.entries)
    CHECK(imatrix_quant_weights(read_imatrix(gs).entries.at(name), false) == llama_quantize_weights(e, false));
  for (const auto& [name, e] : l.entries)
    CHECK(imatrix_quant_weights(sl.entries.at(name), true) == llama_quantize_weights(e, true));

  // Negative controls: one flipped bit in a value, and a changed count, are seen through llama.cpp's loader.
  std::vector<uint8_t> b = write_imatrix_gguf(m);
  b[b.size() - 40] ^= 0x10;  // inside output.weight.in_sum2 (the last tensor; 64 floats)
  write_bytes(d.path / "bad.gguf", b);
  CHECK_THAT(differences(want, llama_load(d.str("bad.gguf"))), Catch::Contains("sums of output.weight"));
  Imatrix other = want;
  other.entries["blk.0.attn_q.weight"].counts[0] += 1;
  CHECK_THAT(differences(other, g), Catch::Contains("counts of blk.0.attn_q.weight"));
}

namespace {
// ggml's C API (ggml.h, gguf.h) for the writer comparison.
struct GgmlInitParams {
  size_t mem_size;
  void* mem_buffer;
  bool no_alloc;
};
struct GgmlApi {
  void* (*init)(GgmlInitParams);
  void (*free_ctx)(void*);
  size_t (*tensor_overhead)();
  void* (*new_tensor_2d)(void*, int, int64_t, int64_t);
  void* (*set_name)(void*, const char*);
  void* (*get_data)(void*);
  void* (*gguf_init_empty)();
  void (*gguf_free)(void*);
  void (*set_val_str)(void*, const char*, const char*);
  void (*set_arr_str)(void*, const char*, const char**, size_t);
  void (*set_val_u32)(void*, const char*, uint32_t);
  void (*add_tensor)(void*, const void*);
  bool (*write_to_file)(const void*, const char*, bool);
};
GgmlApi ggml_api() {
  void* h = dlopen((bins() + "libggml-base.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) FAIL("cannot load libggml-base.so: " << dlerror());
  GgmlApi a{};
  auto sym = [&](auto& f, const char* n) {
    f = reinterpret_cast<std::remove_reference_t<decltype(f)>>(dlsym(h, n));
    if (!f) FAIL("libggml-base.so lacks " << n);
  };
  sym(a.init, "ggml_init");
  sym(a.free_ctx, "ggml_free");
  sym(a.tensor_overhead, "ggml_tensor_overhead");
  sym(a.new_tensor_2d, "ggml_new_tensor_2d");
  sym(a.set_name, "ggml_set_name");
  sym(a.get_data, "ggml_get_data");
  sym(a.gguf_init_empty, "gguf_init_empty");
  sym(a.gguf_free, "gguf_free");
  sym(a.set_val_str, "gguf_set_val_str");
  sym(a.set_arr_str, "gguf_set_arr_str");
  sym(a.set_val_u32, "gguf_set_val_u32");
  sym(a.add_tensor, "gguf_add_tensor");
  sym(a.write_to_file, "gguf_write_to_file");
  return a;
}

// tools/imatrix/imatrix.cpp IMatrixCollector::save_imatrix, replayed with ggml's own writer.
void llama_save_imatrix(const Imatrix& m, const std::string& fname) {
  const GgmlApi a = ggml_api();
  size_t data_size = 0;
  for (const auto& [name, e] : m.entries)
    data_size += 2 * a.tensor_overhead() + 4 * (e.sums.size() + e.counts.size()) + 64;
  void* ctx = a.init({data_size, nullptr, false});
  void* g = a.gguf_init_empty();
  std::vector<const char*> ds;
  for (const auto& s : m.datasets) ds.push_back(s.c_str());
  a.set_val_str(g, "general.type", "imatrix");
  a.set_arr_str(g, "imatrix.datasets", ds.data(), ds.size());
  a.set_val_u32(g, "imatrix.chunk_count", static_cast<uint32_t>(m.chunk_count));
  a.set_val_u32(g, "imatrix.chunk_size", static_cast<uint32_t>(m.chunk_size));
  for (const auto& [name, e] : m.entries) {  // sorted, as save_imatrix sorts to_store
    const int64_t nmat = static_cast<int64_t>(e.counts.size()), nval = static_cast<int64_t>(e.sums.size());
    void* in_sum2 = a.new_tensor_2d(ctx, 0, nval / nmat, nmat);
    void* counts = a.new_tensor_2d(ctx, 0, 1, nmat);
    a.set_name(in_sum2, (name + ".in_sum2").c_str());
    a.set_name(counts, (name + ".counts").c_str());
    for (int64_t j = 0; j < nval; ++j)
      static_cast<float*>(a.get_data(in_sum2))[j] = e.sums[static_cast<std::size_t>(j)];
    for (int64_t j = 0; j < nmat; ++j)
      static_cast<float*>(a.get_data(counts))[j] = static_cast<float>(e.counts[static_cast<std::size_t>(j)]);
    a.add_tensor(g, in_sum2);
    a.add_tensor(g, counts);
  }
  REQUIRE(a.write_to_file(g, fname.c_str(), false));
  a.gguf_free(g);
  a.free_ctx(ctx);
}
}  // namespace

TEST_CASE("imatrix: squint's GGUF writer is byte-identical to llama-imatrix's save_imatrix (ggml's gguf writer)",
          "[imatrix][llama]") {
  TempDir d;
  for (uint64_t seed : {1, 2}) {
    Imatrix m = random_imatrix(seed);
    if (seed == 2) m.datasets.clear();  // an empty string array
    llama_save_imatrix(m, d.str("ggml.gguf"));
    FileSource ref(d.str("ggml.gguf"));
    std::vector<uint8_t> want(ref.size());
    ref.read(0, want.size(), want.data());
    CHECK(write_imatrix_gguf(m) == want);
    // Negative control: another chunk count changes the bytes.
    Imatrix o = m;
    o.chunk_count += 1;
    CHECK(write_imatrix_gguf(o) != want);
  }
}

#include <nlohmann/json.hpp>

#include "analysis/column_weights.h"
#include "eval/calibrate.h"
#include "eval_model.h"
#include "io/gguf.h"
#include "llama_quantize.h"
#include "parallel.h"

namespace {
std::string train() { return shared_dir() + "/data/tinystories/train.txt"; }
std::vector<uint8_t> file_bytes(const std::string& p) {
  FileSource f(p);
  std::vector<uint8_t> b(f.size());
  f.read(0, b.size(), b.data());
  return b;
}
// The data of every tensor of a GGUF file, by name.
std::map<std::string, std::vector<uint8_t>> tensor_data(const std::string& p) {
  FileSource f(p);
  const GgufFile g = read_gguf(f);
  std::map<std::string, std::vector<uint8_t>> out;
  for (const auto& t : g.tensors) {
    std::vector<uint8_t> b(t.nbytes);
    f.read(g.absolute_offset(t), b.size(), b.data());
    out[t.name] = std::move(b);
  }
  return out;
}
}  // namespace

TEST_CASE("squint imatrix: the forward pass's Σx² per weight, under llama.cpp's GGUF names, read by llama.cpp's loader",
          "[imatrix][llama][cli]") {
  TempDir d;
  std::string log;
  const std::string M = shared_model("stories260K");
  REQUIRE(run(cli() + " -q imatrix " + M + " --text " + train() + " --samples 4 --seq-len 64 -o " + d.str("im.gguf") +
                  " --report " + d.str("r.json"),
              &log) == 0);
  INFO(log);
  const common_imatrix l = llama_load(d.str("im.gguf"));
  CHECK(l.has_metadata);
  CHECK(l.chunk_size == 64);
  CHECK(l.chunk_count == 4);
  CHECK(l.datasets == std::vector<std::string>{train()});
  // 5 layers × (q, k, v, o, gate, up, down); no token_embd (a lookup) and no output (tied, as llama-imatrix).
  CHECK(l.entries.size() == 35);
  CHECK(l.entries.count("blk.4.ffn_down.weight"));
  CHECK(l.entries.at("blk.0.ffn_down.weight").sums.size() == 172);
  CHECK(l.entries.at("blk.0.attn_q.weight").counts == std::vector<int64_t>{256});
  CHECK_FALSE(l.entries.count("token_embd.weight"));
  // Each weight got its own input's statistic: the means equal calibration's per-site E[x²] (float sums vs
  // double means, so to 1e-5), and the sites are told apart (q/k/v share one, o has another).
  const Checkpoint ck = open_model(M);
  const EvalWindows w = load_eval_windows(train(), M, 64, 4, 42);
  const ColumnWeights cw = column_weights_from_moments(collect_input_moments(*load_model(M), w, serial()), "t");
  const std::pair<const char*, InputSite> sites[] = {
      {"attn_q", InputSite::AttnIn},       {"attn_k", InputSite::AttnIn},  {"attn_v", InputSite::AttnIn},
      {"attn_output", InputSite::AttnOut}, {"ffn_gate", InputSite::MlpIn}, {"ffn_up", InputSite::MlpIn},
      {"ffn_down", InputSite::MlpDown}};
  for (int layer = 0; layer < 5; ++layer)
    for (const auto& [name, site] : sites) {
      const auto& e = l.entries.at("blk." + std::to_string(layer) + "." + name + ".weight");
      const auto want = cw.sites.at({site, layer});
      const auto got = llama_quantize_weights(e, false);
      REQUIRE(got.size() == want.size());
      for (std::size_t j = 0; j < got.size(); ++j) CHECK(got[j] == Approx(want[j]).epsilon(1e-5));
    }
  CHECK(l.entries.at("blk.0.attn_q.weight").sums == l.entries.at("blk.0.attn_v.weight").sums);
  CHECK(l.entries.at("blk.0.attn_q.weight").sums != l.entries.at("blk.0.attn_output.weight").sums);
  // The report names the file it wrote by its content hash, and the legacy format by extension.
  const auto rep = nlohmann::json::parse(read_all_text(FileSource(d.str("r.json"))));
  CHECK(rep["format"] == "squint.imatrix");
  CHECK(rep["file_hash"] == content_hash(FileSource(d.str("im.gguf"))));
  CHECK(rep["entries"].size() == 35);
  REQUIRE(run(cli() + " -q imatrix " + M + " --text " + train() + " --samples 4 --seq-len 64 -o " + d.str("im.dat"),
              &log) == 0);
  const common_imatrix ld = llama_load(d.str("im.dat"));
  CHECK(ld.is_legacy);
  CHECK(ld.entries.size() == 35);
  // ncall = 4 windows (a power of two): the legacy means are the GGUF's to the bit.
  for (const auto& [name, e] : l.entries)
    CHECK(llama_quantize_weights(ld.entries.at(name), true) == llama_quantize_weights(e, false));
  // Refusals: an existing output without --force; nothing is written on error.
  CHECK(run(cli() + " -q imatrix " + M + " --text " + train() + " --samples 4 --seq-len 64 -o " + d.str("im.gguf"),
            &log) == 2);
  CHECK_THAT(log, Catch::Contains("already exists"));
  CHECK(run(cli() + " -q imatrix " + M + " --text " + d.str("none.txt") + " -o " + d.str("x.gguf"), &log) == 2);
  CHECK_FALSE(std::filesystem::exists(d.path / "x.gguf"));
}

TEST_CASE("llama_model_quantize accepts squint's imatrix: IQ types that llama.cpp refuses without one, sizes checked",
          "[imatrix][llama][cli]") {
  TempDir d;
  std::string log;
  const std::string M = shared_model("tinystories-3M");  // 256-wide rows: the IQ types' 256-blocks fit
  REQUIRE(run(cli() + " -q imatrix " + M + " --text " + train() + " --samples 2 --seq-len 64 -o " + d.str("im.gguf"),
              &log) == 0);
  REQUIRE(run(cli() + " -q quantize " + M + " --format gguf --type F32 -o " + d.str("f32.gguf"), &log) == 0);
  FileSource f(d.str("im.gguf"));
  const auto weights = imatrix_quant_weights(read_imatrix(f));
  LlamaQuantizeRequest r;
  r.lib = bins() + "libllama.v0.4.0.so";
  r.in = d.str("f32.gguf");
  r.ftype = llama_ftype_from_name("IQ2_XXS");
  r.out = d.str("no.gguf");
  // Without an imatrix llama.cpp refuses this mix ("this quantization requires an imatrix!")...
  CHECK_THROWS_AS(llama_quantize_file(r), Error);
  // ... with squint's it quantizes.
  r.imatrix = &weights;
  r.out = d.str("iq2.gguf");
  llama_quantize_file(r);
  const auto q = tensor_data(d.str("iq2.gguf"));
  FileSource qf(d.str("iq2.gguf"));
  CHECK(read_gguf(qf).tensor("blk.0.attn_q.weight")->type == 16);  // IQ2_XXS
  // The weights were used, not just accepted: Q4_0 with and without them differ.
  r.ftype = llama_ftype_from_name("Q4_0");
  r.pure = true;
  r.out = d.str("q4_im.gguf");
  llama_quantize_file(r);
  r.imatrix = nullptr;
  r.out = d.str("q4.gguf");
  llama_quantize_file(r);
  CHECK(tensor_data(d.str("q4_im.gguf")).at("blk.1.ffn_down.weight") !=
        tensor_data(d.str("q4.gguf")).at("blk.1.ffn_down.weight"));
  // Negative control: llama.cpp checks each entry's size against its tensor, so a wrong one is refused.
  auto wrong = weights;
  wrong["blk.0.attn_q.weight"].resize(128);
  r.imatrix = &wrong;
  r.out = d.str("bad.gguf");
  CHECK_THROWS_AS(llama_quantize_file(r), Error);
}
