#pragma once
// What a path given as input is, so that a verb handed the wrong kind of file says so in one line ("x.gguf is a
// GGUF file; analyze takes a float safetensors model (folder or .safetensors)") instead of failing inside the
// wrong parser. Files by their first bytes (core/io/file_kind.h), folders by their files and config.json.
#include <string>

namespace squint {

enum class InputKind {
  Missing,
  FloatModel,      // a folder of .safetensors without a quantization block, or one .safetensors file
  QuantizedModel,  // a folder whose config.json has a quantization block (MLX, or another tool's)
  Gguf,
  Other,  // anything else: JSON documents, tokenizers, folders without weights, other files
};

struct InputInfo {
  InputKind kind = InputKind::Other;
  std::string what;  // with an article: "a GGUF file", "an MLX-quantized model (4-bit, group 64)", ...
};

InputInfo identify_input(const std::string& path);

// For verbs that read a float safetensors model (analyze, plan and curve of a model, quantize, sweep, drift,
// gate's ORIGINAL): anything else fails with one line naming the path, what it is and what the verb takes.
void expect_float_model(const std::string& path);
// For verbs that run a model (eval, generate): a float or MLX-quantized model, or a GGUF file.
void expect_runnable_model(const std::string& path);
// For inspect: any model squint reads (float, quantized, GGUF).
void expect_any_model(const std::string& path);
// For tokenize: a model folder, a tokenizer.json, a tokenizer.model or a GGUF file.
void expect_tokenizer_source(const std::string& path);
// For verbs that read an MLX model folder (dequantize, convert-gguf).
void expect_mlx_folder(const std::string& path);

}  // namespace squint
