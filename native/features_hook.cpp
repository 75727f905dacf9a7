// The sensitivity-feature hook used by `analyze --features` and `inspect --features` (run_analysis installs
// it explicitly): loads each measured 2-D tensor whole, finds the norm that feeds it, records the features.
// No timings go into the features: analysis.json stays byte-reproducible.
#include "analysis/features.h"
#include "model_input.h"

namespace squint {

std::function<void(const Checkpoint&, const TensorInfo&, TensorAnalysis&)> make_feature_hook() {
  return [](const Checkpoint& ck, const TensorInfo& t, TensorAnalysis& ta) {
    if (t.shape.size() != 2) return;  // expert stacks: per-expert features are not computed (documented)
    std::vector<float> w(t.numel()), gamma;
    std::vector<uint8_t> scratch;
    if (!read_tensor_f32(ck, t, w.data(), scratch)) return;
    const std::string norm = feeding_norm(t.name);
    if (!norm.empty())
      if (const TensorInfo* n = ck.find(norm); n && n->numel() == t.cols() && is_float_measurable(n->dtype)) {
        gamma.resize(n->numel());
        if (!read_tensor_f32(ck, *n, gamma.data(), scratch)) gamma.clear();
      }
    ta.features = compute_features(w.data(), t.rows(), t.cols(), gamma.empty() ? nullptr : gamma.data(), ta.out_dtype);
    if (!norm.empty() && !gamma.empty()) ta.features["norm"] = norm;
  };
}

}  // namespace squint
