// The decoder pieces and the family registry against independent computations: routed MoE vs every expert
// run densely with zero weights for the unchosen, a sliding window of 1 vs the values themselves, a window at
// least as long as the sequence vs none, GELU-tanh vs its formula, and the registry's refusals.
#include <catch2/catch.hpp>
#include <cmath>
#include <algorithm>
#include <map>
#include <random>

#include "model/family.h"
#include "model/layers.h"
#include "model/model.h"
#include "util/error.h"

using namespace squint;

namespace {

RowMat random_mat(std::mt19937& rng, int rows, int cols, float scale) {
  std::normal_distribution<float> n(0.0f, scale);
  RowMat m(rows, cols);
  for (int i = 0; i < rows * cols; ++i) m.data()[i] = n(rng);
  return m;
}
LinearPtr lin(std::mt19937& rng, const std::string& name, int out, int in) {
  return std::make_shared<DenseLinear>(name, random_mat(rng, out, in, 1.0f / std::sqrt(static_cast<float>(in))));
}

nlohmann::json mixtral_config(int layers, int hidden, int experts) {
  return {{"model_type", "mixtral"}, {"hidden_size", hidden},       {"intermediate_size", 2 * hidden},
          {"num_hidden_layers", layers}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
          {"vocab_size", 40},          {"num_local_experts", experts}, {"num_experts_per_tok", 2}};
}

// A model of `h` with random weights, built directly (no source).
ModelWeights random_weights(const ModelHparams& h, std::mt19937& rng) {
  ModelWeights w;
  w.embed = lin(rng, "model.embed_tokens.weight", h.vocab, h.hidden);
  w.lm_head = lin(rng, "lm_head.weight", h.vocab, h.hidden);
  w.final_norm = Eigen::VectorXf::Ones(h.hidden);
  const int hd = h.head_dim, Q = h.heads * hd, KV = h.kv_heads * hd;
  for (int l = 0; l < h.layers; ++l) {
    LayerWeights L;
    const std::string p = "model.layers." + std::to_string(l) + ".";
    L.attn_norm = L.ffn_norm = Eigen::VectorXf::Ones(h.hidden);
    L.attn.q = lin(rng, p + "q", Q, h.hidden);
    L.attn.k = lin(rng, p + "k", KV, h.hidden);
    L.attn.v = lin(rng, p + "v", KV, h.hidden);
    L.attn.o = lin(rng, p + "o", h.hidden, Q);
    if (h.moe(l)) {
      L.moe.router = lin(rng, p + "router", h.experts, h.hidden);
      for (int e = 0; e < h.experts; ++e) {
        const std::string q = p + "e" + std::to_string(e) + ".";
        L.moe.experts.push_back({lin(rng, q + "g", h.intermediate, h.hidden), lin(rng, q + "u", h.intermediate, h.hidden),
                                 lin(rng, q + "d", h.hidden, h.intermediate), nullptr});
      }
    } else {
      L.mlp = {lin(rng, p + "g", h.intermediate, h.hidden), lin(rng, p + "u", h.intermediate, h.hidden),
               lin(rng, p + "d", h.hidden, h.intermediate), nullptr};
    }
    w.layers.push_back(std::move(L));
  }
  return w;
}

}  // namespace

TEST_CASE("route_top_k: softmax, the k largest (lower index on ties), renormalised", "[model]") {
  RowMat lg(2, 4);
  lg << 0.0f, 2.0f, 1.0f, 2.0f,  //
      3.0f, 0.0f, 0.0f, 0.0f;
  const Routing r = route_top_k(lg, 2, true);
  CHECK(r.experts[0] == std::vector<int>{1, 3});  // tie: lower index first
  CHECK(r.weights[0][0] == Approx(0.5));
  CHECK(r.experts[1][0] == 0);
  const double e3 = std::exp(3.0), z = e3 + 3.0;
  CHECK(r.weights[1][0] == Approx((e3 / z) / ((e3 + 1) / z)));
  const Routing raw = route_top_k(lg, 2, false);  // not renormalised: the softmax probabilities themselves
  CHECK(raw.weights[1][0] == Approx(e3 / z));
  CHECK_THROWS_AS(route_top_k(lg, 5, true), Error);
}

