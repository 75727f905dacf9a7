#include "io/gguf.h"

#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "util/error.h"

namespace squint {

namespace {

constexpr uint64_t kMaxDims = 4;            // GGML_MAX_DIMS
constexpr uint64_t kMaxStringBytes = 1ull << 30;

// Buffered little-endian reader over a ByteSource that checks every length against the bytes left.
class Cursor {
 public:
  explicit Cursor(ByteSource& s) : src_(s), size_(s.size()) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }
  [[noreturn]] void bad(const std::string& what) const {
    fail(src_.name() + ": not a valid GGUF file: " + what + " (at byte " + std::to_string(pos_) + ")");
  }
  void need(uint64_t n, const char* what) {
    if (n > left()) bad(std::string("truncated while reading ") + what);
  }
  void read(void* dst, uint64_t n, const char* what) {
    need(n, what);
    auto* d = static_cast<uint8_t*>(dst);
    while (n) {
      if (pos_ < buf_pos_ || pos_ >= buf_pos_ + buf_.size()) fill();
      const uint64_t in = pos_ - buf_pos_, take = std::min<uint64_t>(n, buf_.size() - in);
      std::memcpy(d, buf_.data() + in, take);
      d += take;
      pos_ += take;
      n -= take;
    }
  }
  template <class T>
  T get(const char* what) {
    T v;
    read(&v, sizeof v, what);  // GGUF is little-endian, as is every target we build for
    return v;
  }
  std::string str(const char* what) {
    const uint64_t n = get<uint64_t>(what);
    if (n > left() || n > kMaxStringBytes) bad(std::string(what) + " claims " + std::to_string(n) + " bytes");
    std::string s(n, '\0');
    read(s.data(), n, what);
    return s;
  }

 private:
  void fill() {
    buf_pos_ = pos_;
    buf_.resize(std::min<uint64_t>(1 << 20, size_ - pos_));
    src_.read(pos_, buf_.size(), buf_.data());
  }
  ByteSource& src_;
  uint64_t size_, pos_ = 0, buf_pos_ = 0;
  std::vector<uint8_t> buf_;
};

uint64_t scalar_bytes(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: case GgufValueType::INT8: case GgufValueType::BOOL: return 1;
    case GgufValueType::UINT16: case GgufValueType::INT16: return 2;
    case GgufValueType::UINT32: case GgufValueType::INT32: case GgufValueType::FLOAT32: return 4;
    case GgufValueType::UINT64: case GgufValueType::INT64: case GgufValueType::FLOAT64: return 8;
    case GgufValueType::STRING: return 8;  // at least its length field
    case GgufValueType::ARRAY: return 12;
  }
  return 0;
}

bool valid_value_type(uint32_t t) { return t <= 12; }

GgufValue read_scalar(Cursor& c, GgufValueType t) {
  GgufValue v;
  v.type = t;
  switch (t) {
    case GgufValueType::UINT8: v.bits = c.get<uint8_t>("a uint8 value"); break;
    case GgufValueType::INT8: v.bits = static_cast<uint64_t>(static_cast<int64_t>(c.get<int8_t>("an int8 value"))); break;
    case GgufValueType::UINT16: v.bits = c.get<uint16_t>("a uint16 value"); break;
    case GgufValueType::INT16: v.bits = static_cast<uint64_t>(static_cast<int64_t>(c.get<int16_t>("an int16 value"))); break;
    case GgufValueType::UINT32: v.bits = c.get<uint32_t>("a uint32 value"); break;
    case GgufValueType::INT32: v.bits = static_cast<uint64_t>(static_cast<int64_t>(c.get<int32_t>("an int32 value"))); break;
    case GgufValueType::FLOAT32: v.bits = c.get<uint32_t>("a float32 value"); break;
    case GgufValueType::BOOL: {
      uint8_t b = c.get<uint8_t>("a bool value");
      if (b > 1) c.bad("bool value " + std::to_string(b) + " is neither 0 nor 1");
      v.bits = b;
      break;
    }
    case GgufValueType::STRING: v.str = c.str("a string value"); break;
    case GgufValueType::UINT64: v.bits = c.get<uint64_t>("a uint64 value"); break;
    case GgufValueType::INT64: v.bits = c.get<uint64_t>("an int64 value"); break;
    case GgufValueType::FLOAT64: v.bits = c.get<uint64_t>("a float64 value"); break;
    case GgufValueType::ARRAY: c.bad("nested arrays are not supported");
  }
  return v;
}

