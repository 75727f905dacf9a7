#include "model/checkpoint_check.h"

#include <cctype>

#include "io/dtype.h"
#include "model/family.h"
#include "util/error.h"
#include "util/shape_str.h"

namespace squint {

namespace {
// The expert index of "….experts.E.…", or -1.
int expert_index(const std::string& name) {
  const std::string key = ".experts.";
  const auto p = name.find(key);
  if (p == std::string::npos) return -1;
  std::size_t i = p + key.size();
  long e = 0;
  const std::size_t start = i;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])) && i - start < 9)
    e = e * 10 + (name[i++] - '0');
  return i > start && i < name.size() && name[i] == '.' ? static_cast<int>(e) : -1;
}
}  // namespace

std::optional<ModelHparams> check_family_tensors(const Checkpoint& ck) {
  if (!ck.config.raw.is_object()) return std::nullopt;
  const Family* fam = find_family_for_config(ck.config.raw);
  if (!fam) return std::nullopt;
  // A config.json naming only its model_type (no decoder sizes) describes no layers or experts to hold the
  // tensors to; the verbs that need the sizes (eval, GGUF) refuse it themselves, MLX output and analysis do not.
  const nlohmann::json& c = ck.config.raw.contains("text_config") ? ck.config.raw["text_config"] : ck.config.raw;
  if (!c.is_object() || !c.contains("hidden_size") || !c.contains("num_hidden_layers")) return std::nullopt;
  const std::string where = ck.location + "/config.json";
  const ModelHparams h = fam->from_config(ck.config.raw, where);
  if (h.experts <= 0) {
    // Dense: every tensor the family lists that the checkpoint holds has its shape (a fused qkv_proj sized for
    // other heads would otherwise reach a GGUF or MLX file), and none is missing when the checkpoint is in the
    // family's layout at all (its embedding is there; a wrapper's other layout is read by the loader instead).
    const std::vector<TensorShape> want = fam->tensors(h);
    const TensorInfo* emb = want.empty() ? nullptr : ck.find(want.front().name);
    if (emb && !is_float_measurable(emb->dtype)) return h;  // a quantized MLX model: its loader checks it
    const bool layout = emb != nullptr;
    for (const auto& w : want) {
      const TensorInfo* t = ck.find(w.name);
      if (!t) {
        if (layout && w.name.find("lm_head") == std::string::npos)
          fail(ck.location + ": missing tensor '" + w.name + "' (config.json: " + h.model_type + ")");
        continue;
      }
      if (t->shape != w.shape)
        fail(ck.location + ": tensor '" + w.name + "' has shape " + shape_str(t->shape) + ", config.json implies " +
             shape_str(w.shape));
    }
    return h;
  }
  // Every (MoE layer, expert) holds tensors: a config.json counting more than the checkpoint has tensors is
  // refused before its tensor list (layers x experts x 3 names) is built.
  uint64_t moe_layers = 0;
  for (int l = 0; l < h.layers; ++l) moe_layers += h.moe(l);
  if (moe_layers * static_cast<uint64_t>(h.experts) > ck.tensors.size())
    fail(ck.location + ": config.json says " + std::to_string(moe_layers) + " MoE layers x " +
         std::to_string(h.experts) + " experts, but the checkpoint holds only " + std::to_string(ck.tensors.size()) +
         " tensors");
  for (const auto& t : ck.tensors) {
    const int e = expert_index(t.name);
    if (e >= h.experts)
      fail(ck.location + ": tensor '" + t.name + "' is expert " + std::to_string(e) + " but config.json has " +
           std::to_string(h.experts) + " experts");
  }
  for (const auto& want : fam->tensors(h)) {
    const TensorInfo* t = ck.find(want.name);
    if (!t) {
      if (want.name == "lm_head.weight") continue;
      fail(ck.location + ": missing tensor '" + want.name + "' (config.json: " + h.model_type + ", " +
           std::to_string(h.experts) + " experts)");
    }
    if (t->shape != want.shape)
      fail(ck.location + ": tensor '" + want.name + "' has shape " + shape_str(t->shape) + ", config.json implies " +
           shape_str(want.shape));
  }
  return h;
}

}  // namespace squint
