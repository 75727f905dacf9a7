#include "model/model.h"

#include <cmath>

#include "model/family.h"
#include "util/error.h"

namespace squint {

namespace {
void add_square_cols(Eigen::VectorXd& acc, const RowMat& x) {
  if (acc.size() != x.cols()) acc = Eigen::VectorXd::Zero(x.cols());
  for (Eigen::Index t = 0; t < x.rows(); ++t)
    for (Eigen::Index j = 0; j < x.cols(); ++j) acc[j] += static_cast<double>(x(t, j)) * x(t, j);
}
void add_vec(Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  if (!b.size()) return;
  if (!a.size()) a = Eigen::VectorXd::Zero(b.size());
  a += b;
}
void add_vecs(std::vector<Eigen::VectorXd>& a, const std::vector<Eigen::VectorXd>& b) {
  if (a.size() < b.size()) a.resize(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) add_vec(a[i], b[i]);
}
}  // namespace

void InputMoments::add(const InputMoments& o) {
  add_vecs(attn_in, o.attn_in);
  add_vecs(attn_out, o.attn_out);
  add_vecs(mlp_in, o.mlp_in);
  add_vecs(mlp_down, o.mlp_down);
  add_vec(head, o.head);
  tokens += o.tokens;
}

struct Model::Trace {
  ActivationStats* stats = nullptr;
  InputMoments* moments = nullptr;
  std::vector<std::vector<std::vector<int>>>* routing = nullptr;
  int layer = 0;
  void record(const RowMat& x, std::initializer_list<const Linear*> to) const {
    if (stats) stats->record(x, to);
  }
  void site(std::vector<Eigen::VectorXd> InputMoments::*member, const RowMat& x) const {
    if (moments) add_square_cols((moments->*member)[static_cast<std::size_t>(layer)], x);
  }
};

Model::Model(const ModelHparams& h, const WeightSource& src, const LinearSource& linears) : Model(h, ModelWeights{}) {
  WeightLoader loader(src, linears);
  w_ = family_named(h.family).load(h, loader);
  if (static_cast<int>(w_.layers.size()) != h.layers) fail("internal error: the family loaded the wrong layer count");
}

Model::Model(const ModelHparams& h, ModelWeights w) : h_(h), w_(std::move(w)) {
  inv_freq_ = rope_inv_freq(h.rope, h.rope.dims > 0 ? h.rope.dims : h.head_dim);
  if (h.sliding_window > 0) inv_freq_local_ = rope_inv_freq(h.rope_local, h.rope_local.dims > 0 ? h.rope_local.dims : h.head_dim);
}

RowMat Model::forward_hidden(const std::vector<int>& tokens, Trace* trace) const {
  const int T = static_cast<int>(tokens.size());
  RowMat x(T, h_.hidden);
  for (int t = 0; t < T; ++t) {
    if (tokens[t] < 0 || tokens[t] >= h_.vocab) fail("token id " + std::to_string(tokens[t]) + " outside the vocabulary");
    w_.embed->rows_f32(tokens[t], 1, x.data() + static_cast<Eigen::Index>(t) * h_.hidden);
  }
  if (h_.embed_scale != 1.0f) x *= h_.embed_scale;
  // longrope picks its factors by the sequence length, as HF does for a fresh sequence.
  auto table = [&](const RopeSpec& r, const std::vector<float>& inv) {
    const int dims = r.dims > 0 ? r.dims : h_.head_dim;
    return rope_table(r.type == "longrope" ? rope_inv_freq(r, dims, T) : inv, dims, T,
                      static_cast<float>(r.attn_factor));
  };
  std::vector<RopeTable> ropes{table(h_.rope, inv_freq_)};
  if (!inv_freq_local_.empty()) ropes.push_back(table(h_.rope_local, inv_freq_local_));
  for (int li = 0; li < h_.layers; ++li) layer(li, x, ropes, trace);
  rms_norm_rows(x, w_.final_norm, h_.eps);
  return x;
}

void Model::layer(int li, RowMat& x, const std::vector<RopeTable>& ropes, Trace* trace) const {
  const LayerWeights& L = w_.layers[static_cast<std::size_t>(li)];
  const AttnWeights& A = L.attn;
  const int hd = h_.head_dim, Q = h_.heads * hd, KV = h_.kv_heads * hd;
  if (trace) trace->layer = li;
  RowMat h = x;
  rms_norm_rows(h, L.attn_norm, h_.eps);
  if (trace) {
    trace->record(h, {A.q.get(), A.k.get(), A.v.get(), A.qkv.get()});
    trace->site(&InputMoments::attn_in, h);
  }
  RowMat q, k, v;
  if (A.qkv) {
    RowMat f = A.qkv->apply(h);
    q = f.leftCols(Q);
    k = f.middleCols(Q, KV);
    v = f.rightCols(KV);
  } else {
    q = A.q->apply(h);
    k = A.k->apply(h);
    v = A.v->apply(h);
  }
  if (A.bq.size()) q.rowwise() += A.bq.transpose();
  if (A.bk.size()) k.rowwise() += A.bk.transpose();
  if (A.bv.size()) v.rowwise() += A.bv.transpose();
  const bool sliding = h_.sliding(li);
  const RopeTable& rt = ropes[sliding && ropes.size() > 1 ? 1 : 0];
  norm_and_rope(q, h_.heads, hd, A.q_norm, h_.eps, rt);
  norm_and_rope(k, h_.kv_heads, hd, A.k_norm, h_.eps, rt);
  AttnSpec s;
  s.heads = h_.heads;
  s.kv_heads = h_.kv_heads;
  s.head_dim = hd;
  s.scale = h_.attn_scale > 0 ? h_.attn_scale : 1.0f / std::sqrt(static_cast<float>(hd));
  s.softcap = h_.attn_softcap;
  s.window = sliding ? h_.sliding_window : 0;
  RowMat att = attention(q, k, v, s);
  if (trace) {
    trace->record(att, {A.o.get()});
    trace->site(&InputMoments::attn_out, att);
  }
  RowMat a = A.o->apply(att);
  if (L.post_attn_norm.size()) rms_norm_rows(a, L.post_attn_norm, h_.eps);
  x += a;
  RowMat h2 = x;
  rms_norm_rows(h2, L.ffn_norm, h_.eps);
  if (trace) trace->site(&InputMoments::mlp_in, h2);
  RowMat f = L.moe.router ? moe(li, L.moe, h2, trace) : mlp(L.mlp, h2, trace);
  if (L.post_ffn_norm.size()) rms_norm_rows(f, L.post_ffn_norm, h_.eps);
  x += f;
}

RowMat Model::mlp(const MlpWeights& m, const RowMat& h, Trace* trace) const {
  if (trace) trace->record(h, {m.gate.get(), m.up.get(), m.gate_up.get()});
  RowMat g, u;
  if (m.gate_up) {
    RowMat f = m.gate_up->apply(h);
    const Eigen::Index I = f.cols() / 2;
    g = f.leftCols(I);
    u = f.rightCols(I);
  } else {
    g = m.gate->apply(h);
    u = m.up->apply(h);
  }
  gated_product(g, u, h_.act);
  if (trace) {
    trace->record(g, {m.down.get()});
    if (trace->moments && trace->layer >= 0) trace->site(&InputMoments::mlp_down, g);
  }
  return m.down->apply(g);
}

RowMat Model::moe(int li, const MoeWeights& m, const RowMat& h, Trace* trace) const {
  if (trace) trace->record(h, {m.router.get(), m.shared_gate.get()});
  const Routing r = route_top_k(m.router->apply(h), h_.experts_used, h_.norm_topk);
  if (trace && trace->routing) (*trace->routing)[static_cast<std::size_t>(li)] = r.experts;
  RowMat out = RowMat::Zero(h.rows(), h.cols());
  // Tokens grouped by expert, so each chosen expert runs once on its tokens and the others not at all.
  std::vector<std::vector<std::pair<Eigen::Index, float>>> by_expert(m.experts.size());
  for (std::size_t t = 0; t < r.experts.size(); ++t)
    for (std::size_t j = 0; j < r.experts[t].size(); ++j)
      by_expert[static_cast<std::size_t>(r.experts[t][j])].push_back({static_cast<Eigen::Index>(t), r.weights[t][j]});
  // Per-site moments are not defined inside experts (each sees other tokens): the layer's down site stays empty.
  InputMoments* moments = trace ? trace->moments : nullptr;
  if (trace) trace->moments = nullptr;
  for (std::size_t e = 0; e < by_expert.size(); ++e) {
    const auto& toks = by_expert[e];
    if (toks.empty()) continue;
    RowMat he(static_cast<Eigen::Index>(toks.size()), h.cols());
    for (std::size_t i = 0; i < toks.size(); ++i) he.row(static_cast<Eigen::Index>(i)) = h.row(toks[i].first);
    const RowMat y = mlp(m.experts[e], he, trace);
    for (std::size_t i = 0; i < toks.size(); ++i) out.row(toks[i].first) += toks[i].second * y.row(static_cast<Eigen::Index>(i));
  }
  if (!m.shared.empty()) {
    const RowMat s = mlp(m.shared, h, trace);
    const RowMat g = m.shared_gate->apply(h);  // [T, 1]
    for (Eigen::Index t = 0; t < h.rows(); ++t) out.row(t) += (1.0f / (1.0f + std::exp(-g(t, 0)))) * s.row(t);
  }
  if (trace) trace->moments = moments;
  return out;
}

RowMat Model::logits(const std::vector<int>& tokens) const {
  RowMat lg = w_.lm_head->apply(forward_hidden(tokens));
  if (h_.final_softcap > 0) lg = ((lg.array() / h_.final_softcap).tanh() * h_.final_softcap).matrix();
  return lg;
}

double Model::nll(const std::vector<int>& tokens, std::size_t* count) const {
  if (tokens.size() < 2) {
    *count = 0;
    return 0;
  }
  std::vector<int> in(tokens.begin(), tokens.end() - 1);
  RowMat lg = logits(in);
  double total = 0;
  for (Eigen::Index t = 0; t < lg.rows(); ++t) {
    const float mx = lg.row(t).maxCoeff();
    double se = 0;
    for (Eigen::Index v = 0; v < lg.cols(); ++v) se += std::exp(static_cast<double>(lg(t, v) - mx));
    total += -(static_cast<double>(lg(t, tokens[static_cast<std::size_t>(t) + 1]) - mx) - std::log(se));
  }
  *count = static_cast<std::size_t>(lg.rows());
  return total;
}

std::vector<int> Model::generate_greedy(std::vector<int> seq, int n) const {
  for (int i = 0; i < n; ++i) {
    RowMat lg = logits(seq);
    Eigen::Index best;
    lg.row(lg.rows() - 1).maxCoeff(&best);
    seq.push_back(static_cast<int>(best));
    if (best == h_.eos) break;
  }
  return seq;
}

void Model::accumulate_activations(const std::vector<int>& tokens, ActivationStats* s) const {
  Trace tr;
  tr.stats = s;
  RowMat x = forward_hidden(tokens, &tr);
  s->record(x, {w_.lm_head.get()});
  s->tokens += tokens.size();
}

void Model::accumulate_input_moments(const std::vector<int>& tokens, InputMoments* m) const {
  const std::size_t L = static_cast<std::size_t>(h_.layers);
  m->attn_in.resize(L);
  m->attn_out.resize(L);
  m->mlp_in.resize(L);
  m->mlp_down.resize(L);
  Trace tr;
  tr.moments = m;
  RowMat x = forward_hidden(tokens, &tr);
  add_square_cols(m->head, x);
  m->tokens += tokens.size();
}

std::vector<std::vector<std::vector<int>>> Model::routing(const std::vector<int>& tokens) const {
  std::vector<std::vector<std::vector<int>>> r(static_cast<std::size_t>(h_.layers));
  Trace tr;
  tr.routing = &r;
  forward_hidden(tokens, &tr);
  return r;
}

}  // namespace squint
