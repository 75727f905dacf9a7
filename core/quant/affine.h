#pragma once
// MLX-compatible affine round-to-nearest quantization (formats.md A.1/A.2), bit-exact with MLX's CPU
// kernel: signed scale, zero-exact edge, ties to even; scale/bias rounded to the stored float dtype.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "quant/ggml_quants.h"

namespace squint {

// A candidate quantization: MLX affine (bits, group), or a GGUF type. For GGUF, `bits` is the type's
// nominal width (Q4_K, IQ4_XS -> 4; Q8_0 -> 8) and `group` its block size (32 or 256), so the
// --bits/--group-sizes filters and the planner treat both formats alike; `type` tells the types apart.
enum class QFormat : uint8_t { Mlx, Gguf };
struct QConfig {
  int bits = 4;
  int group = 64;
  QFormat format = QFormat::Mlx;
  GgmlType type = GgmlType::F32;  // GGUF only (unused for MLX)
  bool operator==(const QConfig&) const = default;
  bool gguf() const { return format == QFormat::Gguf; }
};
QConfig gguf_config(GgmlType t);           // {nominal bits, block, Gguf, t}
// The GGUF candidates, in ggml id order: with an importance matrix all 19 ggml_quant_types(); without one the
// 13 that llama.cpp quantizes without one (all but those llama_requires_imatrix: Q4_0..Q8_0, Q2_K..Q6_K,
// IQ4_NL, IQ3_S, IQ4_XS).
std::vector<QConfig> all_gguf_configs(bool with_imatrix = false);
// How a config is printed everywhere: "4/64" (MLX) or "Q4_K" (GGUF).
std::string config_name(QConfig c);
const char* format_name(QFormat f);        // "mlx" | "gguf"

constexpr int kAllBits[] = {2, 3, 4, 5, 6, 8};
constexpr int kAllGroups[] = {32, 64, 128};
std::vector<QConfig> all_configs();  // the 18 (b, g), ordered by g then b

struct GroupParams {
  float scale;  // float32 scale used to compute the codes (may be negative)
  float bias;
};

// MLX CPU `quantize<T,U>` group parameters for a group with minimum lo and maximum hi.
inline GroupParams mlx_group_params(float lo, float hi, int bits);

// Quantizes a [rows, cols] row-major matrix. `packed` receives rows * cols*bits/8 bytes (each row one
// little-endian bit stream); `scales`/`biases` receive rows*cols/group floats already rounded to `sdt`
// (what is stored). Codes are computed from the unrounded float32 parameters, as MLX does.
void quantize_rows(const float* w, std::size_t rows, std::size_t cols, QConfig c, DType sdt, uint8_t* packed,
                   float* scales, float* biases);

// ŵ = scale·q + bias in float32, from packed codes and stored (rounded) scales/biases.
void dequantize_rows(const uint8_t* packed, const float* scales, const float* biases, std::size_t rows,
                     std::size_t cols, QConfig c, float* out);

// Packs / unpacks one row's codes (cols values in [0, 2^bits)).
void pack_codes(const uint8_t* codes, std::size_t n, int bits, uint8_t* out);
void unpack_codes(const uint8_t* packed, std::size_t n, int bits, uint8_t* codes);

// Squared error Σ(ref − ŵ)² of quantizing `w` (the quantizer input) for several configs at once, over a
// [rows, cols] block; ref may equal w. Each configs[i].group must divide cols. err_out[i] is accumulated
// in double, group by group in row-major order. Returns Σ ref² (double) too.
double measure_rows(const float* w, const float* ref, std::size_t rows, std::size_t cols, const QConfig* configs,
                    std::size_t nconfigs, DType sdt, double* err_out);

// Bytes of one quantized tensor of n elements: packed codes + scales + biases in `sdt`.
inline uint64_t quantized_bytes(uint64_t n, QConfig c, DType sdt) {
  return n * static_cast<uint64_t>(c.bits) / 8 + 2 * (n / static_cast<uint64_t>(c.group)) * (dtype_bits(sdt) / 8);
}

// ---- inline definitions ----
inline float rint_f(float x) { return __builtin_rintf(x); }

inline GroupParams mlx_group_params(float lo, float hi, int bits) {
  const float n_bins = static_cast<float>((1 << bits) - 1);
  const float eps = 1e-7f;
  const bool mask = __builtin_fabsf(lo) > __builtin_fabsf(hi);
  float scale = (hi - lo) / n_bins;
  scale = scale < eps ? eps : scale;
  scale = mask ? scale : -scale;
  const float edge = mask ? lo : hi;
  const float q0 = rint_f(edge / scale);
  float bias = 0.0f;
  if (q0 != 0.0f) {
    scale = edge / q0;
    bias = edge;
  }
  return {scale, bias};
}

}  // namespace squint
