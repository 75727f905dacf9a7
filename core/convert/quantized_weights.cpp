#include "convert/quantized_weights.h"

#include <map>

#include "convert/gguf_llama.h"
#include "convert/mlx_layout.h"
#include "io/gguf.h"
#include "quant/ggml_quants.h"
#include "util/chunks.h"
#include "util/error.h"

namespace squint {

namespace {

// The float values of weight `name` as every WeightSource here starts from (nullptr: no such tensor).
const TensorInfo* read_weight_f32(const Checkpoint& ck, const std::string& name, std::vector<int64_t>* shape,
                                  std::vector<float>* data) {
  const TensorInfo* t = ck.find(name);
  if (!t) return nullptr;
  *shape = t->shape;
  data->resize(t->numel());
  std::vector<uint8_t> scratch;
  if (!read_tensor_f32(ck, *t, data->data(), scratch)) fail(ck.location + ": weight '" + name + "' contains NaN or Inf");
  return t;
}

// A GGUF plan as `quantize --format gguf --plan` writes it and `eval FILE.gguf` reads it back: 1-D tensors F32
// (the source values), kept matrices in their output dtype, quantized ones encoded in the plan's ggml type from
// the source rounded to its output dtype and decoded again. The file's Q/K row permutation is left out: ggml
// blocks run along a row, so quantizing permuted rows and undoing the permutation gives these same values.
WeightSource gguf_quantized_weights(const Checkpoint& ck, const Plan& plan, const ParallelFor& pf,
                                    const ModelImatrix* imatrix) {
  if (plan.fingerprint != ck.fingerprint)
    fail("plan was made for a different model: plan fingerprint " + plan.fingerprint + ", model " + ck.location +
         " has " + ck.fingerprint);
  check_plan_imatrix(plan.imatrix, imatrix ? &imatrix->ref : nullptr, "the plan");
  std::map<std::string, uint32_t> quant;  // tensor -> ggml type id
  for (const auto& pt : plan.tensors) {
    const TensorInfo* t = ck.find(pt.name);
    if (!t) fail("plan names tensor '" + pt.name + "', which is not in " + ck.location);
    if (pt.keep() || t->shape.size() < 2) continue;
    const GgmlTypeInfo* gi = ggml_type_from_name(std::string_view(pt.type));
    if (!gi || gi->block <= 1) fail("plan: tensor '" + pt.name + "' has no GGUF quantization type");
    if (t->cols() % static_cast<uint64_t>(gi->block))
      fail("plan: tensor '" + pt.name + "' has rows of " + std::to_string(t->cols()) + ", not a multiple of " + gi->name +
           "'s block of " + std::to_string(gi->block));
    quant[pt.name] = static_cast<uint32_t>(gi->type);
  }
  const DType f32_out = plan.f32_out_dtype;
  return [&ck, quant, f32_out, pf, imatrix](const std::string& name, std::vector<int64_t>* shape,
                                            std::vector<float>* data) {
    const TensorInfo* t = read_weight_f32(ck, name, shape, data);
    if (!t) return false;
    if (t->shape.size() < 2) return true;  // written as F32
    const DType out = output_dtype_for(t->dtype, f32_out);
    if (out != t->dtype)
      for (auto& x : *data) x = round_to_dtype(x, out);
    auto it = quant.find(name);
    if (it == quant.end()) return true;  // kept: the rounded values are the stored ones
    const uint32_t type = it->second;
    const uint64_t cols = t->cols(), rows = t->rows(), row_bytes = cols / gguf_type_size(type).block * gguf_type_size(type).bytes;
    if (rows == 0) return true;
    const std::vector<float>* iw = imatrix ? imatrix->find(name) : nullptr;
    // Chunks never straddle two experts of a 3-D stack, so each has one expert's importance weights.
    const uint64_t per_expert = t->shape.size() >= 3 ? static_cast<uint64_t>(t->shape[t->shape.size() - 2]) : rows;
    const uint64_t rpc = std::min(rows_per_chunk(cols), per_expert);
    const uint64_t chunks_per_expert = (per_expert + rpc - 1) / rpc;
    const std::size_t chunks = static_cast<std::size_t>(rows / per_expert * chunks_per_expert);
    float* w = data->data();
    pf(chunks, [&](std::size_t ci) {  // rows are independent: chunking does not change a bit
      const uint64_t e = ci / chunks_per_expert, r0 = e * per_expert + (ci % chunks_per_expert) * rpc;
      const uint64_t nr = std::min((e + 1) * per_expert, r0 + rpc) - r0;
      std::vector<uint8_t> bytes(nr * row_bytes);
      gguf_encode_rows(type, w + r0 * cols, nr, cols, bytes.data(), iw ? iw->data() + e * cols : nullptr);
      gguf_decode_rows(type, bytes.data(), nr, cols, w + r0 * cols);
    });
    return true;
  };
}

}  // namespace

WeightSource quantized_weights(const Checkpoint& ck, const Plan& plan, const ParallelFor& pf,
                               const ModelImatrix* imatrix) {
  if (plan.format == QFormat::Gguf) return gguf_quantized_weights(ck, plan, pf, imatrix);
  (void)plan_conversion(ck, plan);  // the checks `quantize` makes, with its messages
  std::map<std::string, QConfig> quant;
  for (const auto& t : plan.tensors)
    if (!t.keep()) quant[t.name] = {t.bits, t.group_size};
  const DType f32_out = plan.f32_out_dtype;
  return [&ck, quant, f32_out, pf](const std::string& name, std::vector<int64_t>* shape, std::vector<float>* data) {
    const TensorInfo* t = read_weight_f32(ck, name, shape, data);
    if (!t) return false;
    const uint64_t n = t->numel();
    const DType out = output_dtype_for(t->dtype, f32_out);
    auto it = quant.find(name);
    if (it == quant.end()) {
      if (out != t->dtype) {  // kept, cast as the writer casts: through the stored bytes
        std::vector<uint8_t> b(n * (dtype_bits(out) / 8));
        from_f32(out, data->data(), n, b.data());
        to_f32(out, b.data(), n, data->data());
      }
      return true;
    }
    const QConfig c = it->second;
    const uint64_t cols = t->cols(), rows = t->rows(), gpr = cols / static_cast<uint64_t>(c.group);
    if (out != t->dtype)  // F32 written as F16/BF16: the writer quantizes the rounded weight
      for (auto& x : *data) x = round_to_dtype(x, out);
    // Rows are independent, so chunking (fixed by the shape) does not change a bit.
    const uint64_t rpc = rows_per_chunk(cols);
    const std::size_t chunks = static_cast<std::size_t>((rows + rpc - 1) / rpc);
    float* w = data->data();
    pf(chunks, [&](std::size_t ci) {
      const uint64_t r0 = ci * rpc, nr = std::min(rows, r0 + rpc) - r0;
      std::vector<uint8_t> packed(nr * cols * static_cast<uint64_t>(c.bits) / 8);
      std::vector<float> sc(nr * gpr), bi(nr * gpr);
      quantize_rows(w + r0 * cols, nr, cols, c, out, packed.data(), sc.data(), bi.data());
      dequantize_rows(packed.data(), sc.data(), bi.data(), nr, cols, c, w + r0 * cols);
    });
    return true;
  };
}

std::set<std::string> plan_changed_tensors(const Checkpoint& ck, const Plan& plan) {
  std::set<std::string> quantized, out;
  for (const auto& pt : plan.tensors)
    if (!pt.keep()) quantized.insert(pt.name);
  for (const auto& t : ck.tensors) {
    // As the sources above: a GGUF plan passes 1-D tensors through as F32; any other tensor changes when it
    // is quantized or cast to another output dtype.
    if (plan.format == QFormat::Gguf && t.shape.size() < 2) continue;
    if (quantized.count(t.name) || output_dtype_for(t.dtype, plan.f32_out_dtype) != t.dtype) out.insert(t.name);
  }
  return out;
}

WeightSource float_weights(const Checkpoint& ck) {
  return [&ck](const std::string& name, std::vector<int64_t>* shape, std::vector<float>* data) {
    return read_weight_f32(ck, name, shape, data) != nullptr;
  };
}

}  // namespace squint
