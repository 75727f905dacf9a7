#pragma once
// Loading a model for evaluation: config, weights (quantized or float), optional matched noise.
#include <memory>
#include <string>
#include <vector>

#include "eval/evaluate.h"
#include "eval/seq_len.h"
#include "model/model.h"
#include "progress.h"

namespace squint {

struct NoiseSpec {
  std::string like;   // quantized MLX model or plan.json whose per-tensor SQNR the noise matches
  uint64_t seed = 42;
};

// The folder that holds the model's files (MODEL may be a .safetensors file inside it).
std::string model_dir(const std::string& path);
// A GGUF file (squint's or llama.cpp's) is read through core/convert/gguf_llama.
bool is_gguf_file(const std::string& path);
// Where a model's tokenizer comes from by default: a GGUF file itself (its metadata), else the model's folder.
std::string tokenizer_source(const std::string& model);
std::unique_ptr<Model> load_model(const std::string& path, const NoiseSpec* noise = nullptr);
// The model's config.json as a ModelHparams (for models built from an in-memory WeightSource).
ModelHparams load_model_hparams(const std::string& path);

// The context length `model` was trained for (0 = not stated): ModelHparams::context as its family reads it
// (config.json max_position_embeddings, a GGUF file's <arch>.context_length). The one place every verb reads it.
int model_context_length(const std::string& model);
// The window length for `model`: `requested` (0 = the model's context capped at 2048), refused when longer than
// the context (core/eval/seq_len.h). `flag` names the option in the message (--seq-len, --select-seq-len, ...).
int window_length(int requested, const std::string& model, const std::string& flag, int cap = kSeqLenCap);
// The same for windows that several models read (eval --kl-base, drift's checkpoints): they must fit the
// shortest context of them (a float base of context 256 scored on windows of 512 is as wrong as the model).
int window_length(int requested, const std::vector<std::string>& models, const std::string& flag, int cap = kSeqLenCap);
// What --seq-len-like options say in --help about their default.
inline constexpr const char* kSeqLenDefaultHelp = "default: the model's context length, at most 2048";

// The evaluation windows of a text file with the tokenizer of `tokenizer_dir` (method.md §6).
EvalWindows load_eval_windows(const std::string& text_file, const std::string& tokenizer_dir, int seq_len, int samples,
                              uint64_t seed);

// A (done, total) callback for core's evaluate() that draws `p` safely from several threads.
std::function<void(std::size_t, std::size_t)> window_progress(Progress& p);

}  // namespace squint
