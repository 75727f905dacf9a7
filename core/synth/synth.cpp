#include "synth/synth.h"

#include <cmath>
#include <cstring>

#include "io/byte_source.h"
#include "io/dtype.h"
#include "model/family.h"
#include "util/error.h"

namespace squint {

namespace {

inline uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t hash_name(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Approximately standard normal from one 64-bit draw (Irwin–Hall of four 16-bit uniforms).
inline float normalish(uint64_t r) {
  float s = static_cast<float>(r & 0xffff) + static_cast<float>((r >> 16) & 0xffff) +
            static_cast<float>((r >> 32) & 0xffff) + static_cast<float>(r >> 48);
  return (s * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
}

}  // namespace

SynthSpec synth_preset(const std::string& name) {
  SynthSpec s;
  if (name == "demo") return s;
  if (name == "tiny") {
    s.hidden = 64;
    s.intermediate = 192;
    s.layers = 2;
    s.heads = 4;
    s.kv_heads = 2;
    s.vocab = 256;
    return s;
  }
  if (name == "llama3-8b") {
    s.hidden = 4096;
    s.intermediate = 14336;
    s.layers = 2;
    s.heads = 32;
    s.kv_heads = 8;
    s.vocab = 128256;
    return s;
  }
  if (name == "moe" || name == "mixtral") {
    s.outlier_channels = name == "moe";
    s.hidden = 128;
    s.intermediate = 256;
    s.layers = 2;
    s.heads = 4;
    s.kv_heads = 2;
    s.vocab = 512;
    s.experts = 4;
    return s;
  }
  if (name == "qwen2-moe" || name == "qwen3-moe" || name == "qwen3-moe-mixed") {
    // Small, with each family's real config.json keys; 512 ids (stories260K's tokenizer in the tests); no
    // outlier channels, like the other family presets (runtime comparisons).
    s.outlier_channels = false;
    s.hidden = 128;
    s.intermediate = 256;  // the dense layers' MLP (qwen3-moe-mixed)
    s.layers = 2;
    s.heads = 4;
    s.kv_heads = 2;
    s.vocab = 512;
    s.extra = {{"num_experts_per_tok", 2},     {"moe_intermediate_size", 64},
               {"decoder_sparse_step", 1},     {"mlp_only_layers", nlohmann::json::array()},
               {"rope_theta", 1000000.0},      {"rms_norm_eps", 1e-6},
               {"use_sliding_window", false},  {"sliding_window", 4096},
               {"max_window_layers", 2},       {"router_aux_loss_coef", 0.001},
               {"output_router_logits", false}};
    if (name == "qwen2-moe") {
      // Qwen1.5-MoE-A2.7B's keys: a shared expert with its sigmoid gate; q/k/v biases (qkv_bias defaults to true).
      s.extra.update({{"architectures", {"Qwen2MoeForCausalLM"}},
                      {"model_type", "qwen2_moe"},
                      {"num_experts", 4},
                      {"shared_expert_intermediate_size", 128},
                      {"norm_topk_prob", false}});
    } else {
      // Qwen3-30B-A3B's keys: q/k norms, head_dim 48 != 128 / 4 heads, renormalised top-k, no shared expert.
      s.extra.update({{"architectures", {"Qwen3MoeForCausalLM"}},
                      {"model_type", "qwen3_moe"},
                      {"num_experts", 8},
                      {"head_dim", 48},
                      {"norm_topk_prob", true},
                      {"attention_bias", false}});
      if (name ==
          "qwen3-moe-mixed") {  // a dense layer between MoE ones: eval and MLX only (llama.cpp's qwen3moe has none)
        s.layers = 3;
        s.extra["max_window_layers"] = 3;
        s.extra["mlp_only_layers"] = {1};
      }
    }
    return s;
  }
  if (name == "gemma2" || name == "gemma3" || name == "gemma3-mm") {
    // Small Gemmas with their real config keys: vocabulary 512 (stories260K's tokenizer), a sliding window of
    // 16 so 64-token windows exercise it, query_pre_attn_scalar = head_dim (the scale llama.cpp applies).
    // gemma3: head_dim 48 != hidden / heads, linear RoPE scaling on the global layers, layer_types with a
    // period of 3; gemma3-mm: the same text model inside the multimodal wrapper (language_model.model.*,
    // text_config) with a stub vision tower. Soft-caps smaller than Gemma 2's 50/30 so they act on random
    // weights' small scores and logits.
    s.outlier_channels = false;
    s.hidden = 128;
    s.intermediate = 384;
    s.layers = 4;
    s.heads = 4;
    s.kv_heads = 2;
    s.vocab = 512;
    s.tied = true;
    s.norm_center = 0.0f;
    const nlohmann::json common = {{"hidden_act", "gelu_pytorch_tanh"},
                                   {"hidden_activation", "gelu_pytorch_tanh"},
                                   {"rms_norm_eps", 1e-6},
                                   {"sliding_window", 16},
                                   {"bos_token_id", 2},
                                   {"eos_token_id", 1},
                                   {"pad_token_id", 0},
                                   {"attention_bias", false}};
    if (name == "gemma2") {
      s.extra = common;
      s.extra.update({{"architectures", {"Gemma2ForCausalLM"}},
                      {"model_type", "gemma2"},
                      {"head_dim", 32},
                      {"query_pre_attn_scalar", 32},
                      {"attn_logit_softcapping", 10.0},
                      {"final_logit_softcapping", 5.0},
                      {"max_position_embeddings", 8192},
                      {"rope_theta", 10000.0}});
      return s;
    }
    nlohmann::json text = common;
    text.update({{"model_type", "gemma3_text"},
                 {"head_dim", 48},
                 {"query_pre_attn_scalar", 48},
                 {"layer_types", {"sliding_attention", "sliding_attention", "full_attention", "sliding_attention"}},
                 {"rope_theta", 1000000.0},
                 {"rope_local_base_freq", 10000.0},
                 {"rope_scaling", {{"rope_type", "linear"}, {"factor", 8.0}}},
                 {"final_logit_softcapping", nullptr},
                 {"attn_logit_softcapping", nullptr},
                 {"max_position_embeddings", 32768}});
    if (name == "gemma3") {
      s.extra = text;
      s.extra["architectures"] = {"Gemma3ForCausalLM"};
      return s;
    }
    text.erase("bos_token_id");
    text.erase("eos_token_id");
    s.extra = {{"architectures", {"Gemma3ForConditionalGeneration"}},
               {"model_type", "gemma3"},
               {"text_config", text},
               {"vision_config", {{"model_type", "siglip_vision_model"}, {"hidden_size", 32}, {"patch_size", 14}}},
               {"bos_token_id", 2},
               {"eos_token_id", 1},
               {"image_token_index", 262144},
               {"mm_tokens_per_image", 256}};
    return s;
  }
  if (name == "phi3" || name == "phi3-long") {
    // Phi-3.5-mini's config keys, small: fused qkv_proj / gate_up_proj, GQA (Phi-3-medium's), Phi-4-mini's
    // partial_rotary_factor 0.75 (24 of 32 dimensions rotate), longrope with short and long factors. phi3:
    // 131072 / 4096 positions as Phi-3.5-mini (windows run the short factors, attention factor 1.19);
    // phi3-long: 128 / 32, so 64-token windows run the long factors. Vocabulary 512 (stories260K's tokenizer).
    s.outlier_channels = false;
    s.hidden = 128;
    s.intermediate = 256;
    s.layers = 2;
    s.heads = 4;
    s.kv_heads = 2;
    s.vocab = 512;
    const bool lng = name == "phi3-long";
    nlohmann::json shortf = nlohmann::json::array(), longf = nlohmann::json::array();
    for (int i = 0; i < 12; ++i) {  // rising with the wavelength, as the published factors do
      shortf.push_back(1.0 + 0.15 * i);
      longf.push_back(1.0 + 2.5 * i * i / 11.0);
    }
    s.extra = {{"architectures", {"Phi3ForCausalLM"}},
               {"model_type", "phi3"},
               {"partial_rotary_factor", 0.75},
               {"max_position_embeddings", lng ? 128 : 131072},
               {"original_max_position_embeddings", lng ? 32 : 4096},
               {"rope_scaling", {{"type", "longrope"}, {"short_factor", shortf}, {"long_factor", longf}}},
               {"sliding_window", 262144},
               {"attention_bias", false},
               {"attention_dropout", 0.0},
               {"embd_pdrop", 0.0},
               {"resid_pdrop", 0.0},
               {"bos_token_id", 1},
               {"eos_token_id", 2}};
    return s;
  }
  std::string names;
  for (const auto& n : synth_preset_names()) names += (names.empty() ? "" : ", ") + n;
  fail("unknown synth preset '" + name + "' (choose " + names + ")");
}

std::vector<std::string> synth_preset_names() {
  return {"demo",   "tiny",   "llama3-8b", "moe",  "mixtral",  "qwen2-moe", "qwen3-moe", "qwen3-moe-mixed",
          "gemma2", "gemma3", "gemma3-mm", "phi3", "phi3-long"};
}

std::vector<TensorSpec> synth_tensors(const SynthSpec& s) {
  // The tensors a checkpoint of the preset's family holds, as that family lists them.
  const nlohmann::json cfg = synth_config(s);
  const Family& f = family_for_config(cfg, "synth preset");
  std::vector<TensorSpec> t;
  for (const auto& ts : f.tensors(f.from_config(cfg, "synth preset"))) t.push_back({ts.name, s.dtype, ts.shape});
  return t;
}

nlohmann::json synth_config(const SynthSpec& s) {
  nlohmann::json c = {
      {"architectures", {s.experts > 0 ? "MixtralForCausalLM" : "LlamaForCausalLM"}},
      {"model_type", s.experts > 0 ? "mixtral" : "llama"},
      {"hidden_size", s.hidden},
      {"intermediate_size", s.intermediate},
      {"num_hidden_layers", s.layers},
      {"num_attention_heads", s.heads},
      {"num_key_value_heads", s.kv_heads},
      {"head_dim", s.hidden / s.heads},
      {"vocab_size", s.vocab},
      {"max_position_embeddings", 2048},
      {"rms_norm_eps", 1e-5},
      {"rope_theta", 10000.0},
      {"hidden_act", "silu"},
      {"tie_word_embeddings", s.tied},
      {"bos_token_id", 1},
      {"eos_token_id", 2},
      {"torch_dtype", float_dtype_long_name(s.dtype)},
      {"squint_synthetic", {{"seed", s.seed}}},
  };
  if (s.experts > 0) {
    c["num_local_experts"] = s.experts;
    c["num_experts_per_tok"] = 2;
  }
  for (const auto& [k, v] : s.extra.items()) c[k] = v;  // a family preset's own keys
  // A multimodal wrapper's preset: the decoder's keys belong in its text_config.
  if (c.contains("text_config") && c["text_config"].is_object())
    for (const char* k :
         {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
          "head_dim", "vocab_size", "max_position_embeddings", "rms_norm_eps", "rope_theta", "hidden_act"}) {
      if (!c["text_config"].contains(k)) c["text_config"][k] = c[k];
      c.erase(k);
    }
  return c;
}

void synth_fill(const SynthSpec& s, const TensorSpec& t, uint64_t begin, uint64_t n, uint8_t* out) {
  const uint64_t key = mix(s.seed ^ hash_name(t.name));
  const bool is_norm = t.shape.size() == 1;
  const uint64_t cols = t.shape.empty() ? 1 : static_cast<uint64_t>(t.shape.back());
  // Like trained weights: std ~ 1/sqrt(fan_in), a few input channels with 3–10x larger scale (the outlier
  // features of real LLMs), and rare isolated spikes, so per-group kurtosis varies across tensors.
  // Routers (…gate.weight of MoE blocks) get 4x the scale: trained routers make clear choices, and random
  // near-ties would flip under any rounding, which makes runtime comparisons of MoE models noisy.
  const bool router = t.name.ends_with(".gate.weight");
  const float base = is_norm ? 0.05f : (router ? 4.0f : 1.0f) / std::sqrt(static_cast<float>(cols));
  const float layer_tilt = 1.0f + 0.25f * static_cast<float>(key % 7) / 7.0f;
  const std::size_t esize = dtype_bits(t.dtype) / 8;
  float buf[256];
  uint64_t i = 0;
  while (i < n) {
    const uint64_t m = std::min<uint64_t>(256, n - i);
    for (uint64_t k = 0; k < m; ++k) {
      const uint64_t idx = begin + i + k;
      const uint64_t col = idx % cols;
      const uint64_t r = mix(key + idx);
      float v;
      if (is_norm) {
        v = s.norm_center + base * normalish(r);
      } else {
        const uint64_t cr = mix(key ^ (col * 0x2545f4914f6cdd1dull));
        float cs = (s.outlier_channels && cr % 61 == 0) ? 3.0f + static_cast<float>((cr >> 8) % 8) : 1.0f;
        float z = normalish(r);
        if (((r >> 20) & 0x3fff) == 0) z *= 12.0f;  // ~1 in 16K: an isolated spike
        v = base * layer_tilt * cs * z;
      }
      buf[k] = v;
    }
    from_f32(t.dtype, buf, m, out + i * esize);
    i += m;
  }
}

Checkpoint synth_in_memory(const SynthSpec& s) {
  const auto specs = synth_tensors(s);
  const std::string prefix = build_safetensors_prefix(specs, {});
  std::vector<uint8_t> bytes(prefix.begin(), prefix.end());
  for (const auto& t : specs) {
    const std::size_t off = bytes.size();
    bytes.resize(off + t.nbytes());
    synth_fill(s, t, 0, t.nbytes() / (dtype_bits(t.dtype) / 8), bytes.data() + off);
  }
  MemoryProvider mp;
  mp.add("model.safetensors", std::move(bytes));
  mp.add("config.json", synth_config(s).dump());
  return open_checkpoint(mp);
}

}  // namespace squint
