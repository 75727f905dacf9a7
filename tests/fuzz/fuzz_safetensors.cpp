// libFuzzer: the safetensors header/offset validator over arbitrary bytes.
#include <cstdint>
#include <vector>

#include "io/safetensors.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  squint::MemorySource src("fuzz.safetensors", std::vector<uint8_t>(data, data + size));
  try {
    auto h = squint::read_safetensors_header(src);
    // Every accepted tensor must lie inside the file.
    for (const auto& t : h.tensors)
      if (t.offset + t.nbytes > size) __builtin_trap();
  } catch (const squint::Error&) {
  }
  return 0;
}
