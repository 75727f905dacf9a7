#include "convert/mlx_write.h"

#include <algorithm>

#include "util/chunks.h"
#include "util/error.h"

namespace squint {

void write_unit(const Checkpoint& ck, const ConvertUnit& u, const ParallelFor& pf, const ByteSink& sink,
                const std::function<void(uint64_t)>& progress) {
  uint64_t done = 0;
  if (u.kind == UnitKind::Copy) {
    std::vector<uint8_t> buf;
    for (auto* s : u.sources) {
      for (uint64_t off = 0; off < s->nbytes; off += kBatchElems) {
        const uint64_t n = std::min<uint64_t>(kBatchElems, s->nbytes - off);
        buf.resize(n);
        ck.sources.at(s->file)->read(s->offset + off, n, buf.data());
        sink(buf.data(), n);
        done += n;
        if (progress) progress(done);
      }
    }
    return;
  }
  const TensorInfo& t0 = *u.sources.front();
  const uint64_t cols = t0.cols(), rows = t0.rows();
  const uint64_t ies = dtype_bits(t0.dtype) / 8, oes = dtype_bits(u.out_dtype) / 8;
  const uint64_t rpc = rows_per_chunk(cols), rpb = rows_per_batch(cols);

  if (u.kind == UnitKind::Cast) {
    std::vector<uint8_t> out;
    for (auto* s : u.sources) {
      for (uint64_t r0 = 0; r0 < rows; r0 += rpb) {
        const uint64_t nr = std::min(rpb, rows - r0);
        out.resize(nr * cols * oes);
        const std::size_t nchunks = static_cast<std::size_t>((nr + rpc - 1) / rpc);
        pf(nchunks, [&](std::size_t ci) {
          const uint64_t a = ci * rpc, b = std::min(nr, a + rpc), n = (b - a) * cols;
          std::vector<uint8_t> raw(n * ies);
          std::vector<float> f(n);
          ck.sources.at(s->file)->read(s->offset + (r0 + a) * cols * ies, raw.size(), raw.data());
          to_f32(s->dtype, raw.data(), n, f.data());  // NaN/Inf are carried over as they are
          from_f32(u.out_dtype, f.data(), n, out.data() + a * cols * oes);
        });
        sink(out.data(), out.size());
        done += nr * cols * ies;
        if (progress) progress(done);
      }
    }
    return;
  }

  // Quantize: packed codes stream out batch by batch; scales/biases (1/8 of the packed size or less) are
  // kept for the unit and follow the weight.
  const QConfig c = u.config;
  const uint64_t row_bytes = cols * c.bits / 8, gpr = cols / c.group;
  const std::size_t nsrc = u.sources.size();
  std::vector<uint8_t> scales(nsrc * rows * gpr * oes), biases(scales.size()), packed;
  const bool round_input = u.out_dtype != t0.dtype;  // F32 written as F16/BF16: quantize the rounded weight
  for (std::size_t si = 0; si < nsrc; ++si) {
    const TensorInfo& s = *u.sources[si];
    for (uint64_t r0 = 0; r0 < rows; r0 += rpb) {
      const uint64_t nr = std::min(rpb, rows - r0);
      packed.resize(nr * row_bytes);
      const std::size_t nchunks = static_cast<std::size_t>((nr + rpc - 1) / rpc);
      std::vector<char> finite(nchunks, 1);
      pf(nchunks, [&](std::size_t ci) {
        const uint64_t a = ci * rpc, b = std::min(nr, a + rpc), n = (b - a) * cols;
        std::vector<uint8_t> raw(n * ies);
        std::vector<float> w(n), sc((b - a) * gpr), bi((b - a) * gpr);
        ck.sources.at(s.file)->read(s.offset + (r0 + a) * cols * ies, raw.size(), raw.data());
        if (!to_f32(s.dtype, raw.data(), n, w.data())) {
          finite[ci] = 0;
          return;
        }
        if (round_input)
          for (auto& x : w) x = round_to_dtype(x, u.out_dtype);
        quantize_rows(w.data(), b - a, cols, c, u.out_dtype, packed.data() + a * row_bytes, sc.data(), bi.data());
        const uint64_t g0 = (si * rows + r0 + a) * gpr;
        from_f32(u.out_dtype, sc.data(), sc.size(), scales.data() + g0 * oes);
        from_f32(u.out_dtype, bi.data(), bi.size(), biases.data() + g0 * oes);
      });
      for (char f : finite)
        if (!f) fail(ck.files.at(s.file) + ": tensor '" + s.name + "' contains NaN or Inf; cannot quantize it (keep it)");
      sink(packed.data(), packed.size());
      done += nr * cols * ies;
      if (progress) progress(done);
    }
  }
  sink(scales.data(), scales.size());
  sink(biases.data(), biases.size());
}

}  // namespace squint
