#pragma once
// A weight matrix the forward pass multiplies by: W [out, in], applied as y = x · Wᵀ to a block of token rows.
// The forward pass only sees this interface, so how a weight is stored (float32 today; its file's own
// precision or quantized blocks, dequantized tile by tile, for bounded-memory evaluation) is a matter of the
// implementation, and a model built for one plan can share every unchanged matrix with another (shared_ptr).
#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace squint {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class Linear {
 public:
  virtual ~Linear() = default;
  int64_t out() const { return out_; }
  int64_t in() const { return in_; }
  const std::string& name() const { return name_; }  // the weight's HF name (activation statistics key)
  // y [T, out] = x [T, in] · Wᵀ.
  virtual RowMat apply(const RowMat& x) const = 0;
  // Rows [r0, r0 + n) of W as float32 (n × in values), e.g. embedding lookups.
  virtual void rows_f32(int64_t r0, int64_t n, float* dst) const = 0;

 protected:
  Linear(std::string name, int64_t out, int64_t in) : name_(std::move(name)), out_(out), in_(in) {}

 private:
  std::string name_;
  int64_t out_, in_;
};
using LinearPtr = std::shared_ptr<const Linear>;

// W held as float32 (dequantized on load).
class DenseLinear final : public Linear {
 public:
  DenseLinear(std::string name, RowMat w) : Linear(std::move(name), w.rows(), w.cols()), w_(std::move(w)) {}
  RowMat apply(const RowMat& x) const override { return x * w_.transpose(); }
  void rows_f32(int64_t r0, int64_t n, float* dst) const override;
  const RowMat& matrix() const { return w_; }

 private:
  RowMat w_;
};

}  // namespace squint
