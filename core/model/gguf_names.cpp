#include "model/gguf_names.h"

#include <cctype>

namespace squint {

namespace {

// Matches `name` against `pattern`, whose {L}/{E} each match a run of digits; fills *layer/*expert.
bool match(const std::string& pattern, const std::string& name, int* layer, int* expert) {
  std::size_t p = 0, n = 0;
  *layer = *expert = -1;
  while (p < pattern.size()) {
    if (pattern.compare(p, 3, "{L}") == 0 || pattern.compare(p, 3, "{E}") == 0) {
      int* out = pattern[p + 1] == 'L' ? layer : expert;
      const std::size_t start = n;
      long v = 0;
      while (n < name.size() && std::isdigit(static_cast<unsigned char>(name[n])) && n - start < 9) v = v * 10 + (name[n++] - '0');
      if (n == start || (n < name.size() && std::isdigit(static_cast<unsigned char>(name[n])))) return false;
      *out = static_cast<int>(v);
      p += 3;
      continue;
    }
    if (n >= name.size() || pattern[p] != name[n]) return false;
    ++p;
    ++n;
  }
  return n == name.size();
}

std::string fill(std::string pattern, int layer, int expert) {
  for (auto [key, v] : {std::pair<const char*, int>{"{L}", layer}, {"{E}", expert}}) {
    if (v < 0) continue;
    for (std::size_t k; (k = pattern.find(key)) != std::string::npos;) pattern.replace(k, 3, std::to_string(v));
  }
  return pattern;
}

}  // namespace

std::optional<GgufNameMatch> gguf_name_of(const std::vector<GgufNameRule>& rules, const std::string& hf) {
  for (const auto& r : rules) {
    int l, e;
    if (!match(r.hf, hf, &l, &e)) continue;
    const bool stacked = r.hf.find("{E}") != std::string::npos && r.gguf.find("{E}") == std::string::npos;
    return GgufNameMatch{fill(r.gguf, l, stacked ? -1 : e), l, stacked ? e : -1, stacked, r.transform};
  }
  return std::nullopt;
}

std::optional<GgufNameMatch> hf_name_of(const std::vector<GgufNameRule>& rules, const std::string& gguf) {
  for (const auto& r : rules) {
    int l, e;
    if (!match(r.gguf, gguf, &l, &e)) continue;
    const bool stacked = r.hf.find("{E}") != std::string::npos && r.gguf.find("{E}") == std::string::npos;
    return GgufNameMatch{fill(r.hf, l, e), l, -1, stacked, r.transform};
  }
  return std::nullopt;
}

std::string hf_expert_name(const std::string& pattern, int expert) { return fill(pattern, -1, expert); }

std::vector<GgufNameRule> llama_gguf_names(bool permute, bool qk_norm) {
  const GgufTransform pq = permute ? GgufTransform::PermuteQ : GgufTransform::None;
  const GgufTransform pk = permute ? GgufTransform::PermuteK : GgufTransform::None;
  std::vector<GgufNameRule> r = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
      {"model.layers.{L}.self_attn.q_proj.weight", "blk.{L}.attn_q.weight", pq},
      {"model.layers.{L}.self_attn.k_proj.weight", "blk.{L}.attn_k.weight", pk},
      {"model.layers.{L}.self_attn.v_proj.weight", "blk.{L}.attn_v.weight"},
      {"model.layers.{L}.self_attn.o_proj.weight", "blk.{L}.attn_output.weight"},
      {"model.layers.{L}.self_attn.q_proj.bias", "blk.{L}.attn_q.bias", pq},
      {"model.layers.{L}.self_attn.k_proj.bias", "blk.{L}.attn_k.bias", pk},
      {"model.layers.{L}.self_attn.v_proj.bias", "blk.{L}.attn_v.bias"},
      {"model.layers.{L}.mlp.gate_proj.weight", "blk.{L}.ffn_gate.weight"},
      {"model.layers.{L}.mlp.up_proj.weight", "blk.{L}.ffn_up.weight"},
      {"model.layers.{L}.mlp.down_proj.weight", "blk.{L}.ffn_down.weight"},
      {"model.layers.{L}.input_layernorm.weight", "blk.{L}.attn_norm.weight"},
      {"model.layers.{L}.post_attention_layernorm.weight", "blk.{L}.ffn_norm.weight"},
  };
  if (qk_norm) {
    r.push_back({"model.layers.{L}.self_attn.q_norm.weight", "blk.{L}.attn_q_norm.weight"});
    r.push_back({"model.layers.{L}.self_attn.k_norm.weight", "blk.{L}.attn_k_norm.weight"});
  }
  return r;
}

}  // namespace squint
