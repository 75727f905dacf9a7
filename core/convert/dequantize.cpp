#include "convert/dequantize.h"

#include "convert/mlx_names.h"
#include "io/shards.h"

#include <algorithm>
#include <cstdio>

#include "util/chunks.h"
#include "util/error.h"

namespace squint {

using nlohmann::json;

uint64_t DequantTensor::nbytes() const {
  uint64_t n = 1;
  for (auto d : shape) n *= static_cast<uint64_t>(d);
  return n * dtype_bits(dtype) / 8;
}

DequantLayout plan_dequantize(const MlxModel& m, std::optional<DType> dtype, uint64_t max_shard_bytes) {
  DequantLayout L;
  for (const auto& lt : m.tensors) {
    const bool floaty = lt.quant || is_float_measurable(lt.dtype);
    const DType out = floaty && dtype ? *dtype : lt.dtype;
    const uint64_t rows = logical_rows(lt);
    if (lt.shape.size() == 3 && unstacked_expert_name(lt.name, 0)) {
      const int64_t E = lt.shape[0];
      const uint64_t per = E ? rows / static_cast<uint64_t>(E) : 0;
      for (int64_t e = 0; e < E; ++e)
        L.tensors.push_back({*unstacked_expert_name(lt.name, static_cast<int>(e)), out, {lt.shape[1], lt.shape[2]}, &lt,
                             static_cast<uint64_t>(e) * per, per});
    } else {
      L.tensors.push_back({lt.name, out, lt.shape, &lt, 0, rows});
    }
  }
  std::vector<uint64_t> sizes;
  for (const auto& t : L.tensors) {
    sizes.push_back(t.nbytes());
    L.total_bytes += t.nbytes();
  }
  L.shards = split_shards(sizes, max_shard_bytes);
  L.shard_names = shard_file_names(L.shards.size());
  std::vector<std::vector<std::string>> names(L.shards.size());
  for (std::size_t s = 0; s < L.shards.size(); ++s)
    for (std::size_t i : L.shards[s]) names[s].push_back(L.tensors[i].name);
  L.index = shard_index(names, L.shard_names, L.total_bytes, nullptr);
  L.config = config_without_quantization(m.ck.config.raw);
  if (dtype) {
    L.config["torch_dtype"] = float_dtype_long_name(*dtype);
    if (L.config.contains("dtype")) L.config["dtype"] = float_dtype_long_name(*dtype);
  }
  return L;
}

void write_dequant_tensor(const MlxModel& m, const DequantTensor& t, const ParallelFor& pf, const ByteSink& sink) {
  const LogicalTensor& lt = *t.src;
  const uint64_t cols = logical_cols(lt);
  if (!lt.quant && !is_float_measurable(lt.dtype)) {  // integer tensors: copied byte for byte
    const TensorInfo& w = *lt.weight;
    const uint64_t es = dtype_bits(w.dtype) / 8;
    std::vector<uint8_t> buf(t.rows * cols * es);
    m.ck.sources.at(w.file)->read(w.offset + t.row0 * cols * es, buf.size(), buf.data());
    sink(buf.data(), buf.size());
    return;
  }
  const uint64_t oes = dtype_bits(t.dtype) / 8;
  const uint64_t rpc = rows_per_chunk(cols), rpb = rows_per_batch(cols);
  std::vector<uint8_t> out;
  for (uint64_t r0 = 0; r0 < t.rows; r0 += rpb) {
    const uint64_t nr = std::min(rpb, t.rows - r0);
    out.resize(nr * cols * oes);
    const std::size_t nchunks = static_cast<std::size_t>((nr + rpc - 1) / rpc);
    pf(nchunks, [&](std::size_t ci) {
      const uint64_t a = ci * rpc, b = std::min(nr, a + rpc);
      std::vector<float> f((b - a) * cols);
      read_logical_rows_f32(m, lt, t.row0 + r0 + a, b - a, f.data());  // NaN/Inf carried over as they are
      from_f32(t.dtype, f.data(), f.size(), out.data() + a * cols * oes);
    });
    sink(out.data(), out.size());
  }
}

}  // namespace squint