TEST_CASE("attention: a window of 1 returns each token's own value, a window >= T changes nothing", "[model]") {
  std::mt19937 rng(1);
  const int T = 7, hd = 4;
  AttnSpec s{2, 1, hd, 0.5f, 0.0f, 0};
  RowMat q = random_mat(rng, T, 2 * hd, 1), k = random_mat(rng, T, hd, 1), v = random_mat(rng, T, hd, 1);
  RowMat full = attention(q, k, v, s);
  s.window = T;
  CHECK((attention(q, k, v, s) - full).cwiseAbs().maxCoeff() == 0.0f);
  s.window = 1;
  RowMat self = attention(q, k, v, s);
  for (int h = 0; h < 2; ++h) CHECK((self.middleCols(h * hd, hd) - v).cwiseAbs().maxCoeff() < 1e-6f);
  s.window = 3;  // token t sees t-2..t: the first 3 rows equal full attention's
  RowMat w3 = attention(q, k, v, s);
  CHECK((w3.topRows(3) - full.topRows(3)).cwiseAbs().maxCoeff() < 1e-6f);
  CHECK((w3.bottomRows(1) - full.bottomRows(1)).cwiseAbs().maxCoeff() > 1e-4f);
  s.window = 0;
  s.softcap = 0.1f;  // a tiny cap flattens the scores: close to the mean of the visible values
  RowMat capped = attention(q, k, v, s);
  CHECK((capped.row(T - 1).head(hd) - v.colwise().mean()).cwiseAbs().maxCoeff() < 0.1f);
}

TEST_CASE("gated_product: GELU-tanh and SiLU against their formulas", "[model]") {
  RowMat g(1, 3), u = RowMat::Ones(1, 3);
  g << -1.5f, 0.25f, 2.0f;
  RowMat a = g;
  gated_product(a, u, Activation::GeluTanh);
  for (int j = 0; j < 3; ++j) {
    const double x = g(0, j);
    CHECK(a(0, j) == Approx(0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)))).epsilon(1e-6));
  }
  RowMat b = g;
  gated_product(b, u, Activation::Silu);
  for (int j = 0; j < 3; ++j) CHECK(b(0, j) == Approx(g(0, j) / (1 + std::exp(-g(0, j)))).epsilon(1e-6));
}

TEST_CASE("MoE layer: routed experts equal every expert run densely with zero weight for the unchosen", "[model]") {
  std::mt19937 rng(7);
  const ModelHparams h = hparams_from_config(mixtral_config(2, 16, 4), "c");
  REQUIRE(h.family == "mixtral");
  const Model m(h, random_weights(h, rng));
  const std::vector<int> toks = {1, 5, 9, 3, 3, 7, 0, 12, 39};
  const RowMat got = m.logits(toks);
  // Reference: the same model where each MoE layer is replaced by a dense sum over all experts, each weighted
  // by its renormalised top-2 probability or 0 (computed here from the router, independently of route_top_k).
  ModelWeights dense = m.weights();
  // Run the layers by hand with the model's own pieces except routing.
  RowMat x(static_cast<int>(toks.size()), h.hidden);
  for (std::size_t t = 0; t < toks.size(); ++t) dense.embed->rows_f32(toks[t], 1, x.data() + t * h.hidden);
  const int hd = h.head_dim;
  std::vector<float> inv = rope_inv_freq(h.rope, hd);
  const RopeTable rt = rope_table(inv, hd, static_cast<int>(toks.size()));
  for (int l = 0; l < h.layers; ++l) {
    const LayerWeights& L = dense.layers[static_cast<std::size_t>(l)];
    RowMat a = x;
    rms_norm_rows(a, L.attn_norm, h.eps);
    RowMat q = L.attn.q->apply(a), k = L.attn.k->apply(a), v = L.attn.v->apply(a);
    norm_and_rope(q, h.heads, hd, {}, h.eps, rt);
    norm_and_rope(k, h.kv_heads, hd, {}, h.eps, rt);
    x += L.attn.o->apply(attention(q, k, v, AttnSpec{h.heads, h.kv_heads, hd, 1.0f / std::sqrt(float(hd)), 0, 0}));
    RowMat f = x;
    rms_norm_rows(f, L.ffn_norm, h.eps);
    const RowMat logits = L.moe.router->apply(f);
    RowMat out = RowMat::Zero(f.rows(), f.cols());
    for (Eigen::Index t = 0; t < f.rows(); ++t) {
      Eigen::VectorXd p = logits.row(t).cast<double>().transpose();
      p = (p.array() - p.maxCoeff()).exp();
      p /= p.sum();
      std::vector<int> idx(static_cast<std::size_t>(h.experts));
      for (int e = 0; e < h.experts; ++e) idx[static_cast<std::size_t>(e)] = e;
      std::sort(idx.begin(), idx.end(), [&](int a1, int b1) { return p[a1] > p[b1]; });
      const double z = p[idx[0]] + p[idx[1]];
      for (int e = 0; e < h.experts; ++e) {
        const double wgt = (e == idx[0] || e == idx[1]) ? p[e] / z : 0.0;
        const MlpWeights& E = L.moe.experts[static_cast<std::size_t>(e)];
        RowMat ft = f.row(t);
        RowMat g = E.gate->apply(ft), u = E.up->apply(ft);
        gated_product(g, u, Activation::Silu);
        out.row(t) += static_cast<float>(wgt) * E.down->apply(g);
      }
    }
    x += out;
  }
  rms_norm_rows(x, dense.final_norm, h.eps);
  const RowMat want = dense.lm_head->apply(x);
  CHECK((got - want).cwiseAbs().maxCoeff() < 2e-5f);
  // And routing() reports the experts the reference chose, for every token of every MoE layer.
  const auto r = m.routing(toks);
  REQUIRE(r.size() == 2);
  CHECK(r[0].size() == toks.size());
  CHECK(r[0][0].size() == 2);
}

