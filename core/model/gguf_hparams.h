#pragma once
// The GGUF metadata every decoder architecture of llama.cpp shares (<arch>.context_length, embedding_length,
// block_count, feed_forward_length, attention.*, rope.*), written from and read into ModelHparams with the
// value types llama.cpp's loader insists on. Families add their own keys around these.
#include <string>
#include <vector>

#include "io/gguf.h"
#include "model/hparams.h"

namespace squint {

GgufKV gguf_kv(std::string key, GgufValue v);
GgufValue gguf_u32(int64_t v);

// general.architecture, general.name and the shared <arch>.* keys (llama3 RoPE scaling is a tensor:
// gguf_rope_freqs).
std::vector<GgufKV> decoder_gguf_kv(const std::string& arch, const ModelHparams& h, const std::string& name);
// rope_freqs.weight values for llama3 scaling (convert_hf_to_gguf.py LlamaModel.generate_extra_tensors);
// empty for other scalings.
std::vector<float> gguf_rope_freqs(const ModelHparams& h);
// The F32 tensors a GGUF holds for its RoPE scaling, by GGUF name: rope_freqs (llama3), rope_factors_long and
// rope_factors_short (longrope, conversion/phi.py Phi3MiniModel.generate_extra_tensors).
struct GgufRopeTensor {
  std::string name;
  std::vector<float> values;
};
std::vector<GgufRopeTensor> gguf_rope_tensors(const ModelHparams& h);
// Whether a GGUF tensor is one of those (generated: no checkpoint tensor corresponds to it).
bool is_gguf_rope_tensor(const std::string& gguf_name);
// An F32 vector tensor of n values from a GGUF file (rope factors); one-line errors naming it.
std::vector<float> read_gguf_f32_vector(const GgufFile& g, ByteSource* src, const std::string& name, uint64_t n);

// Reading: the file's architecture, and the shared keys into h (`src` for a rope_freqs tensor).
class GgufHparamsReader {
 public:
  explicit GgufHparamsReader(const GgufFile& g);
  const std::string& arch() const { return arch_; }
  const GgufValue* get(const std::string& key, bool required) const;  // "<arch>." + key
  int integer(const std::string& key, int64_t def, bool required = false) const;
  double number(const std::string& key, double def) const;
  ModelHparams decoder(ByteSource* src) const;

 private:
  const GgufFile& g_;
  std::string arch_;
};
std::string gguf_architecture(const GgufFile& g);

}  // namespace squint