GgufValue read_value(Cursor& c, GgufValueType t, const std::string& key) {
  if (t != GgufValueType::ARRAY) return read_scalar(c, t);
  GgufValue v;
  v.type = t;
  const uint32_t et = c.get<uint32_t>("an array element type");
  if (!valid_value_type(et)) c.bad("key '" + key + "' has unknown array element type " + std::to_string(et));
  v.elem = static_cast<GgufValueType>(et);
  if (v.elem == GgufValueType::ARRAY) c.bad("key '" + key + "' is a nested array (not supported)");
  const uint64_t n = c.get<uint64_t>("an array length");
  if (n > c.left() / scalar_bytes(v.elem))
    c.bad("key '" + key + "' claims " + std::to_string(n) + " array elements, more than the file can hold");
  v.arr.reserve(n);
  for (uint64_t i = 0; i < n; ++i) v.arr.push_back(read_scalar(c, v.elem));
  return v;
}

void put_bytes(std::string& out, const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); }
template <class T>
void put(std::string& out, T v) {
  put_bytes(out, &v, sizeof v);
}
void put_str(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}
void put_scalar(std::string& out, const GgufValue& v) {
  const uint64_t b = v.bits;
  switch (v.type) {
    case GgufValueType::UINT8: case GgufValueType::INT8: case GgufValueType::BOOL: put<uint8_t>(out, static_cast<uint8_t>(b)); break;
    case GgufValueType::UINT16: case GgufValueType::INT16: put<uint16_t>(out, static_cast<uint16_t>(b)); break;
    case GgufValueType::UINT32: case GgufValueType::INT32: case GgufValueType::FLOAT32: put<uint32_t>(out, static_cast<uint32_t>(b)); break;
    case GgufValueType::UINT64: case GgufValueType::INT64: case GgufValueType::FLOAT64: put<uint64_t>(out, b); break;
    case GgufValueType::STRING: put_str(out, v.str); break;
    case GgufValueType::ARRAY: fail("internal error: nested GGUF array");
  }
}
void put_value(std::string& out, const GgufValue& v) {
  if (v.type != GgufValueType::ARRAY) return put_scalar(out, v);
  put<uint32_t>(out, static_cast<uint32_t>(v.elem));
  put<uint64_t>(out, v.arr.size());
  for (const auto& e : v.arr) {
    if (e.type != v.elem) fail("internal error: GGUF array element of the wrong type");
    put_scalar(out, e);
  }
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

const char* gguf_value_type_name(GgufValueType t) {
  static const char* n[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
                            "bool",  "string", "array", "uint64", "int64", "float64"};
  auto i = static_cast<uint32_t>(t);
  return i <= 12 ? n[i] : "?";
}

GgufValue GgufValue::u32(uint32_t v) { GgufValue x; x.type = GgufValueType::UINT32; x.bits = v; return x; }
GgufValue GgufValue::i32(int32_t v) {
  GgufValue x; x.type = GgufValueType::INT32; x.bits = static_cast<uint64_t>(static_cast<int64_t>(v)); return x;
}
GgufValue GgufValue::u64(uint64_t v) { GgufValue x; x.type = GgufValueType::UINT64; x.bits = v; return x; }
GgufValue GgufValue::f32(float v) {
  GgufValue x; x.type = GgufValueType::FLOAT32; uint32_t u; std::memcpy(&u, &v, 4); x.bits = u; return x;
}
GgufValue GgufValue::boolean(bool v) { GgufValue x; x.type = GgufValueType::BOOL; x.bits = v ? 1 : 0; return x; }
GgufValue GgufValue::string(std::string s) { GgufValue x; x.type = GgufValueType::STRING; x.str = std::move(s); return x; }
GgufValue GgufValue::strings(const std::vector<std::string>& v) {
  GgufValue x; x.type = GgufValueType::ARRAY; x.elem = GgufValueType::STRING;
  for (const auto& s : v) x.arr.push_back(string(s));
  return x;
}
GgufValue GgufValue::f32s(const std::vector<float>& v) {
  GgufValue x; x.type = GgufValueType::ARRAY; x.elem = GgufValueType::FLOAT32;
  for (float f : v) x.arr.push_back(f32(f));
  return x;
}
GgufValue GgufValue::i32s(const std::vector<int32_t>& v) {
  GgufValue x; x.type = GgufValueType::ARRAY; x.elem = GgufValueType::INT32;
  for (int32_t i : v) x.arr.push_back(i32(i));
  return x;
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufValueType::UINT8: case GgufValueType::INT8: case GgufValueType::UINT16: case GgufValueType::INT16:
    case GgufValueType::UINT32: case GgufValueType::INT32: case GgufValueType::UINT64: case GgufValueType::INT64: return true;
    default: return false;
  }
}

