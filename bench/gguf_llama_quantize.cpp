// llama.cpp's own mixes as baselines: `gguf_llama_quantize IN.gguf OUT.gguf MIX [--lib LIBLLAMA] [--threads N]
// [--verbose]`. Calls the real llama_model_quantize (dlopen'ed from node-llama-cpp's prebuilt libllama) with
// llama_model_quantize_default_params() and the mix's ftype, exactly what `llama-quantize IN OUT MIX` does without
// an importance matrix. IN is a float (F32/F16) GGUF, e.g. `squint quantize MODEL --format gguf --type F32`.
// The output is written under a temporary name and renamed; llama.cpp's warnings (type fallbacks for rows
// that are not a multiple of the block size) go to stderr. Used by bench/gguf/mixes.sh.
#include <dlfcn.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

namespace {

// Mirrors include/llama.h of the llama.cpp release node-llama-cpp 3.21.1 ships (release "v0.4.0" in
// bins/linux-x64/_nlcBuildMetadata.json; sources: node_modules/node-llama-cpp/llama/gitRelease.bundle). The
// struct is returned by value, so its layout must match exactly; enums are int-sized.
struct QuantizeParams {
  int32_t nthread;
  int32_t ftype;                  // enum llama_ftype
  int32_t output_tensor_type;     // enum ggml_type
  int32_t token_embedding_type;   // enum ggml_type
  bool allow_requantize;
  bool quantize_output_tensor;
  bool only_copy;
  bool pure;
  bool keep_split;
  bool dry_run;
  const void* imatrix;
  const void* kv_overrides;
  const void* tt_overrides;
  const int32_t* prune_layers;
  size_t max_buf_size;
};
using DefaultParams = QuantizeParams (*)();
using Quantize = uint32_t (*)(const char*, const char*, const QuantizeParams*);
using LogCallback = void (*)(int level, const char* text, void* user);
using LogSet = void (*)(LogCallback, void*);
using BackendInit = void (*)();

struct Mix {
  const char* name;
  int32_t ftype;  // enum llama_ftype
};
// The mixes llama-quantize offers that squint can match (its types are in squint's GGUF candidate set).
constexpr Mix kMixes[] = {{"Q4_0", 2},    {"Q4_1", 3},    {"Q8_0", 7},    {"Q5_0", 8},     {"Q5_1", 9},
                          {"Q2_K", 10},   {"Q3_K_S", 11}, {"Q3_K_M", 12}, {"Q3_K_L", 13},  {"Q4_K_S", 14},
                          {"Q4_K_M", 15}, {"Q5_K_S", 16}, {"Q5_K_M", 17}, {"Q6_K", 18},    {"IQ4_NL", 25},
                          {"IQ4_XS", 30}};

constexpr int kLogWarn = 3, kLogCont = 5;  // enum ggml_log_level
bool g_verbose = false;
int g_last_level = 0;
void log_filter(int level, const char* text, void*) {
  if (level != kLogCont) g_last_level = level;
  if (g_verbose || g_last_level >= kLogWarn) std::fputs(text, stderr);
}

int usage(const char* msg) {
  if (msg) std::fprintf(stderr, "error: %s\n", msg);
  std::fprintf(stderr,
               "usage: gguf_llama_quantize IN.gguf OUT.gguf MIX [--lib LIBLLAMA] [--threads N] [--verbose]\n"
               "  MIX: ");
  for (const Mix& m : kMixes) std::fprintf(stderr, "%s ", m.name);
  std::fprintf(stderr,
               "\n  LIBLLAMA default: $SQUINT_LIBLLAMA or "
               "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama.v0.4.0.so\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string in, out, mix, lib;
  int threads = 2;
  if (const char* e = std::getenv("SQUINT_LIBLLAMA")) lib = e;
  if (lib.empty()) lib = "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama.v0.4.0.so";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") return usage(nullptr), 0;
    if (a == "--verbose") {
      g_verbose = true;
    } else if ((a == "--lib" || a == "--threads") && i + 1 < argc) {
      if (a == "--lib") lib = argv[++i];
      else threads = std::atoi(argv[++i]);
    } else if (!a.empty() && a[0] == '-') {
      return usage(("unknown option " + a).c_str());
    } else if (in.empty()) {
      in = a;
    } else if (out.empty()) {
      out = a;
    } else if (mix.empty()) {
      mix = a;
    } else {
      return usage("too many arguments");
    }
  }
  if (mix.empty()) return usage("need IN.gguf OUT.gguf MIX");
  const Mix* m = nullptr;
  for (const Mix& x : kMixes)
    if (mix == x.name) m = &x;
  if (!m) return usage(("unknown mix " + mix).c_str());
  if (threads < 1) return usage("--threads must be >= 1");
  if (!std::filesystem::is_regular_file(in)) {
    std::fprintf(stderr, "error: %s: no such file\n", in.c_str());
    return 2;
  }

  void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    std::fprintf(stderr, "error: cannot load libllama (%s); install node-llama-cpp (scripts/deps.sh) or pass --lib\n",
                 dlerror());
    return 2;
  }
  auto defaults = reinterpret_cast<DefaultParams>(dlsym(h, "llama_model_quantize_default_params"));
  auto quantize = reinterpret_cast<Quantize>(dlsym(h, "llama_model_quantize"));
  auto log_set = reinterpret_cast<LogSet>(dlsym(h, "llama_log_set"));
  auto backend_init = reinterpret_cast<BackendInit>(dlsym(h, "llama_backend_init"));
  if (!defaults || !quantize || !log_set || !backend_init) {
    std::fprintf(stderr, "error: %s lacks the llama_model_quantize API\n", lib.c_str());
    return 2;
  }
  log_set(log_filter, nullptr);
  backend_init();

  QuantizeParams p = defaults();
  p.ftype = m->ftype;
  p.nthread = threads;
  // Temporary named as native/atomic_output.cpp names them (".NAME.tmp-PID-RANDOM" beside the target), so a
  // killed run's leftover is recognised and cleaned like any other.
  const std::filesystem::path op(out);
  char suffix[48];
  std::snprintf(suffix, sizeof suffix, ".tmp-%ld-%08x", static_cast<long>(getpid()), 0x6c6c7175u);
  const std::string tmp = (op.parent_path() / ("." + op.filename().string() + suffix)).string();
  const uint32_t rc = quantize(in.c_str(), tmp.c_str(), &p);
  std::error_code ec;
  if (rc != 0) {
    std::filesystem::remove(tmp, ec);
    std::fprintf(stderr, "error: llama_model_quantize(%s, %s) failed (%u)\n", in.c_str(), mix.c_str(), rc);
    return 1;
  }
  std::filesystem::rename(tmp, out, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    std::fprintf(stderr, "error: cannot rename to %s\n", out.c_str());
    return 1;
  }
  std::fprintf(stderr, "wrote %s (llama.cpp %s, %ju bytes)\n", out.c_str(), mix.c_str(),
               static_cast<uintmax_t>(std::filesystem::file_size(out)));
  return 0;
}
