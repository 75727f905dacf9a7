// Qwen2-MoE and Qwen3-MoE (core/model/families/qwen2_moe.cpp, qwen3_moe.cpp): config.json read as Hugging Face
// reads it (sparse layers from decoder_sparse_step and mlp_only_layers, its defaults, the refusals), the
// forward pass against a reference computed here independently (every expert run densely with its top-k
// probability or 0, the shared expert times a sigmoid computed in double, q/k/v biases, q/k norms), a dense
// layer against an MoE layer whose experts all equal it, and the tensor list, loader and GGUF names agreeing.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <random>

#include "model/family.h"
#include "model/layers.h"
#include "model/model.h"
#include "util/error.h"

using namespace squint;

namespace {

nlohmann::json qwen_config(const std::string& type, int layers) {
  nlohmann::json c = {{"model_type", type},       {"hidden_size", 32},
                      {"intermediate_size", 48},  {"num_hidden_layers", layers},
                      {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                      {"vocab_size", 40},         {"num_experts", 4},
                      {"num_experts_per_tok", 2}, {"moe_intermediate_size", 16},
                      {"rms_norm_eps", 1e-6},     {"rope_theta", 1000000.0}};
  if (type == "qwen2_moe") c["shared_expert_intermediate_size"] = 24;
  if (type == "qwen3_moe") c["head_dim"] = 12;  // != 32 / 4
  return c;
}

// A source holding exactly the family's tensors, with random values (norms near 1).
struct RandomSource {
  std::map<std::string, std::vector<int64_t>> shapes;
  std::map<std::string, std::vector<float>> values;
  RandomSource(const nlohmann::json& cfg, uint32_t seed) {
    const Family& f = family_for_config(cfg, "c");
    std::mt19937 rng(seed);
    for (const auto& t : f.tensors(f.from_config(cfg, "c"))) {
      shapes[t.name] = t.shape;
      int64_t n = 1;
      for (auto d : t.shape) n *= d;
      const bool vec = t.shape.size() == 1;
      std::normal_distribution<float> nd(vec ? 1.0f : 0.0f,
                                         vec ? 0.1f : 1.0f / std::sqrt(static_cast<float>(t.shape.back())));
      auto& v = values[t.name];
      for (int64_t i = 0; i < n; ++i) v.push_back(nd(rng));
    }
  }
  WeightSource source() const {
    return [this](const std::string& n, std::vector<int64_t>* shape, std::vector<float>* data) {
      auto it = shapes.find(n);
      if (it == shapes.end()) return false;
      *shape = it->second;
      *data = values.at(n);
      return true;
    };
  }
};

RowMat mlp_ref(const MlpWeights& m, const RowMat& x) {
  RowMat g = m.gate->apply(x), u = m.up->apply(x);
  for (Eigen::Index i = 0; i < g.size(); ++i) g.data()[i] = g.data()[i] / (1.0f + std::exp(-g.data()[i])) * u.data()[i];
  return m.down->apply(g);
}

// The logits of a Qwen MoE model computed layer by layer with plain loops for the MoE block: every expert runs on
// every token, weighted by its softmax probability if among the top k (renormalised when h.norm_topk) else 0; the
// shared expert is weighted by 1 / (1 + exp(-g)) in double.
RowMat reference_logits(const ModelHparams& h, const ModelWeights& w, const std::vector<int>& toks) {
  const int T = static_cast<int>(toks.size()), hd = h.head_dim;
  RowMat x(T, h.hidden);
  for (int t = 0; t < T; ++t)
    w.embed->rows_f32(toks[static_cast<std::size_t>(t)], 1, x.data() + static_cast<Eigen::Index>(t) * h.hidden);
  const RopeTable rt = rope_table(rope_inv_freq(h.rope, hd), hd, T);
  for (int l = 0; l < h.layers; ++l) {
    const LayerWeights& L = w.layers[static_cast<std::size_t>(l)];
    RowMat a = x;
    rms_norm_rows(a, L.attn_norm, h.eps);
    RowMat q = L.attn.q->apply(a), k = L.attn.k->apply(a), v = L.attn.v->apply(a);
    if (L.attn.bq.size()) {
      q.rowwise() += L.attn.bq.transpose();
      k.rowwise() += L.attn.bk.transpose();
      v.rowwise() += L.attn.bv.transpose();
    }
    norm_and_rope(q, h.heads, hd, L.attn.q_norm, h.eps, rt);
    norm_and_rope(k, h.kv_heads, hd, L.attn.k_norm, h.eps, rt);
    x += L.attn.o->apply(attention(q, k, v, AttnSpec{h.heads, h.kv_heads, hd, 1.0f / std::sqrt(float(hd)), 0, 0}));
    RowMat f = x;
    rms_norm_rows(f, L.ffn_norm, h.eps);
    if (!L.moe.router) {
      x += mlp_ref(L.mlp, f);
      continue;
    }
    const RowMat logits = L.moe.router->apply(f);
    RowMat out = RowMat::Zero(T, h.hidden);
    for (int t = 0; t < T; ++t) {
      Eigen::VectorXd p = logits.row(t).cast<double>().transpose();
      p = (p.array() - p.maxCoeff()).exp();
      p /= p.sum();
      std::vector<int> idx(static_cast<std::size_t>(h.experts));
      for (int e = 0; e < h.experts; ++e) idx[static_cast<std::size_t>(e)] = e;
      std::stable_sort(idx.begin(), idx.end(), [&](int i, int j) { return p[i] > p[j]; });
      double z = 0;
      for (int j = 0; j < h.experts_used; ++j) z += p[idx[static_cast<std::size_t>(j)]];
      const RowMat ft = f.row(t);
      for (int e = 0; e < h.experts; ++e) {
        const bool chosen = std::find(idx.begin(), idx.begin() + h.experts_used, e) != idx.begin() + h.experts_used;
        const double wgt = chosen ? (h.norm_topk ? p[e] / z : p[e]) : 0.0;
        out.row(t) += static_cast<float>(wgt) * mlp_ref(L.moe.experts[static_cast<std::size_t>(e)], ft);
      }
      if (!L.moe.shared.empty()) {
        const double g = L.moe.shared_gate->apply(ft)(0, 0);
        out.row(t) += static_cast<float>(1.0 / (1.0 + std::exp(-g))) * mlp_ref(L.moe.shared, ft);
      }
    }
    x += out;
  }
  rms_norm_rows(x, w.final_norm, h.eps);
  return w.lm_head->apply(x);
}

}  // namespace

TEST_CASE("qwen MoE config: sparse layers as HF decides them, HF defaults, refusals", "[model][qwen_moe]") {
  nlohmann::json c = qwen_config("qwen3_moe", 4);
  c["decoder_sparse_step"] = 2;
  c["mlp_only_layers"] = {3, 17};  // HF ignores indices past the last layer
  ModelHparams h = hparams_from_config(c, "config.json");
  CHECK(h.family == "qwen3_moe");
  CHECK(h.layer_moe == std::vector<bool>{false, true, false, false});  // (l + 1) % 2 == 0 and l not in mlp_only_layers
  CHECK(h.head_dim == 12);
  CHECK(h.expert_width() == 16);
  CHECK(h.shared_intermediate == 0);
  CHECK_FALSE(h.norm_topk);  // configuration_qwen3_moe.py: norm_topk_prob defaults to false
  CHECK(h.eps == Approx(1e-6));

  const ModelHparams q2 = hparams_from_config(qwen_config("qwen2_moe", 2), "config.json");
  CHECK(q2.family == "qwen2_moe");
  CHECK(q2.shared_intermediate == 24);
  CHECK(q2.qkv_bias);  // qkv_bias defaults to true
  CHECK(q2.layer_moe == std::vector<bool>{true, true});
  nlohmann::json d = qwen_config("qwen2_moe", 2);
  d.erase("num_experts");
  CHECK(hparams_from_config(d, "c").experts == 60);  // HF's default, not a guess

  auto refused = [](nlohmann::json j, const char* key, const nlohmann::json& v, const char* msg) {
    j[key] = v;
    CHECK_THROWS_WITH(hparams_from_config(j, "config.json"), Catch::Contains(msg) && Catch::Contains("config.json"));
  };
  for (const char* t : {"qwen2_moe", "qwen3_moe"}) {
    const nlohmann::json base = qwen_config(t, 2);
    refused(base, "decoder_sparse_step", 0, "decoder_sparse_step must be at least 1");
    refused(base, "num_experts_per_tok", 5, "num_experts_per_tok = 5 is not between 1 and num_experts = 4");
    refused(base, "num_experts", 0, "num_experts must be positive");
    refused(base, "use_sliding_window", true, "use_sliding_window = true is not supported");
    refused(base, "hidden_act", "gelu", "hidden_act must be silu");
    refused(base, "mlp_only_layers", 1, "mlp_only_layers is not a list");
    refused(base, "mlp_only_layers", {1.5}, "mlp_only_layers");
  }
  refused(qwen_config("qwen3_moe", 2), "attention_bias", true, "attention_bias = true is not supported");
  refused(qwen_config("qwen2_moe", 2), "shared_expert_intermediate_size", 0,
          "shared_expert_intermediate_size must be positive");
}

TEST_CASE("qwen MoE forward: routed experts, shared expert gate, biases and q/k norms against a dense reference",
          "[model][qwen_moe]") {
  const std::vector<int> toks = {1, 5, 9, 3, 3, 7, 0, 12, 39, 21, 4};
  for (const char* type : {"qwen2_moe", "qwen3_moe"})
    for (bool renorm : {false, true}) {
      CAPTURE(type, renorm);
      nlohmann::json c = qwen_config(type, 2);
      c["norm_topk_prob"] = renorm;
      const ModelHparams h = hparams_from_config(c, "c");
      const RandomSource rs(c, 11);
      const Model m(h, rs.source());
      const auto& L0 = m.weights().layers[0];
      CHECK((L0.attn.bq.size() > 0) == (std::string(type) == "qwen2_moe"));
      CHECK((L0.attn.q_norm.size() > 0) == (std::string(type) == "qwen3_moe"));
      CHECK(L0.moe.shared.empty() == (std::string(type) == "qwen3_moe"));
      const RowMat got = m.logits(toks), want = reference_logits(h, m.weights(), toks);
      CHECK((got - want).cwiseAbs().maxCoeff() < 2e-5f);
      // Negative control: the reference with the other routing normalisation differs.
      ModelHparams other = h;
      other.norm_topk = !renorm;
      CHECK((reference_logits(other, m.weights(), toks) - got).cwiseAbs().maxCoeff() > 1e-3f);
    }
}

TEST_CASE("qwen MoE: a dense layer equals an MoE layer whose experts all are that MLP (renormalised top-k)",
          "[model][qwen_moe]") {
  // mlp_only_layers = [1] makes layer 1 a dense MLP of width intermediate_size; the all-MoE model with every
  // expert of layer 1 equal to that MLP (moe_intermediate_size = intermediate_size) and renormalised weights
  // (which sum to 1) computes the same function.
  nlohmann::json dense_cfg = qwen_config("qwen3_moe", 3), moe_cfg = dense_cfg;
  dense_cfg["mlp_only_layers"] = {1};
  dense_cfg["norm_topk_prob"] = moe_cfg["norm_topk_prob"] = true;
  moe_cfg["moe_intermediate_size"] = 48;
  dense_cfg["moe_intermediate_size"] = 48;
  const ModelHparams hd = hparams_from_config(dense_cfg, "c"), hm = hparams_from_config(moe_cfg, "c");
  REQUIRE(hd.layer_moe == std::vector<bool>{true, false, true});
  RandomSource d(dense_cfg, 5), m(moe_cfg, 5);
  for (auto& [name, v] : m.values)
    if (d.values.count(name)) v = d.values.at(name);  // every shared tensor identical
  for (int e = 0; e < hm.experts; ++e)
    for (const char* p : {"gate_proj", "up_proj", "down_proj"})
      m.values.at("model.layers.1.mlp.experts." + std::to_string(e) + "." + p + ".weight") =
          d.values.at(std::string("model.layers.1.mlp.") + p + ".weight");
  const std::vector<int> toks = {3, 1, 4, 1, 5, 9, 2, 6};
  const Model dense(hd, d.source()), moe(hm, m.source());
  CHECK((dense.logits(toks) - moe.logits(toks)).cwiseAbs().maxCoeff() < 1e-4f);
  CHECK(moe.routing(toks)[1].size() == toks.size());
  CHECK(dense.routing(toks)[1].empty());  // a dense layer routes nothing
  // Negative control: the experts of layer 1 no longer equal the MLP -> the models differ.
  for (int e = 0; e < hm.experts; ++e)
    m.values.at("model.layers.1.mlp.experts." + std::to_string(e) + ".down_proj.weight")[0] += 1.0f;
  CHECK((dense.logits(toks) - Model(hm, m.source()).logits(toks)).cwiseAbs().maxCoeff() > 1e-4f);
}

TEST_CASE("qwen MoE: the tensor list, the loader and the GGUF names agree, bad tensors are refused by name",
          "[model][qwen_moe]") {
  for (const char* type : {"qwen2_moe", "qwen3_moe"}) {
    CAPTURE(type);
    const nlohmann::json c = qwen_config(type, 2);
    const Family& f = family_for_config(c, "c");
    const ModelHparams h = f.from_config(c, "c");
    RandomSource rs(c, 3);
    CHECK_NOTHROW(Model(h, rs.source()));
    // Every tensor has a GGUF name and comes back to itself (experts through their stack).
    const auto rules = f.gguf_names(h);
    for (const auto& t : f.tensors(h)) {
      CAPTURE(t.name);
      const auto g = gguf_name_of(rules, t.name);
      REQUIRE(g);
      const auto back = hf_name_of(rules, g->name);
      REQUIRE(back);
      CHECK((g->stacked ? hf_expert_name(back->name, g->expert) : back->name) == t.name);
    }
    CHECK(gguf_name_of(rules, "model.layers.1.mlp.gate.weight")->name == "blk.1.ffn_gate_inp.weight");
    CHECK(gguf_name_of(rules, "model.layers.0.mlp.experts.3.down_proj.weight")->name == "blk.0.ffn_down_exps.weight");
    const std::string router = "model.layers.1.mlp.gate.weight";
    rs.shapes[router] = {h.hidden, h.experts};  // transposed: the same count, not the same matrix
    CHECK_THROWS_WITH(Model(h, rs.source()),
                      Catch::Contains(router) && Catch::Contains("has shape [32, 4], expected [4, 32]"));
    rs.shapes[router] = {h.experts, h.hidden};
    rs.shapes.erase("model.layers.0.mlp.experts.2.up_proj.weight");
    CHECK_THROWS_WITH(Model(h, rs.source()),
                      Catch::Contains("missing weight 'model.layers.0.mlp.experts.2.up_proj.weight'"));
  }
  const nlohmann::json c = qwen_config("qwen2_moe", 1);
  const ModelHparams h = hparams_from_config(c, "c");
  RandomSource rs(c, 3);
  CHECK(gguf_name_of(family_named("qwen2_moe").gguf_names(h), "model.layers.0.mlp.shared_expert_gate.weight")->name ==
        "blk.0.ffn_gate_inp_shexp.weight");
  rs.shapes.erase("model.layers.0.self_attn.k_proj.bias");  // qkv_bias (default true): biases are required
  CHECK_THROWS_WITH(Model(h, rs.source()), Catch::Contains("missing weight 'model.layers.0.self_attn.k_proj.bias'"));
  rs.shapes["model.layers.0.self_attn.k_proj.bias"] = {16};
  rs.shapes["model.layers.0.mlp.shared_expert_gate.weight"] = {
      32};  // [1, n] stored 1-D (llama.cpp's {n_embd}) is accepted
  CHECK_NOTHROW(Model(h, rs.source()));
}

TEST_CASE("qwen MoE GGUF: what llama.cpp's qwen2moe / qwen3moe cannot run is refused with one line",
          "[model][qwen_moe]") {
  auto kv_error = [](nlohmann::json c) {
    const ModelHparams h = hparams_from_config(c, "c");
    try {
      family_named(h.family).gguf_kv(h, "m");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  nlohmann::json c = qwen_config("qwen3_moe", 2);
  c["norm_topk_prob"] = true;
  CHECK(kv_error(c).empty());
  c["mlp_only_layers"] = {0};
  CHECK_THAT(kv_error(c), Catch::Contains("dense layers") && Catch::Contains("qwen3moe"));
  c["mlp_only_layers"] = nlohmann::json::array();
  c["norm_topk_prob"] = false;
  CHECK_THAT(kv_error(c), Catch::Contains("always renormalises"));
  c = qwen_config("qwen2_moe", 2);
  CHECK(kv_error(c).empty());
  c["norm_topk_prob"] = true;
  CHECK_THAT(kv_error(c), Catch::Contains("never renormalises"));
  c["norm_topk_prob"] = false;
  c["tie_word_embeddings"] = true;
  CHECK_THAT(kv_error(c), Catch::Contains("needs an output tensor"));
  c["tie_word_embeddings"] = false;
  c["head_dim"] = 16;
  CHECK_THAT(kv_error(c), Catch::Contains("head_dim x heads != hidden_size"));
}
