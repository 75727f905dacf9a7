#pragma once
// The pieces ggml's IQ2/IQ3 quantizers share (ggml-quants.c): the neighbour search of an off-grid point, the
// codes of a group at a trial scale, signs split off with or without the even-parity rule, and the weighted
// sums that score a trial. Inline: they run in the innermost loops.
#include "quant/ggml_impl.h"
#include "quant/ggml_iq_grids.h"
#include "util/error.h"

namespace squint::ggml {

// Where ggml asserts (no neighbour at a finite distance, a scale that is not >= 0: only values so large that
// the float sums overflow get there, e.g. |x| ~ 1e15 for IQ3_XXS) and so aborts the process, the port refuses.
[[noreturn]] inline void fail_iq_overflow(const char* type) {
  fail(std::string(type) +
       ": values too large for ggml's grid search (its float sums overflow; llama.cpp aborts on them)");
}

// iq2_find_best_neighbour / iq3_find_best_neighbour (ggml-quants.c): among the neighbour list of an off-grid
// point, the grid point nearest to xval at `scale` in the weighted distance (first wins ties); its codes
// (coordinate - 1) / 2 go to L. Returns its grid index.
template <int kDims>
inline int find_best_neighbour(const uint16_t* neighbours, const IqSearchGrid& g, const float* xval,
                               const float* weight, float scale, int8_t* L) {
  const int num_neighbors = neighbours[0];
  float best_d2 = 3.402823466e+38f;  // FLT_MAX
  int grid_index = -1;
  for (int j = 1; j <= num_neighbors; ++j) {
    const int8_t* pg = g.point(neighbours[j]);
    float d2 = 0;
    for (int i = 0; i < kDims; ++i) {
      float q = pg[i];
      float diff = scale * q - xval[i];
      d2 += weight[i] * diff * diff;
    }
    if (d2 < best_d2) {
      best_d2 = d2;
      grid_index = neighbours[j];
    }
  }
  if (grid_index < 0) fail_iq_overflow(g.type_name);
  const int8_t* pg = g.point(grid_index);
  for (int i = 0; i < kDims; ++i) L[i] = static_cast<int8_t>((pg[i] - 1) / 2);
  return grid_index;
}

// |x| into xval and the sign bits of 8 weights; with kParity an odd count of minus signs is made even by
// flipping the weight with the smallest weight·x² (ggml's block_signs, 7 bits kept).
template <bool kParity>
inline uint8_t split_signs(const float* xb, const float* weight, float* xval) {
  int nflip = 0;
  uint8_t s = 0;
  for (int i = 0; i < 8; ++i) {
    if (xb[i] >= 0) {
      xval[i] = xb[i];
    } else {
      xval[i] = -xb[i];
      ++nflip;
      s |= static_cast<uint8_t>(1 << i);
    }
  }
  if (kParity) {
    if (nflip % 2) {
      int imin = 0;
      float min = weight[imin] * xb[imin] * xb[imin];
      for (int i = 1; i < 8; ++i) {
        float ax = weight[i] * xb[i] * xb[i];
        if (ax < min) {
          min = ax;
          imin = i;
        }
      }
      xval[imin] = -xval[imin];
      s ^= static_cast<uint8_t>(1 << imin);
    }
    return s & 127;
  }
  return s;
}

// The codes of one group (kDims weights, kBits per code) at inverse scale id: clamp(nearest_int((id·x − 1)/2)),
// and when that point is off the grid, its best neighbour at `scale` (the IQ2/IQ3 trial loops). Returns whether
// the point was on the grid; L gets the codes of the chosen grid point.
template <int kDims, int kBits>
bool codes_on_grid(const IqSearchGrid& g, const float* xval, const float* waux, float id, float scale, int kMaxQ,
                   int8_t* L) {
  for (int i = 0; i < kDims; ++i) {
    int l = nearest_int(0.5f * (id * xval[i] - 1));
    L[i] = static_cast<int8_t>(max_(0, min_(kMaxQ - 1, l)));
  }
  uint16_t u = 0;
  for (int i = 0; i < kDims; ++i) u = static_cast<uint16_t>(u | (L[i] << kBits * i));
  if (g.map[u] >= 0) return true;
  find_best_neighbour<kDims>(g.neighbours_of(u), g, xval, waux, scale, L);
  return false;
}

// The grid index of codes that are on the grid (ggml aborts if they are not; they always are here).
template <int kDims, int kBits>
int grid_index_of(const IqSearchGrid& g, const int8_t* L) {
  uint16_t u = 0;
  for (int i = 0; i < kDims; ++i) u = static_cast<uint16_t>(u | (L[i] << kBits * i));
  return max_(0, g.map[u]);
}

template <int kN>
inline void weighted_sums(const float* weight, const float* xval, const int8_t* L, float& sumqx, float& sumq2) {
  sumqx = 0;
  sumq2 = 0;
  for (int i = 0; i < kN; ++i) {
    float w = weight[i];
    float q = 2 * L[i] + 1;
    sumqx += w * xval[i] * q;
    sumq2 += w * q * q;
  }
}

}  // namespace squint::ggml
