// libFuzzer: the index-file + shard opener and the tensor reader. Input = index JSON, '\0', shard bytes;
// the shard is offered under two names so that index entries can point at it or at a missing file.
#include <cstdint>
#include <cstring>
#include <vector>

#include "analysis/analysis.h"
#include "io/checkpoint.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t* z = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t ni = z ? static_cast<size_t>(z - data) : size;
  squint::MemoryProvider p;
  p.add("model.safetensors.index.json", std::string(reinterpret_cast<const char*>(data), ni));
  std::vector<uint8_t> shard(z ? z + 1 : data + size, data + size);
  p.add("a.safetensors", shard);
  p.add("config.json", std::string("{\"num_hidden_layers\": 2}"));
  try {
    squint::Checkpoint ck = squint::open_checkpoint(p);
    squint::AnalyzeOptions o;
    o.configs = {{4, 32}};
    for (const auto& t : ck.tensors)
      if (t.numel() < (1u << 16)) squint::analyze_tensor(ck, t, o);
  } catch (const squint::Error&) {
  }
  return 0;
}
