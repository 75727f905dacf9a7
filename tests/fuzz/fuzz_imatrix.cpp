// libFuzzer: the imatrix reader (llama.cpp's GGUF imatrix and legacy .dat, core/io/imatrix.h) over arbitrary
// bytes. What it accepts must be usable: every entry splits into its matrices, the quantizer's weights are
// finite, and writing it back reads back the same.
#include <cmath>
#include <cstdint>
#include <vector>

#include "io/imatrix.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  squint::MemorySource src("fuzz.imatrix", std::vector<uint8_t>(data, data + size));
  squint::Imatrix m;
  try {
    m = squint::read_imatrix(src);
  } catch (const squint::Error&) {
    return 0;
  }
  if (m.entries.empty()) __builtin_trap();
  for (const auto& [name, e] : m.entries) {
    if (name.empty() || e.counts.empty() || e.sums.size() % e.counts.size()) __builtin_trap();
    for (float w : squint::imatrix_quant_weights(e, m.legacy))
      if (!std::isfinite(w) || w < 0) __builtin_trap();
  }
  // Round trip through the writer of the format it came in (a GGUF one may also be written as .dat).
  const std::vector<uint8_t> again = m.legacy ? squint::write_imatrix_dat(m) : squint::write_imatrix_gguf(m);
  squint::MemorySource back("fuzz.again", again);
  const squint::Imatrix r = squint::read_imatrix(back);
  if (r.entries.size() != m.entries.size() || r.chunk_count != m.chunk_count || r.legacy != m.legacy) __builtin_trap();
  for (const auto& [name, e] : m.entries) {
    auto it = r.entries.find(name);
    if (it == r.entries.end() || it->second.sums != e.sums) __builtin_trap();
  }
  // A GGUF imatrix as .dat: refused only where the legacy format cannot hold it (a call count past int32).
  if (!m.legacy) try {
      (void)squint::write_imatrix_dat(m);
    } catch (const squint::Error&) {
    }
  return 0;
}
