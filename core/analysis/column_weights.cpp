#include "analysis/column_weights.h"

#include <cmath>

#include "util/error.h"

namespace squint {

const char* input_site_name(InputSite s) {
  switch (s) {
    case InputSite::AttnIn: return "attn_in";
    case InputSite::AttnOut: return "attn_out";
    case InputSite::MlpIn: return "mlp_in";
    case InputSite::MlpDown: return "mlp_down";
    case InputSite::Head: return "head";
  }
  return "?";
}

bool input_site_of(const TensorRole& r, bool tied, InputSite* site) {
  switch (r.role) {
    case Role::AttnQ: case Role::AttnK: case Role::AttnV: case Role::AttnQKV: *site = InputSite::AttnIn; return r.layer >= 0;
    case Role::AttnO: *site = InputSite::AttnOut; return r.layer >= 0;
    case Role::MlpGate: case Role::MlpUp: case Role::MlpGateUp: *site = InputSite::MlpIn; return r.layer >= 0;
    case Role::MlpDown: *site = InputSite::MlpDown; return r.layer >= 0;
    case Role::MoeExpert: case Role::SharedExpert: {
      const std::string& p = r.projection;
      if (p == "down_proj" || p == "w2") *site = InputSite::MlpDown;
      else if (p == "gate_proj" || p == "up_proj" || p == "w1" || p == "w3" || p == "gate_up_proj") *site = InputSite::MlpIn;
      else return false;
      return r.layer >= 0;
    }
    case Role::LmHead: *site = InputSite::Head; return true;
    // A tied embedding is also the output projection, whose input is the final norm's output; as a
    // lookup table its error reaches the residual stream unweighted, so weighting it is an approximation.
    case Role::Embedding: *site = InputSite::Head; return tied;
    default: return false;
  }
}

const std::vector<float>* ColumnWeights::for_tensor(const TensorRole& r, bool tied, uint64_t cols) const {
  InputSite s;
  if (!input_site_of(r, tied, &s)) return nullptr;
  auto it = sites.find({s, s == InputSite::Head ? -1 : r.layer});
  if (it == sites.end() || it->second.size() != cols) return nullptr;
  return &it->second;
}

namespace {
// The norm that feeds each site, by name (HF Llama family, and Meta's original naming).
bool norm_site(const std::string& name, InputSite* site, int* layer) {
  auto ends = [&](const char* s) {
    const std::string t(s);
    return name.size() >= t.size() && name.compare(name.size() - t.size(), t.size(), t) == 0;
  };
  if (name == "model.norm.weight" || name == "norm.weight") {
    *site = InputSite::Head;
    *layer = -1;
    return true;
  }
  const bool attn = ends(".input_layernorm.weight") || ends(".attention_norm.weight");
  const bool mlp = ends(".post_attention_layernorm.weight") || ends(".ffn_norm.weight");
  if (!attn && !mlp) return false;
  const auto p = name.find("layers.");
  if (p == std::string::npos) return false;
  *layer = std::atoi(name.c_str() + p + 7);
  *site = attn ? InputSite::AttnIn : InputSite::MlpIn;
  return true;
}
}  // namespace

std::map<std::pair<InputSite, int>, std::string> norm_tensors_by_site(const Checkpoint& ck) {
  std::map<std::pair<InputSite, int>, std::string> m;
  for (const auto& t : ck.tensors) {
    InputSite s;
    int layer = -1;
    if (t.shape.size() == 1 && norm_site(t.name, &s, &layer)) m[{s, layer}] = t.name;
  }
  return m;
}

ColumnWeights norm_column_weights(const Checkpoint& ck) {
  ColumnWeights w;
  w.kind = "norm";
  std::vector<uint8_t> scratch;
  for (const auto& t : ck.tensors) {
    InputSite s;
    int layer = -1;
    if (t.shape.size() != 1 || !norm_site(t.name, &s, &layer)) continue;
    std::vector<float> g(t.numel());
    if (!read_tensor_f32(ck, t, g.data(), scratch)) fail(t.name + ": norm weights contain NaN or Inf");
    for (float& x : g) x *= x;
    w.sites[{s, layer}] = std::move(g);
  }
  return w;
}

}  // namespace squint
