#pragma once
// The grids of ggml's IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S and IQ1_M types: the dequantization tables of
// ggml-common.h (derived from the packed grid points) and the quantizers' search data that ggml builds in
// iq2xs_init_impl / iq3xs_init_impl (ggml-quants.c): each grid point's coordinates, the map from any point of
// the cube to its grid index, and for points off the grid the list of nearest grid points. The search data is
// built on first use of a grid (thread-safe), so a program that never quantizes to an IQ type never pays for it.
#include <cstdint>
#include <vector>

namespace squint::ggml {

// Packed grid points (ggml_iq_grid_tables.cpp): 2-bit coordinates (8 per point) or 3-bit (4 per point).
extern const uint16_t kGrid2bit256[256];    // IQ2_XXS
extern const uint16_t kGrid2bit512[512];    // IQ2_XS
extern const uint16_t kGrid2bit1024[1024];  // IQ2_S
extern const uint16_t kGrid1bit2048[2048];  // IQ1_S, IQ1_M
extern const uint16_t kGrid3bit256[256];    // IQ3_XXS
extern const uint16_t kGrid3bit512[512];    // IQ3_S

// ggml-common.h's dequantization grids, one value byte per coordinate (iq1s_grid's are int8: -1, 0, 1).
struct DequantGrids {
  uint8_t iq2xxs[256][8];
  uint8_t iq2xs[512][8];
  uint8_t iq2s[1024][8];
  uint8_t iq3xxs[256][4];
  uint8_t iq3s[512][4];
  int8_t iq1s[2048][8];
  uint8_t ksigns_iq2xs[128];  // i with bit 7 = the parity of i (an even number of minus signs)
};
const DequantGrids& dequant_grids();
constexpr uint8_t kmask_iq2xs[8] = {1, 2, 4, 8, 16, 32, 64, 128};

// One quantizer grid as iq2xs_init_impl / iq3xs_init_impl leave it.
struct IqSearchGrid {
  const char* type_name = "";        // the type it serves (for messages)
  int dims = 0;                      // coordinates per point: 8 (IQ2, IQ1) or 4 (IQ3)
  std::vector<int8_t> points;        // grid point k's coordinates 2l + 1 at points[dims*k ...]
  std::vector<int32_t> map;          // cube index -> grid index (>= 0), or -(offset + 1) of its neighbour list
  std::vector<uint16_t> neighbours;  // per off-grid point: the count n, then n grid indices nearest first
  const int8_t* point(int k) const { return points.data() + dims * k; }
  // The neighbour list of an off-grid cube index u (map[u] < 0): [count, indices...].
  const uint16_t* neighbours_of(int u) const { return neighbours.data() + (-map[u] - 1); }
};
enum class IqGridId { IQ2_XXS, IQ2_XS, IQ2_S, IQ1, IQ3_XXS, IQ3_S };
const IqSearchGrid& iq_search_grid(IqGridId id);

}  // namespace squint::ggml
