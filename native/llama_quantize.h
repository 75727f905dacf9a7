#pragma once
// llama.cpp's own quantizer, llama_model_quantize, called from the libllama node-llama-cpp ships (dlopen): the
// reference squint's GGUF output is compared with (tests) and the baseline mixes are made with
// (bench/gguf_llama_quantize). Options as llama-quantize's: an ftype (mix), --pure, --tensor-type overrides,
// and --imatrix, whose weights are passed as tools/quantize/quantize.cpp passes them (name -> floats).
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace squint {

// llama_ftype ids (include/llama.h) of the mixes llama-quantize offers by name ("Q4_K_M" -> 15), or -1.
int32_t llama_ftype_from_name(const std::string& mix);
// The names llama_ftype_from_name knows, for usage messages.
std::vector<std::string> llama_ftype_names();

struct LlamaQuantizeRequest {
  std::string in, out;  // float (F32/F16) GGUF in, GGUF out
  int32_t ftype = 7;    // llama_ftype (7 = Q8_0)
  int threads = 2;
  bool pure = false;                                           // every matrix the ftype's default type
  std::vector<std::pair<std::string, uint32_t>> tensor_types;  // (regex, ggml type id), first match wins
  const std::map<std::string, std::vector<float>>* imatrix = nullptr;
  bool verbose = false;  // llama.cpp's log (warnings always go to stderr)
  std::string lib;       // libllama path; default find_libllama()
};

// node-llama-cpp's libllama (what `npm ci` installs): $SQUINT_LIBLLAMA, else node_modules/ of the checkout whose
// build folder holds the running binary (build/X -> build/..), else under the working directory. Looking only
// under the working directory made every run outside the repository root need --lib (issue 26).
std::string find_libllama();

// Runs llama_model_quantize; throws squint::Error when the library cannot be loaded or the call fails.
void llama_quantize_file(const LlamaQuantizeRequest& r);

}  // namespace squint
