#include "model/weights.h"

#include "util/error.h"
#include "util/shape_str.h"

namespace squint {

LinearPtr WeightLoader::offered(const std::string& name, int64_t rows, int64_t cols) {
  if (!linears_) return nullptr;
  LinearPtr l = linears_(name);
  if (l && (l->out() != rows || l->in() != cols))
    fail("weight '" + name + "' has shape " + shape_str(std::vector<int64_t>{l->out(), l->in()}) + ", expected " +
         shape_str(std::vector<int64_t>{rows, cols}));
  return l;
}

LinearPtr WeightLoader::matrix(const std::string& name, int64_t rows, int64_t cols) {
  if (LinearPtr l = offered(name, rows, cols)) return l;
  if (!src_(name, &shape_, &data_)) fail("missing weight '" + name + "'");
  return to_linear(name, rows, cols);
}

LinearPtr WeightLoader::optional_matrix(const std::string& name, int64_t rows, int64_t cols) {
  if (LinearPtr l = offered(name, rows, cols)) return l;
  return src_(name, &shape_, &data_) ? to_linear(name, rows, cols) : nullptr;
}

LinearPtr WeightLoader::to_linear(const std::string& name, int64_t rows, int64_t cols) {
  if (static_cast<int64_t>(data_.size()) != rows * cols)
    fail("weight '" + name + "' has " + std::to_string(data_.size()) + " values, expected " + std::to_string(rows) + "x" +
         std::to_string(cols));
  // The same count is not the same matrix (a transposed router has it too). A [1, n] weight may come 1-D
  // (llama.cpp's {n_embd} ffn_gate_inp_shexp).
  const std::vector<int64_t> want{rows, cols};
  if (shape_ != want && !(rows == 1 && shape_ == std::vector<int64_t>{cols}))
    fail("weight '" + name + "' has shape " + shape_str(shape_) + ", expected " + shape_str(want));
  RowMat m(rows, cols);
  std::copy(data_.begin(), data_.end(), m.data());
  return std::make_shared<DenseLinear>(name, std::move(m));
}

std::map<std::string, LinearPtr> linears_by_name(const ModelWeights& w) {
  std::map<std::string, LinearPtr> out;
  auto add = [&](const LinearPtr& l) {
    if (l) out[l->name()] = l;
  };
  auto add_mlp = [&](const MlpWeights& m) {
    for (const auto* l : {&m.gate, &m.up, &m.down, &m.gate_up}) add(*l);
  };
  add(w.embed);
  add(w.lm_head);
  for (const auto& L : w.layers) {
    for (const auto* l : {&L.attn.q, &L.attn.k, &L.attn.v, &L.attn.o, &L.attn.qkv}) add(*l);
    add_mlp(L.mlp);
    add(L.moe.router);
    add(L.moe.shared_gate);
    add_mlp(L.moe.shared);
    for (const auto& e : L.moe.experts) add_mlp(e);
  }
  return out;
}

LinearSource shared_linears(const ModelWeights& base, const std::set<std::string>& changed) {
  auto by_name = std::make_shared<const std::map<std::string, LinearPtr>>(linears_by_name(base));
  return [by_name, changed](const std::string& name) -> LinearPtr {
    if (changed.count(name)) return nullptr;
    auto it = by_name->find(name);
    return it == by_name->end() ? nullptr : it->second;
  };
}

Eigen::VectorXf WeightLoader::vector(const std::string& name, int64_t n, bool required, float add) {
  Eigen::VectorXf v;
  if (!src_(name, &shape_, &data_)) {
    if (required) fail("missing weight '" + name + "'");
    return v;
  }
  if (static_cast<int64_t>(data_.size()) != n)
    fail("weight '" + name + "' has " + std::to_string(data_.size()) + " values, expected " + std::to_string(n));
  v = Eigen::Map<Eigen::VectorXf>(data_.data(), n);
  if (add != 0.0f) v.array() += add;
  return v;
}

}  // namespace squint
