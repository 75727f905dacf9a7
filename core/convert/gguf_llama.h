#pragma once
// A model in GGUF, as llama.cpp's convert_hf_to_gguf.py lays it out for its family (model/family.h: the
// architecture, metadata keys and the HF -> GGUF name table): shapes reversed (ne[0] = input dim), Q/K rows
// permuted for llama.cpp's interleaved RoPE where the family says so, Gemma's norms stored as 1 + w, MoE
// experts stacked into one [in, out, experts] tensor, routers F32, tied embeddings (no `output`), llama3 RoPE
// scaling as a rope_freqs tensor. Reading back: a WeightSource that maps GGUF tensors to HF names, undoes the
// conversions and dequantizes.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/model.h"
#include "io/checkpoint.h"
#include "io/gguf.h"
#include "util/parallel.h"

namespace squint {

// ggml type ids squint names directly.
namespace ggml_id {
constexpr uint32_t F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, BF16 = 30;
}
// "Q4_K" -> id, or nullopt.
std::optional<uint32_t> gguf_type_id_from_name(const std::string& name);

struct GgufTensorPlan {
  std::string gguf_name;
  std::string hf_name;            // source tensor (a stack's first expert); empty for generated ones (rope_freqs)
  std::vector<std::string> experts;  // a stack's source tensors in expert order (empty: not a stack)
  std::vector<uint64_t> ne;       // ggml order
  uint32_t type = ggml_id::F32;   // ggml type id
  int permute_heads = 0;          // > 0: rows permuted as convert_hf_to_gguf.py LlamaModel.permute(w, heads)
  bool add_one = false;           // values stored as 1 + w (Gemma's norms)
  bool swap_halves = false;       // negative control only: the two halves of the rows written in swapped order
  std::vector<float> generated;   // data of a generated tensor
  // Quantized types: the source is rounded to this dtype before quantizing (a plan's analysis measured the
  // quantizer on the values of the tensor's output dtype; F32 = quantize the source values as they are).
  DType quant_input = DType::F32;
  // Quantized types: the importance weights ggml's quantizer gets (an imatrix, analysis/importance.h): cols
  // floats per matrix (a 3-D expert stack: one slice per expert), or null. Owned by the caller.
  const std::vector<float>* imatrix = nullptr;
  uint64_t rows() const { return ne.size() < 2 ? 1 : ne[1] * (ne.size() > 2 ? ne[2] : 1); }
  // The source tensors whose rows are written one after the other.
  std::vector<std::string> sources() const { return experts.empty() ? std::vector<std::string>{hf_name} : experts; }
  uint64_t cols() const { return ne.empty() ? 1 : ne[0]; }
};

struct GgufModelLayout {
  std::string arch;                   // llama.cpp's architecture name
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

// Deliberately broken conversions, for the negative controls of the tests that run files in llama.cpp: each
// must make llama.cpp disagree with squint's forward pass.
struct GgufFaults {
  bool no_qk_permute = false;    // Q/K rows not permuted for the llama architecture
  bool reverse_experts = false;  // experts stacked in reverse order
  bool no_norm_add_one = false;  // Gemma's norms stored as w instead of 1 + w
  bool swap_shared_gate_up = false;  // Qwen2-MoE's shared expert: gate_proj written as ffn_up_shexp and up as gate
  bool swap_gate_up_halves = false;  // Phi-3's fused gate_up_proj (ffn_up) written as [up; gate]
  bool vocab_without_bytes = false;  // a 'llama' vocabulary without byte tokens (what aborted llama.cpp)
};
// A fault by its CLI name (no-qk-permute, reverse-experts, no-norm-add-one, swap-shared-gate-up,
// swap-gate-up-halves, vocab-without-bytes); throws for others.
GgufFaults gguf_fault_named(const std::string& name);

// `type_for` gives the ggml type of each 2-D (or larger) source tensor; 1-D tensors and MoE routers are always
// F32 (as the reference converter writes them; llama-quantize never quantizes ffn_gate_inp). The experts of a
// stack must get one type. `faults`: a deliberately broken conversion (negative controls only).
GgufModelLayout gguf_llama_layout(const Checkpoint& ck, const std::function<uint32_t(const TensorInfo&)>& type_for,
                                  const GgufFaults& faults = {});

// Row permutation of a [rows, cols] matrix for `heads` heads (inverse = undo it).
void permute_qk_rows(const float* src, float* dst, uint64_t rows, uint64_t cols, int heads, bool inverse);

// Float rows <-> ggml type bytes: F32/F16/BF16 and the 19 quantized types of the ggml port (core/quant).
bool gguf_type_encodable(uint32_t type);
// `imatrix`: cols importance weights for every row (ggml_quantize_chunk's), or null; float types ignore it.
void gguf_encode_rows(uint32_t type, const float* x, uint64_t rows, uint64_t cols, uint8_t* dst,
                      const float* imatrix = nullptr);
bool gguf_type_decodable(uint32_t type);
void gguf_decode_rows(uint32_t type, const uint8_t* src, uint64_t rows, uint64_t cols, float* dst);

// Reading a GGUF (squint's or llama.cpp's) of any registered family.
// Dequantized float32 of a GGUF tensor in ggml order (rows = product of ne[1..]).
std::vector<float> read_gguf_tensor_f32(const GgufFile& g, ByteSource& src, const GgufTensorInfo& t);
// HF-named logical weights (conversions undone; one expert of a stack by its HF expert name) for the forward
// pass and the gate. `g` and `src` must outlive it.
WeightSource weights_from_gguf(const GgufFile& g, ByteSource& src);

}  // namespace squint

namespace squint {

// tokenizer.ggml.* keys from the model's files: tokenizer.model (SentencePiece) if present, else tokenizer.json;
// add_bos/add_eos from tokenizer_config.json, bos/eos ids from config.json. Throws when there is neither file.
std::vector<GgufKV> gguf_tokenizer_from_files(const FileProvider& files, const nlohmann::json& config,
                                              std::vector<std::string>& warnings, const GgufFaults& faults = {});

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
