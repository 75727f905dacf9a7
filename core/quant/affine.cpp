#include "quant/affine.h"

#include <algorithm>
#include <cstring>

#include "quant/simd.h"

namespace squint {

std::vector<QConfig> all_configs() {
  std::vector<QConfig> out;
  for (int g : kAllGroups)
    for (int b : kAllBits) out.push_back({b, g});
  return out;
}

QConfig gguf_config(GgmlType t) {
  const GgmlTypeInfo* i = ggml_type_info(t);
  return {i->nominal_bits, i->block, QFormat::Gguf, t};
}

std::vector<QConfig> all_gguf_configs(bool with_imatrix) {
  std::vector<QConfig> out;
  for (GgmlType t : ggml_quant_types())
    if (with_imatrix || !llama_requires_imatrix(t)) out.push_back(gguf_config(t));
  return out;
}

std::string config_name(QConfig c) {
  if (c.gguf()) return ggml_type_info(c.type)->name;
  return std::to_string(c.bits) + "/" + std::to_string(c.group);
}

const char* format_name(QFormat f) { return f == QFormat::Gguf ? "gguf" : "mlx"; }

void pack_codes(const uint8_t* codes, std::size_t n, int bits, uint8_t* out) {
  const std::size_t nbytes = n * bits / 8;
  std::memset(out, 0, nbytes);
  if (bits == 8) {
    std::memcpy(out, codes, n);
    return;
  }
  // Element j occupies bits [j*b, (j+1)*b) of the row's little-endian bit stream.
  uint64_t acc = 0;
  int nacc = 0;
  std::size_t o = 0;
  for (std::size_t j = 0; j < n; ++j) {
    acc |= static_cast<uint64_t>(codes[j]) << nacc;
    nacc += bits;
    while (nacc >= 8) {
      out[o++] = static_cast<uint8_t>(acc & 0xff);
      acc >>= 8;
      nacc -= 8;
    }
  }
  if (nacc > 0) out[o] = static_cast<uint8_t>(acc & 0xff);
}

void unpack_codes(const uint8_t* packed, std::size_t n, int bits, uint8_t* codes) {
  if (bits == 8) {
    std::memcpy(codes, packed, n);
    return;
  }
  const uint32_t mask = (1u << bits) - 1u;
  uint64_t acc = 0;
  int nacc = 0;
  std::size_t i = 0;
  for (std::size_t j = 0; j < n; ++j) {
    while (nacc < bits) {
      acc |= static_cast<uint64_t>(packed[i++]) << nacc;
      nacc += 8;
    }
    codes[j] = static_cast<uint8_t>(acc & mask);
    acc >>= bits;
    nacc -= bits;
  }
}

namespace {

inline void group_minmax(const float* p, int g, float* lo, float* hi) {
  using namespace simd;
  F8 mn = load(p), mx = mn;
  for (int j = 8; j < g; j += 8) {
    F8 x = load(p + j);
    mn = min(mn, x);
    mx = max(mx, x);
  }
  *lo = hmin(mn);
  *hi = hmax(mx);
}

// Eight groups side by side, one per lane: MLX's per-group parameters computed lane-wise, with exactly the
// operations of mlx_group_params, then the dequantizer.
struct Lanes {
  simd::F8 s, b, n, z, sr, br;
  simd::F8 dequant(simd::F8 x) const {
    using namespace simd;
    const F8 q = round_even(min(max((x - b) / s, z), n));
    return q * sr + br;
  }
};

inline simd::F8 round_lanes_to(simd::F8 x, DType t) {
  if (t == DType::F32) return x;
#ifdef SQUINT_F8_HAS_F16C
  if (t == DType::F16) return simd::round_to_f16(x);
#endif
#ifdef SQUINT_F8_HAS_BF16
  if (t == DType::BF16) return simd::round_to_bf16(x);
#endif
  alignas(32) float v[8];
  simd::store(v, x);
  for (float& f : v) f = round_to_dtype(f, t);
  return simd::load(v);
}

inline Lanes make_lanes(simd::F8 lo, simd::F8 hi, int bits, DType sdt) {
  using namespace simd;
  const F8 n_bins = set1(static_cast<float>((1 << bits) - 1)), eps = set1(1e-7f), zero = set1(0.0f);
  const F8 mask = lt(abs(hi), abs(lo));
  F8 scale = (hi - lo) / n_bins;
  scale = select(lt(scale, eps), eps, scale);
  scale = select(mask, scale, zero - scale);
  const F8 edge = select(mask, lo, hi);
  const F8 q0 = round_even(edge / scale);
  const F8 nz = ne(q0, zero);
  scale = select(nz, edge / q0, scale);
  const F8 bias = select(nz, edge, zero);
  return {scale, bias, n_bins, zero, round_lanes_to(scale, sdt), round_lanes_to(bias, sdt)};
}

}  // namespace

void quantize_rows(const float* w, std::size_t rows, std::size_t cols, QConfig c, DType sdt, uint8_t* packed,
                   float* scales, float* biases) {
  const std::size_t gpr = cols / c.group;
  const std::size_t row_bytes = cols * c.bits / 8;
  const float n_bins = static_cast<float>((1 << c.bits) - 1);
  std::vector<uint8_t> codes(cols);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* wr = w + r * cols;
    for (std::size_t k = 0; k < gpr; ++k) {
      const float* p = wr + k * c.group;
      float lo, hi;
      group_minmax(p, c.group, &lo, &hi);
      const GroupParams gp = mlx_group_params(lo, hi, c.bits);
      for (int j = 0; j < c.group; ++j) {
        float q = rint_f((p[j] - gp.bias) / gp.scale);
        q = std::min(std::max(q, 0.0f), n_bins);
        codes[k * c.group + j] = static_cast<uint8_t>(q);
      }
      scales[r * gpr + k] = round_to_dtype(gp.scale, sdt);
      biases[r * gpr + k] = round_to_dtype(gp.bias, sdt);
    }
    pack_codes(codes.data(), cols, c.bits, packed + r * row_bytes);
  }
}

