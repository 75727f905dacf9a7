#include "eval/llama.h"

#include <cmath>

#include "util/error.h"
#include "util/json_guard.h"

namespace squint {

LlamaConfig llama_config_from_json(const nlohmann::json& j0) {
  const nlohmann::json& j = j0.contains("text_config") ? j0["text_config"] : j0;
  // A field that is absent or not a number takes its default; a number that is no int is an error.
  auto geti_in = [](const nlohmann::json& o, const char* k, int def) {
    return o.contains(k) && o[k].is_number() ? json_int<int>(o[k], std::string("config.json: ") + k) : def;
  };
  auto geti = [&](const char* k, int def) { return geti_in(j, k, def); };
  LlamaConfig c;
  c.hidden = geti("hidden_size", 0);
  c.intermediate = geti("intermediate_size", 0);
  c.layers = geti("num_hidden_layers", 0);
  c.heads = geti("num_attention_heads", 0);
  c.kv_heads = geti("num_key_value_heads", c.heads);
  c.vocab = geti("vocab_size", 0);
  if (c.hidden <= 0 || c.layers <= 0 || c.heads <= 0 || c.vocab <= 0)
    fail("config.json: not a Llama-family config (hidden_size, num_hidden_layers, num_attention_heads, vocab_size)");
  c.head_dim = geti("head_dim", c.hidden / c.heads);
  c.eps = j.value("rms_norm_eps", 1e-5f);
  c.rope_theta = j.value("rope_theta", 10000.0);
  c.tied = j0.value("tie_word_embeddings", j.value("tie_word_embeddings", false));
  c.bos = geti_in(j0, "bos_token_id", 1);
  c.eos = geti_in(j0, "eos_token_id", 2);
  if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) {
    const auto& r = j["rope_scaling"];
    c.rope_type = r.value("rope_type", r.value("type", std::string("default")));
    c.rope_factor = r.value("factor", 1.0);
    c.low_freq_factor = r.value("low_freq_factor", 1.0);
    c.high_freq_factor = r.value("high_freq_factor", 4.0);
    c.original_max_pos = geti_in(r, "original_max_position_embeddings", 8192);
    if (c.rope_type != "default" && c.rope_type != "linear" && c.rope_type != "llama3")
      fail("config.json: rope_scaling type '" + c.rope_type + "' is not supported (default, linear, llama3)");
  }
  return c;
}

namespace {

RowMat to_mat(const std::vector<float>& v, int64_t rows, int64_t cols) {
  RowMat m(rows, cols);
  std::copy(v.begin(), v.end(), m.data());
  return m;
}

void rmsnorm_rows(RowMat& x, const Eigen::VectorXf& w, float eps) {
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    const float ms = x.row(t).squaredNorm() / static_cast<float>(x.cols());
    x.row(t) *= 1.0f / std::sqrt(ms + eps);
    x.row(t).array() *= w.transpose().array();
  }
}

}  // namespace

