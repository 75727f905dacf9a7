// libFuzzer: the GGUF reader (header, metadata of every type, tensor infos, layout) over arbitrary bytes.
#include <cstdint>
#include <vector>

#include "io/gguf.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  squint::MemorySource src("fuzz.gguf", std::vector<uint8_t>(data, data + size));
  try {
    squint::GgufFile g = squint::read_gguf(src);
    // Every accepted tensor lies inside the file, aligned, and its size follows from shape and type.
    for (const auto& t : g.tensors) {
      const uint64_t at = g.absolute_offset(t);
      if (at > size || t.nbytes > size - at || t.offset % g.alignment) __builtin_trap();
      std::vector<uint8_t> b(t.nbytes > 4096 ? 4096 : t.nbytes);
      src.read(at, b.size(), b.data());
    }
    for (const auto& kv : g.kv) (void)kv.value.summary();
  } catch (const squint::Error&) {
  }
  return 0;
}
