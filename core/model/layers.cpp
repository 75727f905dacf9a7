#include "model/layers.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/error.h"

namespace squint {

void ActivationStats::add(const ActivationStats& o) {
  for (const auto& [name, e] : o.by_weight) {
    Entry& d = by_weight[name];
    if (!d.sum2.size()) d.sum2 = Eigen::VectorXd::Zero(e.sum2.size());
    if (e.sum2.size()) d.sum2 += e.sum2;
    d.count += e.count;
  }
  tokens += o.tokens;
}

void ActivationStats::record(const RowMat& x, std::initializer_list<const Linear*> to) {
  Eigen::VectorXd s = Eigen::VectorXd::Zero(x.cols());
  for (Eigen::Index t = 0; t < x.rows(); ++t)
    for (Eigen::Index j = 0; j < x.cols(); ++j) s[j] += static_cast<double>(x(t, j)) * x(t, j);
  for (const Linear* l : to) {
    if (!l) continue;
    Entry& e = by_weight[l->name()];
    if (!e.sum2.size()) e.sum2 = Eigen::VectorXd::Zero(x.cols());
    e.sum2 += s;
    e.count += static_cast<uint64_t>(x.rows());
  }
}

void rms_norm_rows(RowMat& x, const Eigen::VectorXf& w, float eps) {
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    const float ms = x.row(t).squaredNorm() / static_cast<float>(x.cols());
    x.row(t) *= 1.0f / std::sqrt(ms + eps);
    x.row(t).array() *= w.transpose().array();
  }
}

std::vector<float> rope_inv_freq(const RopeSpec& r, int dims, int T) {
  std::vector<float> inv;
  // longrope: HF's inv_freq = 1 / (ext_factor · θ^(2i/d)), ext_factor the long or the short factors.
  const std::vector<float>& div =
      r.type == "longrope" ? (T > r.original_max_pos ? r.long_factor : r.short_factor) : r.freq_factors;
  if (!div.empty() && div.size() != static_cast<std::size_t>(dims / 2))
    fail("RoPE factors: " + std::to_string(div.size()) + " values, expected " + std::to_string(dims / 2));
  if (r.type == "longrope" && div.empty()) fail("longrope without its factors");
  for (int i = 0; i < dims / 2; ++i) {
    double f = 1.0 / std::pow(r.theta, 2.0 * i / static_cast<double>(dims));
    if (!div.empty()) {
      inv.push_back(static_cast<float>(f / div[static_cast<std::size_t>(i)]));
      continue;
    }
    if (r.type == "linear") f /= r.factor;
    if (r.type == "llama3") {
      const double lo_w = r.original_max_pos / r.low_freq_factor, hi_w = r.original_max_pos / r.high_freq_factor;
      const double wl = 2.0 * M_PI / f;
      if (wl > lo_w) {
        f /= r.factor;
      } else if (wl >= hi_w) {
        const double smooth = (r.original_max_pos / wl - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
        f = (1 - smooth) * f / r.factor + smooth * f;
      }
    }
    inv.push_back(static_cast<float>(f));
  }
  return inv;
}

RopeTable rope_table(const std::vector<float>& inv_freq, int dims, int T, float scale) {
  RopeTable rt;
  rt.dims = dims;
  rt.cos.resize(T, dims / 2);
  rt.sin.resize(T, dims / 2);
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < dims / 2; ++i) {
      const double a = static_cast<double>(t) * inv_freq[static_cast<std::size_t>(i)];
      rt.cos(t, i) = static_cast<float>(std::cos(a)) * scale;
      rt.sin(t, i) = static_cast<float>(std::sin(a)) * scale;
    }
  return rt;
}