LlamaModel::LlamaModel(const LlamaConfig& cfg, const WeightSource& src) : cfg_(cfg) {
  std::vector<int64_t> shape;
  std::vector<float> data;
  auto need = [&](const std::string& name, int64_t rows, int64_t cols) {
    if (!src(name, &shape, &data)) fail("missing weight '" + name + "'");
    int64_t n = 1;
    for (auto d : shape) n *= d;
    if (n != rows * cols)
      fail("weight '" + name + "' has " + std::to_string(n) + " values, expected " + std::to_string(rows) + "x" + std::to_string(cols));
    return to_mat(data, rows, cols);
  };
  auto vec = [&](const std::string& name, int64_t n, bool required) {
    Eigen::VectorXf v;
    if (!src(name, &shape, &data)) {
      if (required) fail("missing weight '" + name + "'");
      return v;
    }
    if (static_cast<int64_t>(data.size()) != n) fail("weight '" + name + "' has the wrong size");
    v = Eigen::Map<Eigen::VectorXf>(data.data(), n);
    return v;
  };
  const int64_t H = cfg.hidden, hd = cfg.head_dim, Q = cfg.heads * hd, KV = cfg.kv_heads * hd, I = cfg.intermediate;
  embed_ = need("model.embed_tokens.weight", cfg.vocab, H);
  for (int l = 0; l < cfg.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    LlamaLayer L;
    L.wq = need(p + "self_attn.q_proj.weight", Q, H);
    L.wk = need(p + "self_attn.k_proj.weight", KV, H);
    L.wv = need(p + "self_attn.v_proj.weight", KV, H);
    L.wo = need(p + "self_attn.o_proj.weight", H, Q);
    L.bq = vec(p + "self_attn.q_proj.bias", Q, false);
    L.bk = vec(p + "self_attn.k_proj.bias", KV, false);
    L.bv = vec(p + "self_attn.v_proj.bias", KV, false);
    L.q_norm = vec(p + "self_attn.q_norm.weight", hd, false);
    L.k_norm = vec(p + "self_attn.k_norm.weight", hd, false);
    L.wg = need(p + "mlp.gate_proj.weight", I, H);
    L.wu = need(p + "mlp.up_proj.weight", I, H);
    L.wd = need(p + "mlp.down_proj.weight", H, I);
    L.attn_norm = vec(p + "input_layernorm.weight", H, true);
    L.mlp_norm = vec(p + "post_attention_layernorm.weight", H, true);
    layers_.push_back(std::move(L));
  }
  final_norm_ = vec("model.norm.weight", H, true);
  if (src("lm_head.weight", &shape, &data) && !cfg.tied) lm_head_ = to_mat(data, cfg.vocab, H);
  else lm_head_ = embed_;
  // Rotary frequencies, with the scaling rules of the families we load.
  for (int i = 0; i < hd / 2; ++i) {
    double f = 1.0 / std::pow(cfg.rope_theta, 2.0 * i / static_cast<double>(hd));
    if (!cfg.rope_freq_factors.empty()) {
      if (cfg.rope_freq_factors.size() != static_cast<std::size_t>(hd / 2)) fail("rope_freqs has the wrong length");
      inv_freq_.push_back(static_cast<float>(f / cfg.rope_freq_factors[static_cast<std::size_t>(i)]));
      continue;
    }
    if (cfg.rope_type == "linear") f /= cfg.rope_factor;
    if (cfg.rope_type == "llama3") {
      const double lo_w = cfg.original_max_pos / cfg.low_freq_factor, hi_w = cfg.original_max_pos / cfg.high_freq_factor;
      const double wl = 2.0 * M_PI / f;
      if (wl > lo_w) {
        f /= cfg.rope_factor;
      } else if (wl >= hi_w) {
        const double smooth = (cfg.original_max_pos / wl - cfg.low_freq_factor) / (cfg.high_freq_factor - cfg.low_freq_factor);
        f = (1 - smooth) * f / cfg.rope_factor + smooth * f;
      }
    }
    inv_freq_.push_back(static_cast<float>(f));
  }
}

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

void LlamaModel::accumulate_input_moments(const std::vector<int>& tokens, InputMoments* m) const {
  const std::size_t L = layers_.size();
  m->attn_in.resize(L);
  m->attn_out.resize(L);
  m->mlp_in.resize(L);
  m->mlp_down.resize(L);
  RowMat x = forward_hidden(tokens, m);
  add_square_cols(m->head, x);
  m->tokens += tokens.size();
}

