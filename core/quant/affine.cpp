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

  // One pass per group size: min/max once per group, then every bit width on the L1-resident group.
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
    for (std::size_t k = 0; k < ngroups; ++k) {
      const float* p = w + k * g;
      const float* pr = ref + k * g;
      float lo, hi;
      group_minmax(p, g, &lo, &hi);
      for (int bi = 0; bi < nb; ++bi) {
        const int b = bits_for_g[bi];
        const GroupParams gp = mlx_group_params(lo, hi, b);
        const F8 vs = set1(gp.scale), vb = set1(gp.bias), vn = set1(static_cast<float>((1 << b) - 1)),
                 vz = set1(0.0f), vsr = set1(round_to_dtype(gp.scale, sdt)),
                 vbr = set1(round_to_dtype(gp.bias, sdt));
        F8 e0 = vz, e1 = vz;
        for (int j = 0; j < g; j += 16) {
          F8 x0 = load(p + j), x1 = load(p + j + 8);
          F8 q0 = round_even(min(max((x0 - vb) / vs, vz), vn));
          F8 q1 = round_even(min(max((x1 - vb) / vs, vz), vn));
          F8 d0 = load(pr + j) - (q0 * vsr + vbr);
          F8 d1 = load(pr + j + 8) - (q1 * vsr + vbr);
          e0 = e0 + d0 * d0;
          e1 = e1 + d1 * d1;
        }
        acc[bi] += static_cast<double>(hsum(e0 + e1));
      }
    }
    for (int bi = 0; bi < nb; ++bi) err_out[idx_for_g[bi]] = acc[bi];
  }
  return signal;
}

}  // namespace squint
