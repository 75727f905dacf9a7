#include "model/weights.h"

#include "util/error.h"
#include "util/shape_str.h"

namespace squint {

LinearPtr WeightLoader::matrix(const std::string& name, int64_t rows, int64_t cols) {
  if (!src_(name, &shape_, &data_)) fail("missing weight '" + name + "'");
  return to_linear(name, rows, cols);
}

LinearPtr WeightLoader::optional_matrix(const std::string& name, int64_t rows, int64_t cols) {
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
