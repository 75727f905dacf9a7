// libFuzzer: the readers of partial analysis outputs: a part file (`analyze --merge`) and a resume journal
// (`analyze --resume`). The seeds (make_seeds.py) are a part and a journal of the identity below.
#include <cstdint>
#include <string>

#include "analysis/analysis_journal.h"
#include "analysis/analysis_parts.h"
#include "util/error.h"

namespace {
const squint::AnalysisIdentity& identity() {
  static const squint::AnalysisIdentity id = [] {
    const auto j = nlohmann::json::parse(R"({"squint": "fuzz", "part": 1, "parts": 1, "tensor_count": 2,
      "data_sample": "xxh64:0", "features": false, "analysis": {"format": "squint.analysis", "version": 1,
      "model": {"fingerprint": "xxh64:0", "files": ["model.safetensors"], "num_layers": 1, "tied_embeddings": false,
      "num_experts": 0, "params": 68, "bytes": 264}, "f32_output_dtype": "float16",
      "configs": [{"bits": 4, "group_size": 32}]}})");
    return squint::identity_from_json(j, "fuzz identity");
  }();
  return id;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  try {
    squint::merge_analysis_parts({{"fuzz-part.json", s}}, "fuzz");
  } catch (const squint::Error&) {
  }
  try {
    squint::read_journal(s, identity(), "fuzz.journal");
  } catch (const squint::Error&) {
  }
  return 0;
}
