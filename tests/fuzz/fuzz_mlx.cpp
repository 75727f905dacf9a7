// libFuzzer: the MLX-model reader used by gate/dequantize/eval. Input = config.json, '\0', safetensors.
#include <cstdint>
#include <cstring>
#include <vector>

#include "io/mlx_model.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t* z = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t nc = z ? static_cast<size_t>(z - data) : size;
  squint::MemoryProvider p;
  p.add("config.json", std::string(reinterpret_cast<const char*>(data), nc));
  p.add("model.safetensors", std::vector<uint8_t>(z ? z + 1 : data + size, data + size));
  try {
    squint::MlxModel m = squint::open_mlx_model(p);
    std::vector<float> buf;
    for (const auto& t : m.tensors) {
      uint64_t n = 1;
      for (auto d : t.shape) n *= static_cast<uint64_t>(d);
      if (n > (1u << 16)) continue;
      buf.resize(n);
      squint::read_logical_f32(m, t, buf.data());
    }
  } catch (const squint::Error&) {
  }
  return 0;
}
