#include "convert/gguf_transcode.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "quant/ggml_quants.h"
#include "util/chunks.h"
#include "util/error.h"

namespace squint {

namespace {

uint32_t type_id(const char* name) {
  const GgmlTypeInfo* i = ggml_type_from_name(std::string_view(name));
  if (!i) fail(std::string("internal error: no ggml type ") + name);
  return static_cast<uint32_t>(i->type);
}

uint32_t float_type(DType d) { return d == DType::F32 ? ggml_id::F32 : d == DType::BF16 ? ggml_id::BF16 : ggml_id::F16; }

// The GGUF type of a logical MLX tensor (see the header).
uint32_t transcode_type(const LogicalTensor& t) {
  if (!t.quant) return float_type(t.dtype);
  const uint64_t cols = logical_cols(t);
  const bool k = cols % 256 == 0;
  switch (t.quant->bits) {
    case 4: return ggml_id::Q4_1;
    case 5: return ggml_id::Q5_1;
    case 8: return ggml_id::Q8_0;
    case 6: return k ? type_id("Q6_K") : ggml_id::Q8_0;
    case 3: return k ? type_id("Q3_K") : ggml_id::Q4_0;
    case 2: return k ? type_id("Q2_K") : ggml_id::Q4_0;
    default: fail(t.name + ": MLX bits " + std::to_string(t.quant->bits) + " have no GGUF type");
  }
}

}  // namespace

bool mlx_block_to_ggml(const uint8_t* codes, float scale, float bias, int bits, uint8_t* out) {
  const uint16_t d = f32_to_f16(scale), m = f32_to_f16(bias);
  if (!(f16_to_f32(d) == scale) || !(f16_to_f32(m) == bias)) return false;
  // block_q4_1 / block_q5_1 (ggml-common.h): d, m as little-endian F16, then (Q5_1) qh: bit j = bit 4 of
  // element j, then qs[j] = element j in the low nibble, element j+16 in the high one.
  out[0] = static_cast<uint8_t>(d & 0xff);
  out[1] = static_cast<uint8_t>(d >> 8);
  out[2] = static_cast<uint8_t>(m & 0xff);
  out[3] = static_cast<uint8_t>(m >> 8);
  uint8_t* qs = out + 4;
  if (bits == 5) {
    uint32_t qh = 0;
    for (int j = 0; j < 32; ++j) qh |= static_cast<uint32_t>((codes[j] >> 4) & 1u) << j;
    for (int b = 0; b < 4; ++b) out[4 + b] = static_cast<uint8_t>(qh >> (8 * b));
    qs = out + 8;
  } else if (bits != 4) {
    fail("internal error: mlx_block_to_ggml for " + std::to_string(bits) + " bits");
  }
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>((codes[j] & 0x0f) | ((codes[j + 16] & 0x0f) << 4));
  return true;
}

GgufModelLayout gguf_transcode_layout(const MlxModel& m, Checkpoint& logical) {
  logical.location = m.ck.location;
  logical.config = m.ck.config;
  logical.tensors.clear();
  for (const auto& lt : m.tensors) {
    TensorInfo ti;
    ti.name = lt.name;
    ti.dtype = lt.dtype;
    ti.shape = lt.shape;
    logical.tensors.push_back(std::move(ti));
  }
  return gguf_llama_layout(logical, [&](const TensorInfo& ti) { return transcode_type(*m.find(ti.name)); });
}

TranscodeReport stream_gguf_transcode(const MlxModel& m, const GgufModelLayout& L, const std::vector<GgufKV>& extra_kv,
                                      const ByteSink& sink,
                                      const std::function<void(uint64_t, uint64_t, const std::string&)>& progress) {
  const GgufLayoutHeader h = gguf_layout_header(L, extra_kv);
  const std::vector<GgufTensorSpec>& specs = h.specs;
  GgufStreamWriter w(h.kv, specs, sink);
  TranscodeReport rep;
  const uint64_t total = h.tensor_bytes;
  uint64_t done = 0;
  std::vector<float> x, y, s, b;
  std::vector<uint8_t> out, packed, raw, codes;
  for (std::size_t i = 0; i < L.tensors.size(); ++i) {
    const GgufTensorPlan& t = L.tensors[i];
    const uint64_t rows = t.rows(), cols = t.cols(), nbytes = specs[i].nbytes();
    const uint64_t row_bytes = rows ? nbytes / rows : 0;
    out.resize(nbytes);
    if (t.hf_name.empty()) {  // generated (rope_freqs)
      gguf_encode_rows(t.type, t.generated.data(), rows, cols, out.data());
    } else {
      const LogicalTensor* lt = m.find(t.hf_name);
      if (!lt) fail(m.ck.location + ": tensor '" + t.hf_name + "' disappeared");
      TranscodeTensor r;
      r.name = t.hf_name;
      r.gguf_name = t.gguf_name;
      r.source = lt->quant ? config_name(*lt->quant) : std::string(dtype_name(lt->dtype));
      r.type = t.type;
      r.params = rows * cols;
      const bool copy = lt->quant && lt->quant->group % 32 == 0 && (t.type == ggml_id::Q4_1 || t.type == ggml_id::Q5_1);
      const GgmlTypeInfo* gi = ggml_type_from_id(t.type);
      const uint64_t block = gi && gi->block > 1 ? static_cast<uint64_t>(gi->block) : 0;
      if (block) r.blocks = rows * cols / block;
      double ref2 = 0, err2 = 0;
      bool equal = true;
      const uint64_t step = rows_per_batch(cols);  // rows are independent: the bytes do not depend on it
      for (uint64_t r0 = 0; r0 < rows; r0 += step) {
        const uint64_t n = std::min(step, rows - r0);
        x.resize(n * cols);
        if (!read_logical_rows_f32(m, *lt, r0, n, x.data())) fail(m.ck.location + ": tensor '" + t.hf_name + "' holds NaN or Inf");
        uint8_t* dst = out.data() + r0 * row_bytes;
        if (copy) {
          const QConfig c = *lt->quant;
          const uint64_t mlx_row = cols * static_cast<uint64_t>(c.bits) / 8, gpr = cols / static_cast<uint64_t>(c.group);
          const uint64_t ses = dtype_bits(lt->scales->dtype) / 8;
          packed.resize(n * mlx_row);
          m.ck.sources.at(lt->weight->file)->read(lt->weight->offset + r0 * mlx_row, packed.size(), packed.data());
          raw.resize(n * gpr * ses);
          s.resize(n * gpr);
          b.resize(n * gpr);
          m.ck.sources.at(lt->scales->file)->read(lt->scales->offset + r0 * gpr * ses, raw.size(), raw.data());
          to_f32(lt->scales->dtype, raw.data(), s.size(), s.data());
          m.ck.sources.at(lt->biases->file)->read(lt->biases->offset + r0 * gpr * ses, raw.size(), raw.data());
          to_f32(lt->biases->dtype, raw.data(), b.size(), b.data());
          codes.resize(cols);
          const uint64_t bb = static_cast<uint64_t>(gi->block_bytes);
          for (uint64_t row = 0; row < n; ++row) {
            unpack_codes(packed.data() + row * mlx_row, cols, c.bits, codes.data());
            for (uint64_t k = 0; k < cols / 32; ++k) {
              const uint64_t g = row * gpr + k * 32 / static_cast<uint64_t>(c.group);
              uint8_t* blk = dst + row * row_bytes + k * bb;
              if (!mlx_block_to_ggml(codes.data() + k * 32, s[g], b[g], c.bits, blk)) {
                gguf_encode_rows(t.type, x.data() + row * cols + k * 32, 1, 32, blk);
                ++r.requantized_blocks;
              }
            }
          }
        } else {
          gguf_encode_rows(t.type, x.data(), n, cols, dst);
        }
        // What a reader gets back, against the MLX values.
        y.resize(x.size());
        gguf_decode_rows(t.type, dst, n, cols, y.data());
        for (std::size_t k = 0; k < x.size(); ++k) {
          const double e = static_cast<double>(y[k]) - static_cast<double>(x[k]);
          ref2 += static_cast<double>(x[k]) * x[k];
          err2 += e * e;
          uint32_t ux, uy;
          std::memcpy(&ux, &x[k], 4);
          std::memcpy(&uy, &y[k], 4);
          equal = equal && ux == uy;
        }
      }
      if (!copy && block) r.requantized_blocks = r.blocks;  // no lossless form: every block requantized
      r.copied = copy;
      r.lossless = equal;
      r.sqnr_db = err2 == 0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(ref2 / err2);
      rep.tensors.push_back(std::move(r));
      rep.tensor_bytes += nbytes;
    }
    if (t.permute_heads > 0) {  // whole rows move, so the quantized rows are permuted as bytes
      std::vector<float> idx(rows), to(rows);
      for (uint64_t r = 0; r < rows; ++r) idx[r] = static_cast<float>(r);
      permute_qk_rows(idx.data(), to.data(), rows, 1, t.permute_heads, false);
      std::vector<uint8_t> p(nbytes);
      for (uint64_t r = 0; r < rows; ++r)
        std::memcpy(p.data() + r * row_bytes, out.data() + static_cast<uint64_t>(to[r]) * row_bytes, row_bytes);
      out.swap(p);
    }
    w.write(out.data(), out.size());
    done += out.size();
    if (progress) progress(done, total, t.gguf_name);
  }
  w.finish();
  rep.file_bytes = w.file_size();
  return rep;
}

}  // namespace squint
