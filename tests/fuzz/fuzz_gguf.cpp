// libFuzzer: the GGUF reader (header, metadata of every type, tensor infos, layout) over arbitrary bytes,
// and the tokenizer rebuilt from its tokenizer.ggml.* metadata (what `eval FILE.gguf` runs on untrusted files).
#include <cstdint>
#include <vector>

#include "io/gguf.h"
#include "text/gguf_vocab.h"
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
    try {
      const auto tok = squint::text::tokenizer_from_gguf(g);
      const std::vector<int> ids = tok->encode("a b ab\n  \xc3\xa9x <s>");
      for (int id : ids) (void)tok->token_text(id);
      (void)tok->decode(ids);
    } catch (const squint::Error&) {
    }
  } catch (const squint::Error&) {
  }
  return 0;
}
