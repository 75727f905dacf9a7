// The IQ grids' derived tables. Dequantization: ggml-common.h's iq2xxs_grid & co. are the packed points of
// ggml-quants.c with each coordinate l mapped to a value (IQ2: 8, 25, 43; IQ3_XXS: 4 + 8l except 62 for l = 7;
// IQ3_S: 2l + 1; IQ1: l - 1). Search data: iq2xs_init_impl / iq3xs_init_impl, computed without their qsort
// (same result: a neighbour list is every grid point whose squared distance is among the `nwant` smallest,
// ordered by distance then index, which is what sorting (distance, index) pairs gives). Built for the points
// the quantizers can reach only (see make_search_grid): 0.1-0.3 s for all six grids, 5.8 MB.
#include "quant/ggml_iq_grids.h"

#include <algorithm>

namespace squint::ggml {
namespace {

template <int kDims, int kBits, class T, std::size_t N>
void unpack(const uint16_t* packed, T (&out)[N][kDims], const T* value_of) {
  for (std::size_t k = 0; k < N; ++k)
    for (int i = 0; i < kDims; ++i) out[k][i] = value_of[(packed[k] >> (kBits * i)) & ((1 << kBits) - 1)];
}

DequantGrids make_dequant_grids() {
  DequantGrids g{};
  const uint8_t v2[4] = {8, 25, 43, 0};  // IQ2 grids use l = 0..2 only
  const uint8_t v3xxs[8] = {4, 12, 20, 28, 36, 44, 52, 62};
  const uint8_t v3s[8] = {1, 3, 5, 7, 9, 11, 13, 15};
  const int8_t v1[4] = {-1, 0, 1, 0};
  unpack<8, 2>(kGrid2bit256, g.iq2xxs, v2);
  unpack<8, 2>(kGrid2bit512, g.iq2xs, v2);
  unpack<8, 2>(kGrid2bit1024, g.iq2s, v2);
  unpack<4, 3>(kGrid3bit256, g.iq3xxs, v3xxs);
  unpack<4, 3>(kGrid3bit512, g.iq3s, v3s);
  unpack<8, 2>(kGrid1bit2048, g.iq1s, v1);
  for (int i = 0; i < 128; ++i) g.ksigns_iq2xs[i] = static_cast<uint8_t>(i | ((__builtin_popcount(i) & 1) << 7));
  return g;
}

// iq2xs_init_impl (dims 8, 2 bits, cube of 43692 indices) / iq3xs_init_impl (dims 4, 3 bits, 4096).
IqSearchGrid make_search_grid(const char* type_name, const uint16_t* packed, int grid_size, int dims, int bits,
                              int kmap_size, int nwant) {
  IqSearchGrid g;
  g.type_name = type_name;
  g.dims = dims;
  const int mask = (1 << bits) - 1;
  g.points.resize(static_cast<std::size_t>(grid_size * dims));
  for (int k = 0; k < grid_size; ++k)
    for (int i = 0; i < dims; ++i)
      g.points[k * dims + i] = static_cast<int8_t>(2 * ((packed[k] >> (bits * i)) & mask) + 1);
  g.map.assign(static_cast<std::size_t>(kmap_size), -1);
  for (int k = 0; k < grid_size; ++k) {
    int index = 0;
    for (int i = 0; i < dims; ++i) index |= ((g.points[k * dims + i] - 1) / 2) << (bits * i);
    g.map[index] = k;
  }
  // Coordinates by dimension (structure of arrays) so the distance loop runs over grid points.
  std::vector<std::vector<int16_t>> coord(static_cast<std::size_t>(dims), std::vector<int16_t>(grid_size));
  for (int k = 0; k < grid_size; ++k)
    for (int i = 0; i < dims; ++i) coord[i][k] = g.points[k * dims + i];
  std::vector<int16_t> d2(static_cast<std::size_t>(grid_size));
  // The quantizers form cube indices from codes below kMaxQ = 3 only (IQ2 and IQ1: 3^8 of the 4^8 points;
  // IQ3: all of them), so only those points get a neighbour list. Any other off-grid point shares the empty
  // list at offset 0 (never looked up; if it were, the search would find no neighbour and refuse).
  g.neighbours.push_back(0);
  for (int u = 0; u < kmap_size; ++u) {
    if (g.map[u] >= 0) continue;
    bool reachable = true;
    for (int i = 0; i < dims && bits == 2; ++i) reachable = reachable && ((u >> (bits * i)) & mask) < 3;
    if (!reachable) {
      g.map[u] = -1;
      continue;
    }
    std::fill(d2.begin(), d2.end(), int16_t{0});
    for (int i = 0; i < dims; ++i) {
      const int16_t pos = static_cast<int16_t>(2 * ((u >> (bits * i)) & mask) + 1);
      const int16_t* c = coord[i].data();
      for (int k = 0; k < grid_size; ++k) d2[k] = static_cast<int16_t>(d2[k] + (c[k] - pos) * (c[k] - pos));
    }
    // The nwant smallest distinct distances, then their points by distance and index.
    int levels[8], nlev = 0;
    int floor = -1;
    for (int w = 0; w < nwant; ++w) {
      int best = 1 << 30;
      for (int k = 0; k < grid_size; ++k)
        if (d2[k] > floor && d2[k] < best) best = d2[k];
      if (best == 1 << 30) break;
      levels[nlev++] = best;
      floor = best;
    }
    const std::size_t start = g.neighbours.size();
    g.map[u] = -static_cast<int32_t>(start + 1);
    g.neighbours.push_back(0);
    for (int w = 0; w < nlev; ++w)
      for (int k = 0; k < grid_size; ++k)
        if (d2[k] == levels[w]) g.neighbours.push_back(static_cast<uint16_t>(k));
    g.neighbours[start] = static_cast<uint16_t>(g.neighbours.size() - start - 1);
  }
  g.neighbours.shrink_to_fit();
  return g;
}

}  // namespace

const DequantGrids& dequant_grids() {
  static const DequantGrids g = make_dequant_grids();
  return g;
}

const IqSearchGrid& iq_search_grid(IqGridId id) {
  // nwant as ggml's init: IQ1 3, IQ2_S 1, the other IQ2 2; IQ3_XXS 2, IQ3_S 3.
  switch (id) {
    case IqGridId::IQ2_XXS: {
      static const IqSearchGrid g = make_search_grid("IQ2_XXS", kGrid2bit256, 256, 8, 2, 43692, 2);
      return g;
    }
    case IqGridId::IQ2_XS: {
      static const IqSearchGrid g = make_search_grid("IQ2_XS", kGrid2bit512, 512, 8, 2, 43692, 2);
      return g;
    }
    case IqGridId::IQ2_S: {
      static const IqSearchGrid g = make_search_grid("IQ2_S", kGrid2bit1024, 1024, 8, 2, 43692, 1);
      return g;
    }
    case IqGridId::IQ1: {
      static const IqSearchGrid g = make_search_grid("IQ1_S/IQ1_M", kGrid1bit2048, 2048, 8, 2, 43692, 3);
      return g;
    }
    case IqGridId::IQ3_XXS: {
      static const IqSearchGrid g = make_search_grid("IQ3_XXS", kGrid3bit256, 256, 4, 3, 4096, 2);
      return g;
    }
    case IqGridId::IQ3_S: {
      static const IqSearchGrid g = make_search_grid("IQ3_S", kGrid3bit512, 512, 4, 3, 4096, 3);
      return g;
    }
  }
  static const IqSearchGrid empty;
  return empty;
}

}  // namespace squint::ggml
