#pragma once
// How a family's Hugging Face tensor names map to llama.cpp's GGUF names, as one table per family read in
// both directions (writer: HF → GGUF; reader, gate: GGUF → HF). Patterns hold {L} for the layer and {E} for
// an expert: an HF pattern with {E} whose GGUF pattern has none is a stack (llama.cpp's *_exps tensors:
// ne = [in, out, experts], expert e's rows at e·out).
#include <optional>
#include <string>
#include <vector>

namespace squint {

// What convert_hf_to_gguf.py does to a tensor's values on the way (undone when a GGUF is read back).
enum class GgufTransform {
  None,
  PermuteQ,  // rows permuted for llama.cpp's interleaved RoPE (LlamaModel.permute(w, n_head))
  PermuteK,  // the same with n_head_kv
  AddOne,    // Gemma's RMSNorm weights are stored as 1 + w
};

struct GgufNameRule {
  std::string hf, gguf;
  GgufTransform transform = GgufTransform::None;
};

struct GgufNameMatch {
  std::string name;   // the other side's name ({E} left in an HF name of a stack's member: see expert)
  int layer = -1;
  int expert = -1;    // HF → GGUF: the expert of a stacked tensor (-1: not stacked)
  bool stacked = false;
  GgufTransform transform = GgufTransform::None;
};
std::optional<GgufNameMatch> gguf_name_of(const std::vector<GgufNameRule>& rules, const std::string& hf);
// GGUF → HF; for a stack, `name` holds "{E}" to be replaced by each expert's index (hf_expert_name).
std::optional<GgufNameMatch> hf_name_of(const std::vector<GgufNameRule>& rules, const std::string& gguf);
std::string hf_expert_name(const std::string& pattern, int expert);

// The table of the llama architecture's dense layers (llama.cpp's LLM_ARCH_LLAMA names), which most
// families extend: token_embd, output_norm, output, blk.{L}.attn_{q,k,v,output}, biases, q/k norms,
// ffn_{gate,up,down}, attn_norm, ffn_norm. `permute`: Q/K rows permuted (arch llama only); `qk_norm`: the
// architecture has attn_{q,k}_norm (qwen3).
std::vector<GgufNameRule> llama_gguf_names(bool permute, bool qk_norm);

}  // namespace squint
