#pragma once
// What a decoder-only transformer is, in numbers: the hyperparameters every family squint runs is reduced to.
// A family (core/model/families/) fills them from config.json or from GGUF metadata; the forward pass
// (model.h), the GGUF writer (convert/gguf_model.h) and the KV-cache arithmetic read them, so a value is
// interpreted in one place only.
#include <string>
#include <vector>

namespace squint {

// Rotary position embedding of one kind of layer (HF's rotate_half layout: pairs (i, i + dims/2)).
struct RopeSpec {
  double theta = 10000.0;
  std::string type = "default";  // default | linear | llama3 | longrope (Phi-3's su/longrope)
  double factor = 1.0, low_freq_factor = 1.0, high_freq_factor = 4.0;
  int original_max_pos = 8192;
  // Per-frequency divisors (GGUF's rope_freqs tensor, llama3 scaling as convert_hf_to_gguf.py writes it);
  // when set they replace `type`'s scaling.
  std::vector<float> freq_factors;
  int dims = 0;  // rotated dimensions per head (partial rotary); 0 = the whole head
  // longrope (HF _compute_longrope_parameters): per-frequency divisors for sequences up to original_max_pos
  // (short) and longer ones (long); cos and sin are multiplied by attn_factor.
  std::vector<float> short_factor, long_factor;
  double attn_factor = 1.0;
};

enum class Activation { Silu, GeluTanh };

struct ModelHparams {
  std::string family;      // registry name (model/family.h), e.g. "llama", "mixtral"
  std::string model_type;  // config.json's model_type, or the GGUF architecture
  int hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, vocab = 0;
  int context = 0;  // max_position_embeddings / <arch>.context_length (0 = unknown)
  float eps = 1e-5f;
  RopeSpec rope;        // every layer's, or the global (full-attention) layers' when some layers slide
  RopeSpec rope_local;  // sliding-window layers' (Gemma 3's rope_local_base_freq); used when sliding_window > 0
  bool tied = false;
  bool qkv_bias = false;  // q/k/v biases are required (Qwen2-MoE's qkv_bias); else loaded when present
  int bos = 1, eos = 2;
  Activation act = Activation::Silu;
  float embed_scale = 1.0f;   // multiplies the embedding rows (Gemma: sqrt(hidden))
  float attn_scale = 0.0f;    // query scale; 0 = 1/sqrt(head_dim)
  float attn_softcap = 0.0f;  // tanh soft-capping of attention scores (Gemma 2); 0 = none
  float final_softcap = 0.0f; // of the logits (Gemma 2); 0 = none
  int sliding_window = 0;     // window of the sliding layers; 0 = none
  std::vector<bool> layer_sliding;  // per layer: attends only to the last sliding_window positions
  // Mixture of experts.
  int experts = 0, experts_used = 0;
  int expert_intermediate = 0;  // width of one routed expert (0 = intermediate)
  int shared_intermediate = 0;  // width of the shared expert (Qwen2-MoE); 0 = none
  bool norm_topk = true;        // renormalise the top-k routing weights to sum 1
  std::vector<bool> layer_moe;  // per layer: MoE block (else dense MLP)

  bool sliding(int layer) const { return layer >= 0 && layer < static_cast<int>(layer_sliding.size()) && layer_sliding[static_cast<std::size_t>(layer)]; }
  bool moe(int layer) const { return layer >= 0 && layer < static_cast<int>(layer_moe.size()) && layer_moe[static_cast<std::size_t>(layer)]; }
  const RopeSpec& rope_for(int layer) const { return sliding(layer) ? rope_local : rope; }
  int expert_width() const { return expert_intermediate > 0 ? expert_intermediate : intermediate; }
};

// What one layer keeps in the KV cache per token (for budgets that count the cache: plan --fit).
struct KvLayer {
  int kv_heads = 0, k_dim = 0, v_dim = 0;
  int window = 0;  // > 0: only the last `window` positions are cached (sliding-window layers)
};
std::vector<KvLayer> kv_layout(const ModelHparams& h);

}  // namespace squint