void norm_and_rope(RowMat& m, int nheads, int hd, const Eigen::VectorXf& norm, float eps, const RopeTable& rt) {
  const int half = rt.dims / 2;
  for (Eigen::Index t = 0; t < m.rows(); ++t)
    for (int h = 0; h < nheads; ++h) {
      float* v = m.data() + t * m.cols() + h * hd;
      if (norm.size()) {
        double ss = 0;
        for (int i = 0; i < hd; ++i) ss += static_cast<double>(v[i]) * v[i];
        const float r = 1.0f / std::sqrt(static_cast<float>(ss / hd) + eps);
        for (int i = 0; i < hd; ++i) v[i] = v[i] * r * norm[i];
      }
      for (int i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half], c = rt.cos(t, i), s = rt.sin(t, i);
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
      }
    }
}

RowMat attention(const RowMat& q, const RowMat& k, const RowMat& v, const AttnSpec& s) {
  const int T = static_cast<int>(q.rows()), hd = s.head_dim, group = s.heads / s.kv_heads;
  RowMat att(T, static_cast<Eigen::Index>(s.heads) * hd);
  for (int hh = 0; hh < s.heads; ++hh) {
    const int kh = hh / group;
    RowMat qh = q.middleCols(hh * hd, hd), kk = k.middleCols(kh * hd, hd), vv = v.middleCols(kh * hd, hd);
    RowMat sc = (qh * kk.transpose()) * s.scale;
    if (s.softcap > 0) sc = ((sc.array() / s.softcap).tanh() * s.softcap).matrix();
    for (int t = 0; t < T; ++t) {
      const int lo = s.window > 0 ? std::max(0, t - s.window + 1) : 0;
      float mx = -INFINITY;
      for (int u = lo; u <= t; ++u) mx = std::max(mx, sc(t, u));
      float sum = 0;
      for (int u = 0; u < T; ++u) {
        const float e = u >= lo && u <= t ? std::exp(sc(t, u) - mx) : 0.0f;
        sc(t, u) = e;
        sum += e;
      }
      sc.row(t) /= sum;
    }
    att.middleCols(hh * hd, hd) = sc * vv;
  }
  return att;
}

void gated_product(RowMat& g, const RowMat& u, Activation act) {
  if (act == Activation::Silu) {
    g = g.array() / (1.0f + (-g.array()).exp());
  } else {
    // gelu_pytorch_tanh: 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))
    const float c = std::sqrt(2.0f / static_cast<float>(M_PI));
    g = (0.5f * g.array() * (1.0f + (c * (g.array() + 0.044715f * g.array().cube())).tanh())).matrix();
  }
  g.array() *= u.array();
}

Routing route_top_k(const RowMat& logits, int k, bool renorm) {
  const Eigen::Index T = logits.rows(), E = logits.cols();
  if (k <= 0 || k > E) fail("routing: " + std::to_string(k) + " experts per token out of " + std::to_string(E));
  Routing r;
  r.experts.resize(static_cast<std::size_t>(T));
  r.weights.resize(static_cast<std::size_t>(T));
  std::vector<float> p(static_cast<std::size_t>(E));
  std::vector<int> idx(static_cast<std::size_t>(E));
  for (Eigen::Index t = 0; t < T; ++t) {
    const float mx = logits.row(t).maxCoeff();
    float sum = 0;
    for (Eigen::Index e = 0; e < E; ++e) sum += p[static_cast<std::size_t>(e)] = std::exp(logits(t, e) - mx);
    for (auto& x : p) x /= sum;
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int a, int b) {
      return p[static_cast<std::size_t>(a)] > p[static_cast<std::size_t>(b)] ||
             (p[static_cast<std::size_t>(a)] == p[static_cast<std::size_t>(b)] && a < b);
    });
    auto& ex = r.experts[static_cast<std::size_t>(t)];
    auto& w = r.weights[static_cast<std::size_t>(t)];
    ex.assign(idx.begin(), idx.begin() + k);
    float s = 0;
    for (int e : ex) s += p[static_cast<std::size_t>(e)];
    for (int e : ex) w.push_back(renorm ? p[static_cast<std::size_t>(e)] / s : p[static_cast<std::size_t>(e)]);
  }
  return r;
}

}  // namespace squint
