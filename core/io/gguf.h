#pragma once
// GGUF v3 (ggml's file format, read by llama.cpp): a total validating reader (every count, length, offset and
// size is checked before use, overflow-safe; any violation is one squint::Error naming the file) and a
// streaming writer (header, metadata and tensor infos computed up front, then tensor data in order, each padded
// to general.alignment). Layout as in ggml/src/gguf.cpp.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "io/byte_source.h"

namespace squint {

enum class GgufValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7, STRING = 8,
  ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12
};
const char* gguf_value_type_name(GgufValueType t);

// One metadata value. Scalars keep their raw bits in `bits` (ints zero/sign-extended, floats as IEEE bits of
// their own width); arrays hold their elements (all of `elem`'s type) in `arr`.
struct GgufValue {
  GgufValueType type = GgufValueType::UINT32;
  uint64_t bits = 0;
  std::string str;
  GgufValueType elem = GgufValueType::UINT32;
  std::vector<GgufValue> arr;

  static GgufValue u32(uint32_t v);
  static GgufValue i32(int32_t v);
  static GgufValue u64(uint64_t v);
  static GgufValue f32(float v);
  static GgufValue boolean(bool v);
  static GgufValue string(std::string s);
  static GgufValue strings(const std::vector<std::string>& v);
  static GgufValue f32s(const std::vector<float>& v);
  static GgufValue i32s(const std::vector<int32_t>& v);

  bool is_integer() const;
  bool is_float() const { return type == GgufValueType::FLOAT32 || type == GgufValueType::FLOAT64; }
  // Checked conversions: throw when the value is not of a compatible type (or out of range).
  int64_t as_int(const std::string& what) const;
  double as_double(const std::string& what) const;
  const std::string& as_string(const std::string& what) const;
  bool as_bool(const std::string& what) const;
  // Short text for `inspect` (arrays are summarised).
  std::string summary() const;
};

struct GgufKV {
  std::string key;
  GgufValue value;
};

// Size rules of a ggml tensor type: `block` elements are stored in `bytes` bytes.
struct GgufTypeSize {
  const char* name = nullptr;
  uint32_t block = 0, bytes = 0;
};
// nullptr name for ids that are unknown (or removed from ggml).
GgufTypeSize gguf_type_size(uint32_t ggml_type);
// Bytes of a row of `cols` elements; throws unless cols is a multiple of the block.
uint64_t gguf_row_bytes(uint32_t ggml_type, uint64_t cols, const std::string& what);

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> ne;   // ggml order: ne[0] is the contiguous (input) dimension
  uint32_t type = 0;          // ggml type id
  uint64_t offset = 0;        // relative to the data section (as stored)
  uint64_t nbytes = 0;        // derived from ne and type
  uint64_t numel() const;
  uint64_t cols() const { return ne.empty() ? 1 : ne[0]; }
  uint64_t rows() const { return cols() == 0 ? 0 : numel() / cols(); }
};

struct GgufFile {
  std::string file;
  uint32_t version = 3;
  std::vector<GgufKV> kv;
  std::vector<GgufTensorInfo> tensors;
  uint32_t alignment = 32;
  uint64_t data_offset = 0;  // absolute offset of the data section

  const GgufValue* find(const std::string& key) const;
  const GgufTensorInfo* tensor(const std::string& name) const;
  uint64_t absolute_offset(const GgufTensorInfo& t) const { return data_offset + t.offset; }
};

// Reads and validates header, metadata and tensor infos (the data section is bounds-checked, not read).
GgufFile read_gguf(ByteSource& src);
// True if the first four bytes are "GGUF".
bool looks_like_gguf(ByteSource& src);

// Writer. The tensors' data is streamed afterwards through GgufStreamWriter in the same order.
struct GgufTensorSpec {
  std::string name;
  std::vector<uint64_t> ne;  // ggml order
  uint32_t type = 0;
  uint64_t nbytes() const;
};

using ByteSink = std::function<void(const uint8_t* data, std::size_t n)>;

class GgufStreamWriter {
 public:
  // Writes the header, metadata (general.alignment is added when absent) and tensor infos through `sink`.
  GgufStreamWriter(std::vector<GgufKV> kv, std::vector<GgufTensorSpec> tensors, ByteSink sink, uint32_t alignment = 32);
  // Appends bytes of the current tensor (a tensor may be written in several calls); pads when it is complete.
  void write(const uint8_t* data, std::size_t n);
  // Checks every tensor was written in full.
  void finish();
  // Total file size, known before any data is written.
  uint64_t file_size() const { return file_size_; }

 private:
  std::vector<GgufTensorSpec> tensors_;
  ByteSink sink_;
  uint32_t alignment_;
  std::size_t current_ = 0;
  uint64_t written_in_current_ = 0, file_size_ = 0;
  void pad_and_advance();
};

}  // namespace squint