TEST_CASE("family registry: refusals name the model_type and the supported list", "[model]") {
  CHECK_THROWS_WITH(hparams_from_config(nlohmann::json{{"model_type", "gemma3n_text"}, {"hidden_size", 8}}, "cfg.json"),
                    Catch::Contains("model_type 'gemma3n_text' is not supported") && Catch::Contains("llama"));
  CHECK_THROWS_WITH(hparams_from_config(nlohmann::json{{"hidden_size", 8}}, "cfg.json"), Catch::Contains("no model_type"));
  nlohmann::json bad = mixtral_config(1, 8, 2);
  bad["num_experts_per_tok"] = 3;
  CHECK_THROWS_WITH(hparams_from_config(bad, "cfg.json"), Catch::Contains("num_experts_per_tok = 3"));
  bad = mixtral_config(1, 8, 2);
  bad["hidden_size"] = "eight";
  CHECK_THROWS_WITH(hparams_from_config(bad, "cfg.json"), Catch::Contains("hidden_size is not a number"));
  // A family's tensor list and its loader agree: loading from a source that has exactly those tensors works.
  const nlohmann::json cfg = mixtral_config(1, 8, 2);
  const Family& f = family_for_config(cfg, "c");
  const ModelHparams h = f.from_config(cfg, "c");
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& t : f.tensors(h)) shapes[t.name] = t.shape;
  CHECK(shapes.count("model.layers.0.block_sparse_moe.experts.1.w2.weight"));
  WeightSource src = [&](const std::string& n, std::vector<int64_t>* shape, std::vector<float>* data) {
    auto it = shapes.find(n);
    if (it == shapes.end()) return false;
    *shape = it->second;
    int64_t k = 1;
    for (auto d : it->second) k *= d;
    data->assign(static_cast<std::size_t>(k), 0.01f);
    return true;
  };
  CHECK_NOTHROW(Model(h, src));
  shapes.erase("model.layers.0.block_sparse_moe.experts.1.w3.weight");  // a missing expert
  CHECK_THROWS_WITH(Model(h, src), Catch::Contains("missing weight 'model.layers.0.block_sparse_moe.experts.1.w3.weight'"));
  shapes["model.layers.0.block_sparse_moe.experts.1.w3.weight"] = {16, 8};
  shapes["model.layers.0.block_sparse_moe.gate.weight"] = {3, 8};  // a router of the wrong shape
  CHECK_THROWS_WITH(Model(h, src), Catch::Contains("block_sparse_moe.gate.weight' has 24 values, expected 2x8"));
}
