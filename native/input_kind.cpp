#include "input_kind.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "file_source.h"
#include "io/file_kind.h"
#include "util/error.h"

namespace squint {

namespace {

namespace fs = std::filesystem;

// A JSON file is read whole to say what it is; beyond this size it is only "a JSON file".
constexpr uintmax_t kDescribeJsonLimit = 256ull << 20;

InputInfo identify_folder(const std::string& dir) {
  std::error_code ec;
  bool weights = false;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.ends_with(".safetensors") || n == "model.safetensors.index.json") weights = true;
  }
  if (!weights) return {InputKind::Other, "a folder without .safetensors files"};
  if (fs::exists(fs::path(dir) / "config.json", ec)) {
    const auto j = nlohmann::json::parse(read_text_file((fs::path(dir) / "config.json").string()), nullptr, false);
    for (const char* k : {"quantization", "quantization_config"})
      if (j.is_object() && j.contains(k) && j[k].is_object()) {
        const auto& q = j[k];
        if (q.contains("bits") && q["bits"].is_number_integer() && q.contains("group_size") &&
            q["group_size"].is_number_integer())
          return {InputKind::QuantizedModel,
                  "an MLX-quantized model (" + q["bits"].dump() + "-bit, group " + q["group_size"].dump() + ")"};
        if (q.contains("quant_method") && q["quant_method"].is_string())
          return {InputKind::QuantizedModel, "a " + q["quant_method"].get<std::string>() + "-quantized model"};
        return {InputKind::QuantizedModel, "a quantized model (config.json has a " + std::string(k) + " block)"};
      }
  }
  return {InputKind::FloatModel, "a model folder"};
}

}  // namespace

InputInfo identify_input(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return {InputKind::Missing, "missing (no such file or directory)"};
  if (fs::is_directory(path, ec)) return identify_folder(path);
  const fs::path p(path);
  if (p.filename() == "model.safetensors.index.json")
    return identify_folder(p.parent_path().empty() ? "." : p.parent_path().string());
  uint8_t head[16] = {};
  std::ifstream f(path, std::ios::binary);
  f.read(reinterpret_cast<char*>(head), sizeof head);
  const FileKind k = sniff_file_kind(head, static_cast<std::size_t>(f.gcount()), p.filename().string());
  switch (k) {
    case FileKind::Gguf:
      return {InputKind::Gguf, describe_kind(k)};
    case FileKind::Safetensors:
      return {InputKind::FloatModel, describe_kind(k)};
    case FileKind::Json: {
      if (fs::file_size(path, ec) > kDescribeJsonLimit) return {InputKind::Other, describe_kind(k)};
      const auto j = nlohmann::json::parse(read_text_file(path), nullptr, false);
      return {InputKind::Other, j.is_discarded() ? "a file that is not valid JSON" : describe_json(j)};
    }
    default:
      return {InputKind::Other, describe_kind(k)};
  }
}

namespace {
[[noreturn]] void refuse(const std::string& path, const InputInfo& in, const std::string& takes) {
  if (in.kind == InputKind::Missing) fail(path + ": no such file or directory");
  const std::string& verb = global_options().verb;
  fail(path + " is " + in.what + "; " + (verb.empty() ? std::string("squint") : verb) + " takes " + takes);
}
}  // namespace

void expect_runnable_model(const std::string& path) {
  const InputInfo in = identify_input(path);
  if (in.kind == InputKind::FloatModel || in.kind == InputKind::Gguf) return;
  if (in.kind == InputKind::QuantizedModel && in.what.starts_with("an MLX")) return;
  refuse(path, in, "a model: a folder (float or MLX-quantized), a .safetensors or a .gguf file");
}

void expect_any_model(const std::string& path) {
  const InputInfo in = identify_input(path);
  if (in.kind != InputKind::Other && in.kind != InputKind::Missing) return;
  refuse(path, in, "a model folder, a .safetensors or a .gguf file");
}

void expect_tokenizer_source(const std::string& path) {
  if (is_directory(path)) return;
  const InputInfo in = identify_input(path);
  if (in.kind == InputKind::Missing) return;  // the tokenizer loader says so, naming what it looks for
  if (in.kind == InputKind::Gguf || in.what == "a tokenizer.json" || in.what == describe_kind(FileKind::SentencePiece))
    return;
  refuse(path, in, "a model folder, a tokenizer.json, a tokenizer.model or a GGUF file");
}

void expect_mlx_folder(const std::string& path) {
  const InputInfo in = identify_input(path);
  if (is_directory(path) && (in.kind == InputKind::FloatModel || in.kind == InputKind::QuantizedModel)) return;
  if (in.kind == InputKind::FloatModel) return;  // a lone .safetensors: the verb says why it needs the folder
  refuse(path, in, "an MLX model folder");
}

void expect_float_model(const std::string& path) {
  const InputInfo in = identify_input(path);
  if (in.kind == InputKind::FloatModel) return;
  if (in.kind == InputKind::Missing) fail(path + ": no such file or directory");
  const std::string& verb = global_options().verb;
  std::string hint;
  if (in.kind == InputKind::QuantizedModel) hint = "; squint dequantize makes a float one from it";
  fail(path + " is " + in.what + "; " + (verb.empty() ? std::string("squint") : verb) +
       " takes a float safetensors model (folder or .safetensors)" + hint);
}

}  // namespace squint
