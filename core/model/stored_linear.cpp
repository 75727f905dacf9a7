#include "model/stored_linear.h"

#include <algorithm>
#include <vector>

#include "util/error.h"

namespace squint {

namespace {

// Bits of every value, checked without converting: an all-ones exponent is Inf or NaN in all three dtypes.
bool stored_all_finite(DType t, const uint8_t* p, uint64_t n) {
  uint32_t bad = 0;
  if (t == DType::F32) {
    for (uint64_t i = 0; i < n; ++i) {
      uint32_t u;
      std::memcpy(&u, p + 4 * i, 4);
      bad |= static_cast<uint32_t>((u & 0x7f800000u) == 0x7f800000u);
    }
  } else {
    const uint16_t mask = t == DType::BF16 ? 0x7f80u : 0x7c00u;
    for (uint64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      bad |= static_cast<uint32_t>((h & mask) == mask);
    }
  }
  return bad == 0;
}

}  // namespace

StoredLinear::StoredLinear(std::string name, int64_t out, int64_t in, DType dtype, std::shared_ptr<const uint8_t> data,
                           ParallelFor pf)
    : Linear(std::move(name), out, in), dtype_(dtype), data_(std::move(data)), pf_(std::move(pf)) {
  if (!is_float_measurable(dtype_)) fail("weight '" + this->name() + "': internal error: stored dtype is not a float");
}

int64_t StoredLinear::tile_rows(int64_t in) {
  const int64_t r = (int64_t{1} << 18) / std::max<int64_t>(in, 1);
  return std::max<int64_t>(16, r / 16 * 16);
}

void StoredLinear::rows_f32(int64_t r0, int64_t n, float* dst) const {
  const uint64_t es = static_cast<uint64_t>(dtype_bits(dtype_) / 8);
  const uint64_t cols = static_cast<uint64_t>(in());
  // Finite values were checked on load: the result flag says nothing new.
  (void)to_f32(dtype_, data_.get() + static_cast<uint64_t>(r0) * cols * es, static_cast<std::size_t>(n) * cols, dst);
}

RowMat StoredLinear::apply(const RowMat& x) const {
  const int64_t R = tile_rows(in()), tiles = (out() + R - 1) / R;
  RowMat y(x.rows(), out());
  pf_(static_cast<std::size_t>(tiles), [&](std::size_t i) {
    const int64_t r0 = static_cast<int64_t>(i) * R, n = std::min(R, out() - r0);
    // One float32 tile per thread, reused from call to call (a fresh 1 MB buffer per tile would fault its pages
    // in every time).
    thread_local std::vector<float> tile;
    tile.resize(static_cast<std::size_t>(n * in()));
    rows_f32(r0, n, tile.data());
    const Eigen::Map<const RowMat> w(tile.data(), n, in());
    y.middleCols(r0, n).noalias() = x * w.transpose();
  });
  return y;
}

LinearPtr read_stored_linear(const Checkpoint& ck, const TensorInfo& t, uint64_t row0, uint64_t out,
                             const std::string& name, const ParallelFor& pf) {
  if (!is_float_measurable(t.dtype) || t.shape.size() < 2) return nullptr;
  const uint64_t cols = t.cols(), es = static_cast<uint64_t>(dtype_bits(t.dtype) / 8);
  if (row0 + out > t.rows()) fail("weight '" + name + "': internal error: row range past the tensor");
  auto bytes = std::make_shared<std::vector<uint8_t>>(out * cols * es);
  ck.sources.at(static_cast<std::size_t>(t.file))->read(t.offset + row0 * cols * es, bytes->size(), bytes->data());
  if (!stored_all_finite(t.dtype, bytes->data(), out * cols)) fail("weight '" + name + "' contains NaN or Inf");
  std::shared_ptr<const uint8_t> data(bytes, bytes->data());  // aliasing: the vector owns the bytes
  return std::make_shared<StoredLinear>(name, static_cast<int64_t>(out), static_cast<int64_t>(cols), t.dtype,
                                        std::move(data), pf);
}

LinearSource stored_linears(const Checkpoint& ck, const ParallelFor& pf) {
  return [&ck, pf](const std::string& name) -> LinearPtr {
    const TensorInfo* t = ck.find(name);
    if (!t || t->shape.size() != 2 || !runs_stored(t->dtype)) return nullptr;
    return read_stored_linear(ck, *t, 0, t->rows(), name, pf);
  };
}

}  // namespace squint
