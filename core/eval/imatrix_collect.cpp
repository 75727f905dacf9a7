#include "eval/imatrix_collect.h"

#include "analysis/column_weights.h"
#include "analysis/roles.h"
#include "model/family.h"
#include "util/error.h"

namespace squint {

namespace {
const Eigen::VectorXd* site_sums(const InputMoments& m, InputSite s, int layer) {
  auto at = [&](const std::vector<Eigen::VectorXd>& v) -> const Eigen::VectorXd* {
    return layer >= 0 && static_cast<std::size_t>(layer) < v.size() ? &v[static_cast<std::size_t>(layer)] : nullptr;
  };
  switch (s) {
    case InputSite::AttnIn:
      return at(m.attn_in);
    case InputSite::AttnOut:
      return at(m.attn_out);
    case InputSite::MlpIn:
      return at(m.mlp_in);
    case InputSite::MlpDown:
      return at(m.mlp_down);
    case InputSite::Head:
      return &m.head;
  }
  return nullptr;
}
}  // namespace

Imatrix imatrix_from_moments(const InputMoments& m, const Checkpoint& ck, const ImatrixCollectOptions& o) {
  if (m.tokens == 0) fail("imatrix: no tokens were seen");
  if (o.chunk_size <= 0) fail("imatrix: the chunk size must be positive");
  Imatrix im;
  im.datasets = o.datasets;
  im.chunk_size = o.chunk_size;
  const uint64_t chunks = m.tokens / static_cast<uint64_t>(o.chunk_size);
  if (chunks > static_cast<uint64_t>(INT32_MAX)) fail("imatrix: too many chunks");
  im.chunk_count = static_cast<int32_t>(chunks);
  if (!ck.config.raw.is_object()) fail(ck.location + ": no config.json (an imatrix is named by llama.cpp's tensor names)");
  const std::vector<GgufNameRule> names = gguf_names_for_config(ck.config.raw, ck.location + "/config.json");
  for (const auto& t : ck.tensors) {
    if (t.shape.size() < 2) continue;
    const TensorRole r = classify_tensor(t, ck.config);
    if (r.role == Role::MoeExpert || r.role == Role::SharedExpert || r.stacked_experts)
      fail(ck.location + ": tensor '" + t.name +
           "' is a mixture-of-experts weight; collecting its per-expert imatrix " +
           "needs squint's MoE forward pass, which does not route experts yet");
    if (r.role == Role::Embedding) continue;                    // a lookup (llama.cpp never collects token_embd)
    if (r.role == Role::LmHead && !o.process_output) continue;  // as llama-imatrix without --process-output
    InputSite s;
    if (!input_site_of(r, ck.config.tied_embeddings, &s)) continue;
    if (!is_float_measurable(t.dtype))
      fail(ck.location + ": tensor '" + t.name + "' is " + dtype_name(t.dtype) +
           "; an imatrix is collected on the float model");
    const auto gguf = gguf_name_of(names, t.name);
    if (!gguf) fail(ck.location + ": tensor '" + t.name + "' has no llama.cpp (GGUF) name to store its imatrix under");
    const Eigen::VectorXd* v = site_sums(m, s, s == InputSite::Head ? -1 : r.layer);
    if (!v || static_cast<uint64_t>(v->size()) != t.cols())
      fail(ck.location + ": tensor '" + t.name + "': the forward pass saw no input of its " + std::to_string(t.cols()) +
           " columns");
    ImatrixEntry e;
    e.sums.resize(static_cast<std::size_t>(v->size()));
    for (Eigen::Index j = 0; j < v->size(); ++j) e.sums[static_cast<std::size_t>(j)] = static_cast<float>((*v)[j]);
    e.counts = {static_cast<int64_t>(m.tokens)};
    im.entries[gguf->name] = std::move(e);
  }
  if (im.entries.empty()) fail(ck.location + ": no linear weight to collect an imatrix for");
  return im;
}

}  // namespace squint