RowMat LlamaModel::forward_hidden(const std::vector<int>& tokens, InputMoments* moments) const {
  const int T = static_cast<int>(tokens.size()), hd = cfg_.head_dim, nh = cfg_.heads, nkv = cfg_.kv_heads;
  const int group = nh / nkv;
  RowMat x(T, cfg_.hidden);
  for (int t = 0; t < T; ++t) {
    if (tokens[t] < 0 || tokens[t] >= cfg_.vocab) fail("token id " + std::to_string(tokens[t]) + " outside the vocabulary");
    x.row(t) = embed_.row(tokens[t]);
  }
  // cos/sin tables for this length.
  RowMat cosv(T, hd / 2), sinv(T, hd / 2);
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < hd / 2; ++i) {
      const double a = static_cast<double>(t) * inv_freq_[i];
      cosv(t, i) = static_cast<float>(std::cos(a));
      sinv(t, i) = static_cast<float>(std::sin(a));
    }
  auto rope = [&](RowMat& m, int nheads, const Eigen::VectorXf& norm) {
    for (int t = 0; t < T; ++t)
      for (int h = 0; h < nheads; ++h) {
        float* v = m.data() + static_cast<Eigen::Index>(t) * m.cols() + h * hd;
        if (norm.size()) {
          double ss = 0;
          for (int i = 0; i < hd; ++i) ss += static_cast<double>(v[i]) * v[i];
          const float r = 1.0f / std::sqrt(static_cast<float>(ss / hd) + cfg_.eps);
          for (int i = 0; i < hd; ++i) v[i] = v[i] * r * norm[i];
        }
        for (int i = 0; i < hd / 2; ++i) {
          const float a = v[i], b = v[i + hd / 2], c = cosv(t, i), s = sinv(t, i);
          v[i] = a * c - b * s;
          v[i + hd / 2] = b * c + a * s;
        }
      }
  };
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (std::size_t li = 0; li < layers_.size(); ++li) {
    const LlamaLayer& L = layers_[li];
    RowMat h = x;
    rmsnorm_rows(h, L.attn_norm, cfg_.eps);
    if (moments) add_square_cols(moments->attn_in[li], h);
    RowMat q = h * L.wq.transpose(), k = h * L.wk.transpose(), v = h * L.wv.transpose();
    if (L.bq.size()) q.rowwise() += L.bq.transpose();
    if (L.bk.size()) k.rowwise() += L.bk.transpose();
    if (L.bv.size()) v.rowwise() += L.bv.transpose();
    rope(q, nh, L.q_norm);
    rope(k, nkv, L.k_norm);
    RowMat att(T, nh * hd);
    for (int hh = 0; hh < nh; ++hh) {
      const int kh = hh / group;
      RowMat qh = q.middleCols(hh * hd, hd), kk = k.middleCols(kh * hd, hd), vv = v.middleCols(kh * hd, hd);
      RowMat s = (qh * kk.transpose()) * scale;
      for (int t = 0; t < T; ++t) {
        float mx = -INFINITY;
        for (int u = 0; u <= t; ++u) mx = std::max(mx, s(t, u));
        float sum = 0;
        for (int u = 0; u < T; ++u) {
          const float e = u <= t ? std::exp(s(t, u) - mx) : 0.0f;
          s(t, u) = e;
          sum += e;
        }
        s.row(t) /= sum;
      }
      att.middleCols(hh * hd, hd) = s * vv;
    }
    if (moments) add_square_cols(moments->attn_out[li], att);
    x += att * L.wo.transpose();
    RowMat h2 = x;
    rmsnorm_rows(h2, L.mlp_norm, cfg_.eps);
    if (moments) add_square_cols(moments->mlp_in[li], h2);
    RowMat g = h2 * L.wg.transpose(), u = h2 * L.wu.transpose();
    g = g.array() / (1.0f + (-g.array()).exp());  // silu
    g.array() *= u.array();
    if (moments) add_square_cols(moments->mlp_down[li], g);
    x += g * L.wd.transpose();
  }
  rmsnorm_rows(x, final_norm_, cfg_.eps);
  return x;
}

RowMat LlamaModel::logits(const std::vector<int>& tokens) const { return forward_hidden(tokens) * lm_head_.transpose(); }

double LlamaModel::nll(const std::vector<int>& tokens, std::size_t* count) const {
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
    total += -(static_cast<double>(lg(t, tokens[t + 1]) - mx) - std::log(se));
  }
  *count = static_cast<std::size_t>(lg.rows());
  return total;
}

std::vector<int> LlamaModel::generate_greedy(std::vector<int> seq, int n) const {
  for (int i = 0; i < n; ++i) {
    RowMat lg = logits(seq);
    Eigen::Index best;
    lg.row(lg.rows() - 1).maxCoeff(&best);
    seq.push_back(static_cast<int>(best));
    if (best == cfg_.eos) break;
  }
  return seq;
}

WeightSource weights_from(const MlxModel& m) {
  return [&m](const std::string& name, std::vector<int64_t>* shape, std::vector<float>* data) {
    const LogicalTensor* t = m.find(name);
    if (!t) return false;
    *shape = t->shape;
    uint64_t n = 1;
    for (auto d : t->shape) n *= static_cast<uint64_t>(d);
    data->resize(n);
    if (!read_logical_f32(m, *t, data->data())) fail("weight '" + name + "' contains NaN or Inf");
    return true;
  };
}

}  // namespace squint
