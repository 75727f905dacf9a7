#pragma once
// The llama family in GGUF, as llama.cpp's convert_hf_to_gguf.py lays it out: HF tensor names -> GGUF names
// (token_embd, blk.N.attn_q, ...), shapes reversed (ne[0] = input dim), Q/K rows permuted for llama.cpp's
// interleaved RoPE (LlamaModel.permute; not for qwen2/qwen3, which use NeoX RoPE like HF), tied embeddings
// (no `output`), GQA, RoPE settings (llama3 scaling as a rope_freqs tensor) and the metadata keys with the
// value types the loader insists on. Reading back: the LlamaConfig of a GGUF and a WeightSource that maps
// GGUF tensors back to HF names, undoes the permutation and dequantizes.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "eval/llama.h"
#include "io/checkpoint.h"
#include "io/gguf.h"
#include "util/parallel.h"

namespace squint {

// ggml type ids squint names directly.
namespace ggml_id {
constexpr uint32_t F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, BF16 = 30;
}
// "Q4_K" -> id, or nullopt.
std::optional<uint32_t> ggml_type_from_name(const std::string& name);

struct GgufTensorPlan {
  std::string gguf_name;
  std::string hf_name;            // source tensor; empty for generated ones (rope_freqs)
  std::vector<uint64_t> ne;       // ggml order
  uint32_t type = ggml_id::F32;   // ggml type id
  int permute_heads = 0;          // > 0: rows permuted as LlamaModel.permute(w, heads)
  std::vector<float> generated;   // data of a generated tensor
  // Quantized types: the source is rounded to this dtype before quantizing (a plan's analysis measured the
  // quantizer on the values of the tensor's output dtype; F32 = quantize the source values as they are).
  DType quant_input = DType::F32;
  uint64_t rows() const { return ne.size() < 2 ? 1 : ne[1] * (ne.size() > 2 ? ne[2] : 1); }
  uint64_t cols() const { return ne.empty() ? 1 : ne[0]; }
};

struct GgufModelLayout {
  std::string arch;                   // llama | qwen2 | qwen3
  std::vector<GgufKV> kv;             // general.* and <arch>.* keys (the tokenizer's are added by the caller)
  std::vector<GgufTensorPlan> tensors;
  std::vector<std::string> warnings;
};

// Tensor bytes of a layout (without alignment padding): `planned_bytes` over the checkpoint's tensors (what a
// plan's total_bytes counts), `generated_bytes` over generated ones (rope_freqs); `params` = their elements.
struct GgufSizes {
  uint64_t planned_bytes = 0, generated_bytes = 0, params = 0;
};
GgufSizes gguf_layout_sizes(const GgufModelLayout& L);

// The GGUF architecture for a config.json (model_type); throws for families llama.cpp's llama/qwen2/qwen3
// graphs do not cover.
std::string gguf_arch_for(const nlohmann::json& config, const std::string& where);
// Names: HF -> GGUF (nullopt for tensors the GGUF file does not carry, e.g. rotary_emb.inv_freq) and back.
std::optional<std::string> gguf_tensor_name(const std::string& hf);
std::optional<std::string> hf_tensor_name(const std::string& gguf);

// `type_for` gives the ggml type of each 2-D (or larger) source tensor; 1-D tensors are always F32 (as the
// reference converter writes norms and biases). `permute` = false writes Q/K unpermuted (a negative control:
// llama.cpp then computes garbage).
GgufModelLayout gguf_llama_layout(const Checkpoint& ck, const std::function<uint32_t(const TensorInfo&)>& type_for,
                                  bool permute = true);

// Row permutation of a [rows, cols] matrix for `heads` heads (inverse = undo it).
void permute_qk_rows(const float* src, float* dst, uint64_t rows, uint64_t cols, int heads, bool inverse);

// Float rows <-> ggml type bytes: F32/F16/BF16 and the 12 quantized types of the ggml port (core/quant).
bool gguf_type_encodable(uint32_t type);
void gguf_encode_rows(uint32_t type, const float* x, uint64_t rows, uint64_t cols, uint8_t* dst);
bool gguf_type_decodable(uint32_t type);
void gguf_decode_rows(uint32_t type, const uint8_t* src, uint64_t rows, uint64_t cols, float* dst);

// Reading a llama-family GGUF (squint's or llama.cpp's).
// `src` is needed only for files with a rope_freqs tensor (llama3 RoPE scaling).
LlamaConfig llama_config_from_gguf(const GgufFile& g, ByteSource* src = nullptr);
// Dequantized float32 of a GGUF tensor in ggml order (rows = product of ne[1..]).
std::vector<float> read_gguf_tensor_f32(const GgufFile& g, ByteSource& src, const GgufTensorInfo& t);
// HF-named logical weights (Q/K permutation undone for arch llama) for the forward pass and the gate.
WeightSource weights_from_gguf(const GgufFile& g, ByteSource& src);

}  // namespace squint

namespace squint {

// tokenizer.ggml.* keys from the model's files: tokenizer.model (SentencePiece) if present, else tokenizer.json;
// add_bos/add_eos from tokenizer_config.json, bos/eos ids from config.json. Throws when there is neither file.
std::vector<GgufKV> gguf_tokenizer_from_files(const FileProvider& files, const nlohmann::json& config,
                                              std::vector<std::string>& warnings);

// What a layout's GGUF header holds: the layout's keys then `extra_kv` (the tokenizer's), and one tensor spec
// per tensor in layout order; `tensor_bytes` = their data without padding (a writer's progress total).
// Every writer of a layout's file (stream_gguf, stream_gguf_transcode) opens its GgufStreamWriter on it.
struct GgufLayoutHeader {
  std::vector<GgufKV> kv;
  std::vector<GgufTensorSpec> specs;
  uint64_t tensor_bytes = 0;
};
GgufLayoutHeader gguf_layout_header(const GgufModelLayout& L, const std::vector<GgufKV>& extra_kv);

// Streams the whole GGUF file (header, then every tensor read, permuted and encoded in layout order), in chunks
// of rows encoded through `pf` (the bytes do not depend on it). `progress(done_bytes, total_bytes, tensor)`
// after each tensor. Returns the file size.
uint64_t stream_gguf(const Checkpoint& ck, const GgufModelLayout& L, const std::vector<GgufKV>& extra_kv, const ByteSink& sink,
                     const std::function<void(uint64_t, uint64_t, const std::string&)>& progress = {},
                     const ParallelFor& pf = serial());

}  // namespace squint
