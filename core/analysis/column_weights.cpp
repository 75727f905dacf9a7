#include "analysis/column_weights.h"

#include <cmath>

#include "model/family.h"
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

const std::vector<float>* ColumnWeights::for_tensor(const std::string& name, const TensorRole& r, bool tied,
                                                    uint64_t cols) const {
  // A 3-D expert stack's per-expert weights (cols × experts) do not fit the one c_j per column the weighted
  // error uses: such a tensor gets its plain error until the measure takes per-expert weights.
  if (auto it = tensors.find(name); it != tensors.end()) return it->second.size() == cols ? &it->second : nullptr;
  return for_tensor(r, tied, cols);
}

namespace {
// The norm that feeds each site, by name (HF Llama family, and Meta's original naming).
bool llama_norm_site(const std::string& name, InputSite* site, int* layer) {
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

// For a checkpoint of a registered family, its GGUF name table says it: llama.cpp's attn_norm / ffn_norm /
// output_norm are the norms in front of attention, the MLP and the head, whatever the HF names (Gemma's MLP
// norm is pre_feedforward_layernorm; its post_attention_layernorm feeds no linear), and AddOne marks norms
// stored as w for a multiplier 1 + w. Other checkpoints: the Llama names.
struct NormSiteRules {
  std::vector<GgufNameRule> rules;
  bool by_family = false;
  explicit NormSiteRules(const Checkpoint& ck) {
    const Family* f = ck.config.raw.is_object() ? find_family_for_config(ck.config.raw) : nullptr;
    if (!f) return;
    try {
      rules = f->gguf_names(f->from_config(ck.config.raw, ck.location + "/config.json"));
      by_family = true;
    } catch (const Error&) {
      // A config the family refuses to run (e.g. a bias it has no place for) is still analysed, as before
      // families existed: by the Llama names.
    }
  }
  bool site(const std::string& name, InputSite* site, int* layer, float* add) const {
    *add = 0.0f;
    if (!by_family) return llama_norm_site(name, site, layer);
    return family_site(name, site, layer, add);
  }
  bool family_site(const std::string& name, InputSite* site, int* layer, float* add) const {
    const auto m = gguf_name_of(rules, name);
    if (!m) return false;
    *layer = m->layer;
    if (m->name == "output_norm.weight") {
      *site = InputSite::Head;
      *layer = -1;
    } else if (m->name.ends_with(".attn_norm.weight")) {
      *site = InputSite::AttnIn;
    } else if (m->name.ends_with(".ffn_norm.weight")) {
      *site = InputSite::MlpIn;
    } else {
      return false;
    }
    if (m->transform == GgufTransform::AddOne) *add = 1.0f;
    return true;
  }
};
}  // namespace

std::map<std::pair<InputSite, int>, FeedingNorm> norm_tensors_by_site(const Checkpoint& ck) {
  const NormSiteRules rules(ck);
  std::map<std::pair<InputSite, int>, FeedingNorm> m;
  for (const auto& t : ck.tensors) {
    InputSite s;
    int layer = -1;
    float add = 0.0f;
    if (t.shape.size() == 1 && rules.site(t.name, &s, &layer, &add)) m[{s, layer}] = {t.name, add};
  }
  // Names the family's table does not know (Meta's original naming under a llama config): the Llama names.
  if (m.empty() && rules.by_family)
    for (const auto& t : ck.tensors) {
      InputSite s;
      int layer = -1;
      if (t.shape.size() == 1 && llama_norm_site(t.name, &s, &layer)) m[{s, layer}] = {t.name, 0.0f};
    }
  return m;
}

void read_feeding_norm(const Checkpoint& ck, const FeedingNorm& n, std::vector<float>& gamma) {
  const TensorInfo* t = ck.find(n.name);
  if (!t) fail("internal error: norm '" + n.name + "' disappeared");
  gamma.resize(t->numel());
  std::vector<uint8_t> scratch;
  if (!read_tensor_f32(ck, *t, gamma.data(), scratch)) fail(t->name + ": norm weights contain NaN or Inf");
  for (float& x : gamma) x += n.add;
}

ColumnWeights norm_column_weights(const Checkpoint& ck) {
  ColumnWeights w;
  w.kind = "norm";
  for (const auto& [site, n] : norm_tensors_by_site(ck)) {
    std::vector<float> g;
    read_feeding_norm(ck, n, g);
    for (float& x : g) x *= x;
    w.sites[site] = std::move(g);
  }
  return w;
}

}  // namespace squint
