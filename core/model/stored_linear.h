#pragma once
// A weight matrix kept as its file stores it (F32, F16 or BF16 values), dequantized tile by tile inside apply():
// running a model then holds the stored bytes plus one float32 tile per thread, not a float32 copy of every
// weight (a BF16 checkpoint no longer needs three times its size; issue 24).
#include <memory>
#include <string>

#include "io/checkpoint.h"
#include "io/dtype.h"
#include "model/linear.h"
#include "model/weights.h"
#include "util/parallel.h"

namespace squint {

class StoredLinear final : public Linear {
 public:
  // `data`: out × in little-endian values of `dtype` (F32/F16/BF16), row-major; whoever owns them (a vector, a
  // mapping) is kept alive through the shared_ptr. `pf` splits apply() over tiles of rows: the tiles are fixed
  // by the shape, so the result does not depend on the thread count.
  StoredLinear(std::string name, int64_t out, int64_t in, DType dtype, std::shared_ptr<const uint8_t> data,
               ParallelFor pf = serial());
  RowMat apply(const RowMat& x) const override;
  void rows_f32(int64_t r0, int64_t n, float* dst) const override;
  DType dtype() const { return dtype_; }
  // Rows of W per tile: about 256K float32 (1 MB), a multiple of 16 rows, at least 16.
  static int64_t tile_rows(int64_t in);

 private:
  DType dtype_;
  std::shared_ptr<const uint8_t> data_;
  ParallelFor pf_;
};

// Rows [row0, row0 + out) of the stored float tensor `t` (all of a 2-D weight, or one expert of a 3-D stack)
// as a StoredLinear [out, in] named `name`, its bytes read once into memory. Refused (naming the weight)
// when a value is NaN or Inf, as the float32 path refuses it. nullptr when `t` is not stored as F32/F16/BF16.
LinearPtr read_stored_linear(const Checkpoint& ck, const TensorInfo& t, uint64_t row0, uint64_t out,
                             const std::string& name, const ParallelFor& pf);

// Which stored dtypes run as StoredLinears: F16 and BF16. F32 stays a DenseLinear: its float32 copy is its
// stored size, and one product over the whole matrix is the arithmetic every result so far came from.
inline bool runs_stored(DType t) { return t == DType::F16 || t == DType::BF16; }

// The checkpoint's 2-D F16/BF16 weights by name as StoredLinears (nullptr for other names: the loader then asks
// the WeightSource). `ck` must outlive the source; the Linears do not need it.
LinearSource stored_linears(const Checkpoint& ck, const ParallelFor& pf);

}  // namespace squint
