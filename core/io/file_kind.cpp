#include "io/file_kind.h"

#include <nlohmann/json.hpp>

namespace squint {

FileKind sniff_file_kind(const uint8_t* head, std::size_t n, std::string_view name) {
  if (n >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F') return FileKind::Gguf;
  // safetensors: an 8-byte little-endian header length, then the JSON header's '{'.
  if (n >= 9 && head[8] == '{' && head[7] == 0 && head[6] == 0 && head[5] == 0) return FileKind::Safetensors;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = static_cast<char>(head[i]);
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '{' || c == '[') return FileKind::Json;
    break;
  }
  if (name.ends_with(".model")) return FileKind::SentencePiece;  // a protobuf: no magic to check
  return FileKind::Unknown;
}

std::string describe_json(const nlohmann::json& j) {
  if (!j.is_object()) return "a JSON file";
  if (j.contains("format") && j["format"].is_string()) {
    const std::string f = j["format"].get<std::string>();
    if (f == "squint.analysis") return "a squint analysis (analysis.json)";
    if (f == "squint.plan") return "a squint plan (plan.json)";
    if (f == "squint.eval") return "a squint eval result";
    if (f.starts_with("squint.")) return "a squint " + f.substr(7) + " report";
  }
  if (j.contains("model") && j["model"].is_object() && j["model"].contains("type")) return "a tokenizer.json";
  if (j.contains("weight_map")) return "a safetensors shard index";
  if (j.contains("model_type") || j.contains("architectures") || j.contains("hidden_size"))
    return "a model config.json";
  return "a JSON file";
}

std::string describe_kind(FileKind k) {
  switch (k) {
    case FileKind::Gguf:
      return "a GGUF file";
    case FileKind::Safetensors:
      return "a safetensors file";
    case FileKind::Json:
      return "a JSON file";
    case FileKind::SentencePiece:
      return "a SentencePiece tokenizer.model";
    case FileKind::Unknown:
      break;
  }
  return "neither a safetensors nor a GGUF file";
}

}  // namespace squint
