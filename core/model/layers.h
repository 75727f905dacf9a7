#pragma once
// The pieces decoder layers are made of — RMSNorm, rotary embeddings, causal (optionally sliding-window,
// soft-capped) grouped-query attention, gated MLPs, top-k expert routing — as small functions over token
// rows. Families compose them (model.cpp's decoder layer); none of them knows a family.
#include <Eigen/Dense>
#include <map>
#include <string>
#include <vector>

#include "model/hparams.h"
#include "model/linear.h"

namespace squint {

// Per weight (HF name): Σ over the tokens that reached it of x_j² of its input, and that token count —
// llama.cpp's importance-matrix statistic (experts see only the tokens routed to them).
struct ActivationStats {
  struct Entry {
    Eigen::VectorXd sum2;
    uint64_t count = 0;
  };
  std::map<std::string, Entry> by_weight;
  uint64_t tokens = 0;  // tokens run through the model
  void add(const ActivationStats& o);
  // Adds x's rows to the entry of every weight in `to` (all fed by x).
  void record(const RowMat& x, std::initializer_list<const Linear*> to);
};

// x_t ← x_t / sqrt(mean(x_t²) + eps) · w, row by row (w: the effective multiplier; Gemma's 1 + w is applied
// when its weights are loaded).
void rms_norm_rows(RowMat& x, const Eigen::VectorXf& w, float eps);

// Inverse frequencies of a rotary embedding over `dims` rotated dimensions, with its scaling rule; longrope's
// depend on the sequence length T (long factors when T > original_max_pos, as HF's dynamic update picks them).
std::vector<float> rope_inv_freq(const RopeSpec& r, int dims, int T = 0);
struct RopeTable {
  RowMat cos, sin;  // [T, dims / 2]
  int dims = 0;
};
// cos and sin of T positions, times `scale` (longrope's attention factor).
RopeTable rope_table(const std::vector<float>& inv_freq, int dims, int T, float scale = 1.0f);
// For each token and head of m ([T, nheads · head_dim]): optional per-head RMSNorm (norm.size() == head_dim),
// then the rotation of pairs (i, i + dims/2), i < dims/2 (HF rotate_half; dims < head_dim: partial rotary).
void norm_and_rope(RowMat& m, int nheads, int head_dim, const Eigen::VectorXf& norm, float eps, const RopeTable& rt);

struct AttnSpec {
  int heads = 0, kv_heads = 0, head_dim = 0;
  float scale = 0.0f;    // multiplies q·k
  float softcap = 0.0f;  // > 0: scores ← softcap · tanh(scores / softcap)
  int window = 0;        // > 0: token t attends to u with t − window < u ≤ t
};
// Causal attention of q [T, heads·hd] over k, v [T, kv_heads·hd]; returns [T, heads·hd].
RowMat attention(const RowMat& q, const RowMat& k, const RowMat& v, const AttnSpec& s);

// g ← act(g) · u (the gated MLP's product; SwiGLU for Silu, GeGLU with the tanh GELU for GeluTanh).
void gated_product(RowMat& g, const RowMat& u, Activation act);

// Top-k routing of each token: softmax over the experts' logits, the k largest (lower index first on ties),
// renormalised to sum 1 when `renorm`. `experts[t]`/`weights[t]` hold token t's choices, best first.
struct Routing {
  std::vector<std::vector<int>> experts;
  std::vector<std::vector<float>> weights;
};
Routing route_top_k(const RowMat& logits, int k, bool renorm);

}  // namespace squint
