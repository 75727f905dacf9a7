// The sensitivity-feature hook used by `analyze --features` and `inspect --features` (run_analysis installs
// it explicitly): loads each measured 2-D tensor whole, finds the norm that feeds it, records the features.
// No timings go into the features: analysis.json stays byte-reproducible.
#include "analysis/column_weights.h"
#include "analysis/features.h"
#include "model_input.h"

namespace squint {

std::function<void(const Checkpoint&, const TensorInfo&, TensorAnalysis&)> make_feature_hook(const Checkpoint& model) {
  // Which norm feeds which input site is column_weights' knowledge (the norms `--norm-weights` reads, by role).
  // Features use the norms inside a block (q/k/v ← input_layernorm, gate/up ← post_attention_layernorm), as
  // they always have: the head's site (the final norm, for lm_head or a tied embedding) is left out, so the
  // recorded features do not change; giving lm_head that γ would be a change of its own.
  auto norms = norm_tensors_by_site(model);
  return [norms = std::move(norms)](const Checkpoint& ck, const TensorInfo& t, TensorAnalysis& ta) {
    if (t.shape.size() != 2) return;  // expert stacks: per-expert features are not computed (documented)
    std::vector<float> w(t.numel()), gamma;
    std::vector<uint8_t> scratch;
    if (!read_tensor_f32(ck, t, w.data(), scratch)) return;
    const FeedingNorm* feeding = nullptr;
    InputSite site;
    if (input_site_of(ta.role, ck.config.tied_embeddings, &site) && site != InputSite::Head)
      if (auto it = norms.find({site, ta.role.layer}); it != norms.end()) feeding = &it->second;
    const std::string norm = feeding ? feeding->name : "";
    if (feeding)
      if (const TensorInfo* n = ck.find(norm); n && n->numel() == t.cols() && is_float_measurable(n->dtype)) {
        gamma.resize(n->numel());
        if (!read_tensor_f32(ck, *n, gamma.data(), scratch)) gamma.clear();
        for (float& g : gamma) g += feeding->add;  // Gemma's 1 + w
      }
    ta.features = compute_features(w.data(), t.rows(), t.cols(), gamma.empty() ? nullptr : gamma.data(), ta.out_dtype);
    if (!norm.empty() && !gamma.empty()) ta.features["norm"] = norm;
  };
}

}  // namespace squint
