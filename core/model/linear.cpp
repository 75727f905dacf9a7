#include "model/linear.h"

#include <algorithm>

namespace squint {

void DenseLinear::rows_f32(int64_t r0, int64_t n, float* dst) const {
  const float* src = w_.data() + r0 * w_.cols();
  std::copy(src, src + n * w_.cols(), dst);
}

}  // namespace squint