int64_t GgufValue::as_int(const std::string& what) const {
  if (type == GgufValueType::BOOL) return static_cast<int64_t>(bits);
  if (!is_integer()) fail(what + " is a " + gguf_value_type_name(type) + ", expected an integer");
  if (type == GgufValueType::UINT64 && bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    fail(what + " is out of range");
  return static_cast<int64_t>(bits);
}

double GgufValue::as_double(const std::string& what) const {
  if (type == GgufValueType::FLOAT32) {
    float f;
    uint32_t u = static_cast<uint32_t>(bits);
    std::memcpy(&f, &u, 4);
    return f;
  }
  if (type == GgufValueType::FLOAT64) {
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  return static_cast<double>(as_int(what));
}

const std::string& GgufValue::as_string(const std::string& what) const {
  if (type != GgufValueType::STRING) fail(what + " is a " + gguf_value_type_name(type) + ", expected a string");
  return str;
}

bool GgufValue::as_bool(const std::string& what) const {
  if (type != GgufValueType::BOOL) fail(what + " is a " + gguf_value_type_name(type) + ", expected a bool");
  return bits != 0;
}

std::string GgufValue::summary() const {
  switch (type) {
    case GgufValueType::STRING: return str.size() > 60 ? "\"" + str.substr(0, 57) + "...\"" : "\"" + str + "\"";
    case GgufValueType::BOOL: return bits ? "true" : "false";
    case GgufValueType::FLOAT32: case GgufValueType::FLOAT64: {
      char b[32];
      std::snprintf(b, sizeof b, "%g", as_double(""));
      return b;
    }
    case GgufValueType::ARRAY: {
      std::string s = std::string("[") + gguf_value_type_name(elem) + " x " + std::to_string(arr.size()) + "]";
      if (!arr.empty()) s += " " + arr[0].summary() + (arr.size() > 1 ? ", ..." : "");
      return s;
    }
    default:
      return type == GgufValueType::INT8 || type == GgufValueType::INT16 || type == GgufValueType::INT32 ||
                     type == GgufValueType::INT64
                 ? std::to_string(static_cast<int64_t>(bits))
                 : std::to_string(bits);
  }
}

GgufTypeSize gguf_type_size(uint32_t t) {
  // ggml.c type_traits (block size, type size); ids 4, 5 and 31-33, 36-38 were removed from ggml.
  switch (t) {
    case 0: return {"F32", 1, 4};
    case 1: return {"F16", 1, 2};
    case 2: return {"Q4_0", 32, 18};
    case 3: return {"Q4_1", 32, 20};
    case 6: return {"Q5_0", 32, 22};
    case 7: return {"Q5_1", 32, 24};
    case 8: return {"Q8_0", 32, 34};
    case 9: return {"Q8_1", 32, 36};
    case 10: return {"Q2_K", 256, 84};
    case 11: return {"Q3_K", 256, 110};
    case 12: return {"Q4_K", 256, 144};
    case 13: return {"Q5_K", 256, 176};
    case 14: return {"Q6_K", 256, 210};
    case 15: return {"Q8_K", 256, 292};
    case 16: return {"IQ2_XXS", 256, 66};
    case 17: return {"IQ2_XS", 256, 74};
    case 18: return {"IQ3_XXS", 256, 98};
    case 19: return {"IQ1_S", 256, 50};
    case 20: return {"IQ4_NL", 32, 18};
    case 21: return {"IQ3_S", 256, 110};
    case 22: return {"IQ2_S", 256, 82};
    case 23: return {"IQ4_XS", 256, 136};
    case 24: return {"I8", 1, 1};
    case 25: return {"I16", 1, 2};
    case 26: return {"I32", 1, 4};
    case 27: return {"I64", 1, 8};
    case 28: return {"F64", 1, 8};
    case 29: return {"IQ1_M", 256, 56};
    case 30: return {"BF16", 1, 2};
    case 34: return {"TQ1_0", 256, 54};
    case 35: return {"TQ2_0", 256, 66};
    case 39: return {"MXFP4", 32, 17};
    default: return {};
  }
}

uint64_t gguf_row_bytes(uint32_t type, uint64_t cols, const std::string& what) {
  GgufTypeSize s = gguf_type_size(type);
  if (!s.name) fail(what + ": unknown ggml type id " + std::to_string(type));
  if (cols % s.block) fail(what + ": row length " + std::to_string(cols) + " is not a multiple of " + s.name + "'s block of " + std::to_string(s.block));
  return cols / s.block * s.bytes;
}

uint64_t GgufTensorInfo::numel() const {
  uint64_t n = 1;
  for (auto d : ne) n *= d;
  return n;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  for (const auto& e : kv)
    if (e.key == key) return &e.value;
  return nullptr;
}

const GgufTensorInfo* GgufFile::tensor(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

bool looks_like_gguf(ByteSource& src) {
  if (src.size() < 4) return false;
  char m[4];
  src.read(0, 4, reinterpret_cast<uint8_t*>(m));
  return std::memcmp(m, "GGUF", 4) == 0;
}

GgufFile read_gguf(ByteSource& src) {
  Cursor c(src);
  GgufFile g;
  g.file = src.name();
  char magic[4];
  c.read(magic, 4, "the magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) c.bad("no GGUF magic");
  g.version = c.get<uint32_t>("the version");
  if (g.version != 3 && g.version != 2) c.bad("version " + std::to_string(g.version) + " (squint reads GGUF v2 and v3)");
  const uint64_t n_tensors = c.get<uint64_t>("the tensor count");
  const uint64_t n_kv = c.get<uint64_t>("the metadata count");
  // Each KV needs at least key length + type (12 bytes), each tensor info at least 8 + 4 + 4 + 8 bytes.
  if (n_kv > c.left() / 12) c.bad("metadata count " + std::to_string(n_kv) + " is more than the file can hold");
  if (n_tensors > c.left() / 24) c.bad("tensor count " + std::to_string(n_tensors) + " is more than the file can hold");
  std::set<std::string> keys;
  for (uint64_t i = 0; i < n_kv; ++i) {
    GgufKV e;
    e.key = c.str("a metadata key");
    if (!keys.insert(e.key).second) c.bad("duplicate metadata key '" + e.key + "'");
    const uint32_t t = c.get<uint32_t>("a metadata type");
    if (!valid_value_type(t)) c.bad("key '" + e.key + "' has unknown value type " + std::to_string(t));
    e.value = read_value(c, static_cast<GgufValueType>(t), e.key);
    g.kv.push_back(std::move(e));
  }
  if (const GgufValue* a = g.find("general.alignment")) {
    if (a->type != GgufValueType::UINT32) c.bad("general.alignment is a " + std::string(gguf_value_type_name(a->type)) + ", expected uint32");
    const uint64_t al = a->bits;
    if (al == 0 || (al & (al - 1)) != 0) c.bad("general.alignment " + std::to_string(al) + " is not a power of two");
    g.alignment = static_cast<uint32_t>(al);
  }
  std::set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = c.str("a tensor name");
    if (!names.insert(t.name).second) c.bad("duplicate tensor '" + t.name + "'");
    const uint32_t nd = c.get<uint32_t>("a tensor's dimension count");
    if (nd > kMaxDims) c.bad("tensor '" + t.name + "' has " + std::to_string(nd) + " dimensions (at most 4)");
    uint64_t numel = 1;
    for (uint32_t d = 0; d < nd; ++d) {
      const uint64_t n = c.get<uint64_t>("a tensor dimension");
      if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || (n && numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / n))
        c.bad("tensor '" + t.name + "' has a shape whose element count overflows");
      numel *= n;
      t.ne.push_back(n);
    }
    t.type = c.get<uint32_t>("a tensor type");
    GgufTypeSize ts = gguf_type_size(t.type);
    if (!ts.name) c.bad("tensor '" + t.name + "' has unknown ggml type id " + std::to_string(t.type));
    const uint64_t cols = t.ne.empty() ? 1 : t.ne[0];
    if (cols % ts.block)
      c.bad("tensor '" + t.name + "' has rows of " + std::to_string(cols) + ", not a multiple of " + ts.name + "'s block of " + std::to_string(ts.block));
    // numel ≤ 2^63, but numel / block * bytes can still wrap (F32: 2^62 elements are 2^64 bytes) and a wrapped
    // size would pass the end-of-file check below.
    if (numel / ts.block > std::numeric_limits<uint64_t>::max() / ts.bytes)
      c.bad("tensor '" + t.name + "' has a shape whose byte size overflows");
    t.nbytes = numel / ts.block * ts.bytes;
    t.offset = c.get<uint64_t>("a tensor offset");
    g.tensors.push_back(std::move(t));
  }
  g.data_offset = align_up(c.pos(), g.alignment);
  if (g.data_offset > src.size() && !g.tensors.empty()) c.bad("the data section starts past the end of the file");
  // ggml requires the tensors back to back in order, each padded to the alignment (gguf.cpp); so do we, which
  // also rules out overlaps.
  uint64_t expect = 0;
  const uint64_t data_bytes = src.size() >= g.data_offset ? src.size() - g.data_offset : 0;
  for (const auto& t : g.tensors) {
    if (t.offset != expect)
      fail(src.name() + ": not a valid GGUF file: tensor '" + t.name + "' has data offset " + std::to_string(t.offset) +
           ", expected " + std::to_string(expect));
    if (t.offset > data_bytes || t.nbytes > data_bytes - t.offset)
      fail(src.name() + ": not a valid GGUF file: tensor '" + t.name + "' (" + std::to_string(t.nbytes) +
           " bytes at data offset " + std::to_string(t.offset) + ") runs past the end of the file (truncated?)");
    expect = t.offset + align_up(t.nbytes, g.alignment);
  }
  return g;
}

uint64_t GgufTensorSpec::nbytes() const {
  uint64_t n = 1;
  for (auto d : ne) n *= d;
  gguf_row_bytes(type, ne.empty() ? 1 : ne[0], name);  // checks the type and the row length
  const GgufTypeSize s = gguf_type_size(type);
  return n / s.block * s.bytes;
}

GgufStreamWriter::GgufStreamWriter(std::vector<GgufKV> kv, std::vector<GgufTensorSpec> tensors, ByteSink sink, uint32_t alignment)
    : tensors_(std::move(tensors)), sink_(std::move(sink)), alignment_(alignment) {
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1))) fail("internal error: GGUF alignment must be a power of two");
  bool has_align = false;
  for (const auto& e : kv)
    if (e.key == "general.alignment") has_align = true;
  if (!has_align && alignment_ != 32) kv.push_back({"general.alignment", GgufValue::u32(alignment_)});
  std::string h;
  h.append("GGUF", 4);
  put<uint32_t>(h, 3);
  put<uint64_t>(h, tensors_.size());
  put<uint64_t>(h, kv.size());
  for (const auto& e : kv) {
    put_str(h, e.key);
    put<uint32_t>(h, static_cast<uint32_t>(e.value.type));
    put_value(h, e.value);
  }
  uint64_t off = 0;
  for (const auto& t : tensors_) {
    put_str(h, t.name);
    put<uint32_t>(h, static_cast<uint32_t>(t.ne.size()));
    for (auto d : t.ne) put<uint64_t>(h, d);
    put<uint32_t>(h, t.type);
    put<uint64_t>(h, off);
    off += align_up(t.nbytes(), alignment_);
  }
  h.resize(align_up(h.size(), alignment_), '\0');
  file_size_ = h.size() + off;
  sink_(reinterpret_cast<const uint8_t*>(h.data()), h.size());
  while (current_ < tensors_.size() && tensors_[current_].nbytes() == 0) pad_and_advance();
}

void GgufStreamWriter::pad_and_advance() {
  static const uint8_t zeros[256] = {};
  uint64_t pad = align_up(written_in_current_, alignment_) - written_in_current_;
  while (pad) {
    const uint64_t n = std::min<uint64_t>(pad, sizeof zeros);
    sink_(zeros, n);
    pad -= n;
  }
  ++current_;
  written_in_current_ = 0;
}

void GgufStreamWriter::write(const uint8_t* data, std::size_t n) {
  while (n) {
    if (current_ >= tensors_.size()) fail("internal error: more tensor bytes than the GGUF header declares");
    const uint64_t want = tensors_[current_].nbytes() - written_in_current_;
    const uint64_t take = std::min<uint64_t>(want, n);
    sink_(data, take);
    data += take;
    n -= take;
    written_in_current_ += take;
    if (written_in_current_ == tensors_[current_].nbytes()) pad_and_advance();
    while (current_ < tensors_.size() && tensors_[current_].nbytes() == 0) pad_and_advance();
  }
}

void GgufStreamWriter::finish() {
  if (current_ != tensors_.size())
    fail("internal error: GGUF tensor '" + tensors_[current_].name + "' was not written in full");
}

}  // namespace squint
