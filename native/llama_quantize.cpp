#include "llama_quantize.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "util/error.h"

namespace squint {

namespace {

// Mirrors include/llama.h of the llama.cpp release node-llama-cpp 3.21.1 ships (release "v0.4.0" in
// bins/linux-x64/_nlcBuildMetadata.json). The struct is returned by value, so its layout must match exactly;
// enums are int-sized.
struct QuantizeParams {
  int32_t nthread;
  int32_t ftype;                 // enum llama_ftype
  int32_t output_tensor_type;    // enum ggml_type
  int32_t token_embedding_type;  // enum ggml_type
  bool allow_requantize;
  bool quantize_output_tensor;
  bool only_copy;
  bool pure;
  bool keep_split;
  bool dry_run;
  const void* imatrix;  // const struct llama_model_imatrix_data *, ends with name == NULL
  const void* kv_overrides;
  const void* tt_overrides;  // const struct llama_model_tensor_override *, ends with pattern == NULL
  const int32_t* prune_layers;
  size_t max_buf_size;
};
struct ImatrixData {  // struct llama_model_imatrix_data
  const char* name;
  const float* data;
  size_t size;
};
struct TensorOverride {  // struct llama_model_tensor_override
  const char* pattern;
  int32_t type;  // enum ggml_type
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
constexpr Mix kMixes[] = {{"F32", 0},      {"F16", 1},      {"Q4_0", 2},    {"Q4_1", 3},    {"Q8_0", 7},
                          {"Q5_0", 8},     {"Q5_1", 9},     {"Q2_K", 10},   {"Q3_K_S", 11}, {"Q3_K_M", 12},
                          {"Q3_K_L", 13},  {"Q4_K_S", 14},  {"Q4_K_M", 15}, {"Q5_K_S", 16}, {"Q5_K_M", 17},
                          {"Q6_K", 18},    {"IQ2_XXS", 19}, {"IQ2_XS", 20}, {"Q2_K_S", 21}, {"IQ3_XS", 22},
                          {"IQ3_XXS", 23}, {"IQ1_S", 24},   {"IQ4_NL", 25}, {"IQ3_S", 26},  {"IQ3_M", 27},
                          {"IQ2_S", 28},   {"IQ2_M", 29},   {"IQ4_XS", 30}, {"IQ1_M", 31},  {"BF16", 32}};

constexpr int kLogWarn = 3, kLogCont = 5;  // enum ggml_log_level
bool g_verbose = false;
int g_last_level = 0;
void log_filter(int level, const char* text, void*) {
  if (level != kLogCont) g_last_level = level;
  if (g_verbose || g_last_level >= kLogWarn) std::fputs(text, stderr);
}

}  // namespace

int32_t llama_ftype_from_name(const std::string& mix) {
  for (const Mix& m : kMixes)
    if (mix == m.name) return m.ftype;
  return -1;
}

std::vector<std::string> llama_ftype_names() {
  std::vector<std::string> v;
  for (const Mix& m : kMixes) v.emplace_back(m.name);
  return v;
}

std::string find_libllama() {
  static const char* kNpmLib = "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama.v0.4.0.so";
  if (const char* e = std::getenv("SQUINT_LIBLLAMA"); e && *e) return e;
  std::vector<std::filesystem::path> roots;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) roots.push_back(exe.parent_path().parent_path());  // build/X -> the checkout that holds node_modules/
  roots.push_back(std::filesystem::current_path(ec));
  for (const auto& r : roots)
    if (std::filesystem::is_regular_file(r / kNpmLib, ec)) return (r / kNpmLib).string();
  return kNpmLib;  // dlopen's error then names the path tried
}

void llama_quantize_file(const LlamaQuantizeRequest& r) {
  const std::string lib = r.lib.empty() ? find_libllama() : r.lib;
  void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) fail(std::string("cannot load libllama (") + dlerror() + "); install node-llama-cpp (scripts/deps.sh)");
  auto defaults = reinterpret_cast<DefaultParams>(dlsym(h, "llama_model_quantize_default_params"));
  auto quantize = reinterpret_cast<Quantize>(dlsym(h, "llama_model_quantize"));
  auto log_set = reinterpret_cast<LogSet>(dlsym(h, "llama_log_set"));
  auto backend_init = reinterpret_cast<BackendInit>(dlsym(h, "llama_backend_init"));
  if (!defaults || !quantize || !log_set || !backend_init) fail(lib + " lacks the llama_model_quantize API");
  g_verbose = r.verbose;
  log_set(log_filter, nullptr);
  backend_init();

  QuantizeParams p = defaults();
  p.ftype = r.ftype;
  p.nthread = r.threads;
  p.pure = r.pure;
  std::vector<ImatrixData> im;
  if (r.imatrix) {  // as tools/quantize/quantize.cpp: one array entry per weight, then a null terminator
    for (const auto& [name, w] : *r.imatrix) im.push_back({name.c_str(), w.data(), w.size()});
    im.push_back({nullptr, nullptr, 0});
    p.imatrix = im.data();
  }
  std::vector<TensorOverride> tt;
  if (!r.tensor_types.empty()) {
    for (const auto& [pattern, type] : r.tensor_types) tt.push_back({pattern.c_str(), static_cast<int32_t>(type)});
    tt.push_back({nullptr, 0});
    p.tt_overrides = tt.data();
  }
  const uint32_t rc = quantize(r.in.c_str(), r.out.c_str(), &p);
  if (rc != 0) fail("llama_model_quantize(" + r.in + ") failed (" + std::to_string(rc) + ")");
}

}  // namespace squint