void dequantize_rows(const uint8_t* packed, const float* scales, const float* biases, std::size_t rows,
                     std::size_t cols, QConfig c, float* out) {
  const std::size_t gpr = cols / c.group;
  const std::size_t row_bytes = cols * c.bits / 8;
  std::vector<uint8_t> codes(cols);
  for (std::size_t r = 0; r < rows; ++r) {
    unpack_codes(packed + r * row_bytes, cols, c.bits, codes.data());
    for (std::size_t k = 0; k < gpr; ++k) {
      const float s = scales[r * gpr + k], b = biases[r * gpr + k];
      for (int j = 0; j < c.group; ++j) {
        std::size_t i = k * c.group + j;
        out[r * cols + i] = s * static_cast<float>(codes[i]) + b;
      }
    }
  }
}

double measure_rows(const float* w, const float* ref, std::size_t rows, std::size_t cols, const QConfig* configs,
                    std::size_t nconfigs, DType sdt, double* err_out) {
  using namespace simd;
  double signal = 0.0;
  // Σ ref², in 128-element blocks (cols is a multiple of 32 whenever any config is valid; the tail is scalar).
  const std::size_t n = rows * cols;
  {
    std::size_t i = 0;
    for (; i + 32 <= n; i += 32) {
      F8 a = load(ref + i), b = load(ref + i + 8), cc = load(ref + i + 16), d = load(ref + i + 24);
      F8 s = (a * a + b * b) + (cc * cc + d * d);
      signal += static_cast<double>(hsum(s));
    }
    for (; i < n; ++i) signal += static_cast<double>(ref[i]) * ref[i];
  }
  for (std::size_t ci = 0; ci < nconfigs; ++ci) err_out[ci] = 0.0;

  // Per group size: eight groups are transposed into lanes, so min/max, the parameters and the error
  // sums are all lane-wise. Each group's error is a sequential float sum over its elements, added to the
  // double total in group order: the result is the same for any SIMD width (native, wasm, scalar).
  alignas(32) float tw[8 * 128], tr[8 * 128], eg[8];
  for (int g : kAllGroups) {
    int bits_for_g[8];
    std::size_t idx_for_g[8];
    int nb = 0;
    for (std::size_t ci = 0; ci < nconfigs; ++ci)
      if (configs[ci].group == g) {
        bits_for_g[nb] = configs[ci].bits;
        idx_for_g[nb] = ci;
        ++nb;
      }
    if (nb == 0) continue;
    const std::size_t ngroups = n / g;
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (std::size_t blk = 0; blk < ngroups; blk += 8) {
      const std::size_t m = std::min<std::size_t>(8, ngroups - blk);
      for (std::size_t k = 0; k < 8; ++k) {  // a short last block repeats its last group in spare lanes
        const std::size_t gi = blk + std::min(k, m - 1);
        const float* src = w + gi * g;
        const float* srr = ref + gi * g;
        for (int j = 0; j < g; ++j) {
          tw[j * 8 + k] = src[j];
          tr[j * 8 + k] = srr[j];
        }
      }
      F8 lo = load(tw), hi = lo;
      for (int j = 1; j < g; ++j) {
        const F8 x = load(tw + 8 * j);
        lo = min(lo, x);
        hi = max(hi, x);
      }
      // Two bit widths per sweep: independent dependency chains keep the divider busy.
      int bi = 0;
      for (; bi < nb; bi += 2) {
        const bool two = bi + 1 < nb;
        const Lanes la = make_lanes(lo, hi, bits_for_g[bi], sdt);
        const Lanes lb = make_lanes(lo, hi, bits_for_g[two ? bi + 1 : bi], sdt);
        F8 ea = set1(0.0f), eb = ea;
        for (int j = 0; j < g; ++j) {
          const F8 x = load(tw + 8 * j), r = load(tr + 8 * j);
          const F8 da = r - la.dequant(x), db = r - lb.dequant(x);
          ea = ea + da * da;
          eb = eb + db * db;
        }
        store(eg, ea);
        for (std::size_t k = 0; k < m; ++k) acc[bi] += static_cast<double>(eg[k]);
        if (two) {
          store(eg, eb);
          for (std::size_t k = 0; k < m; ++k) acc[bi + 1] += static_cast<double>(eg[k]);
        }
      }
    }
    for (int b = 0; b < nb; ++b) err_out[idx_for_g[b]] = acc[b];
  }
  return signal;
}

}  // namespace squint
