#pragma once
// Per-input-column weights c_j for the weighted error of a linear layer's weight W [out, in]:
//   wNRMSE² = Σ_ij c_j (W − Ŵ)_ij² / Σ_ij c_j W_ij²
// which is the relative output-noise power y = W x for inputs with E[x_j²] ∝ c_j (independent columns).
// Two sources (issue 14):
//  - "norm" (data-free): c = γ² of the RMSNorm that feeds the layer (q/k/v: input_layernorm; gate/up:
//    post_attention_layernorm, Gemma's pre_feedforward_layernorm; lm_head and a tied embedding: the final
//    norm; γ = 1 + w for Gemma). Layers with no norm in front
//    (o_proj, down_proj) get no weights, so their weighted error is their plain NRMSE.
//  - "calibrated" (breaks data-free on purpose): c = E[x_j²] of each linear's actual input over a forward
//    pass on calibration text, as llama.cpp's importance matrix collects it; every linear has weights.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "analysis/roles.h"
#include "io/checkpoint.h"

namespace squint {

enum class InputSite { AttnIn, AttnOut, MlpIn, MlpDown, Head };
const char* input_site_name(InputSite s);

// Which site's input feeds a tensor of this role (false: none, e.g. embeddings that are not tied, norms).
bool input_site_of(const TensorRole& r, bool tied_embeddings, InputSite* site);

struct ColumnWeights {
  std::string kind;    // "norm" | "calibrated"
  std::string source;  // calibrated: what text and how much of it (recorded in analysis.json)
  std::map<std::pair<InputSite, int>, std::vector<float>> sites;  // (site, layer; Head: -1) → c
  // By tensor name: each weight's own c (read from an imatrix file, analysis/importance.h); consulted first.
  std::map<std::string, std::vector<float>> tensors;
  // The weights for a tensor, or nullptr (no site, or no weights recorded for it, or a length mismatch).
  const std::vector<float>* for_tensor(const TensorRole& r, bool tied_embeddings, uint64_t cols) const;
  const std::vector<float>* for_tensor(const std::string& name, const TensorRole& r, bool tied_embeddings,
                                       uint64_t cols) const;
};

// The RMSNorm tensor that feeds a site, and what is added to its stored values to give the multiplier γ
// (Gemma stores w for a multiplier 1 + w).
struct FeedingNorm {
  std::string name;
  float add = 0.0f;
  bool operator==(const std::string& n) const { return name == n; }
};
// The RMSNorm tensors of a checkpoint by the site they feed: (site, layer; Head: -1) → norm. For a registered
// family by its GGUF name table (llama.cpp's attn_norm / ffn_norm / output_norm); else by the Llama names
// (input_layernorm, post_attention_layernorm, model.norm and Meta's attention_norm/ffn_norm/norm).
std::map<std::pair<InputSite, int>, FeedingNorm> norm_tensors_by_site(const Checkpoint& ck);
// γ of a feeding norm (stored values + its offset). Throws squint::Error on NaN/Inf.
void read_feeding_norm(const Checkpoint& ck, const FeedingNorm& n, std::vector<float>& gamma);

// γ² of those norms. Throws squint::Error on a norm that holds NaN/Inf.
ColumnWeights norm_column_weights(const Checkpoint& ck);

}  // namespace squint
