#include "io/safetensors.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "util/error.h"

namespace squint {

// ordered_json keeps the header's tensor order (nlohmann::json would sort names).
using ojson = nlohmann::ordered_json;

namespace {

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }

std::string tensor_ctx(const std::string& file, const std::string& name) { return file + ": tensor '" + name + "': "; }

using sorted_json = nlohmann::json;

// Top-level keys of a JSON document in file order, the first duplicate, or the parse error.
struct TopLevelKeys : nlohmann::json_sax<sorted_json> {
  int depth = 0;
  std::set<std::string> seen;
  std::vector<std::string> order;
  std::string duplicate, error;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return ++depth, true; }
  bool end_object() override { return --depth, true; }
  bool start_array(std::size_t) override { return ++depth, true; }
  bool end_array() override { return --depth, true; }
  bool key(string_t& k) override {
    if (depth != 1) return true;
    if (seen.insert(k).second) order.push_back(k);
    else if (duplicate.empty()) duplicate = k;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }
};

}  // namespace

SafetensorsHeader parse_safetensors_header(const std::string& file, const std::string& header_json,
                                           uint64_t file_size) {
  SafetensorsHeader h;
  h.header_len = header_json.size();
  if (header_json.empty() || header_json[0] != '{')
    fail(file + ": safetensors header does not start with '{' (not a safetensors file?)");

  // nlohmann keeps the last of duplicate keys; the reference rejects them, so a SAX pass finds them and
  // records the tensor order, then the header is parsed into a sorted map. (ordered_json and parser
  // callbacks are both linear per key: a header of 100k tensors took minutes.)
  TopLevelKeys keys;
  if (!sorted_json::sax_parse(header_json, &keys))
    fail(file + ": safetensors header is not valid JSON (" + keys.error + ")");
  const std::vector<std::string>& order = keys.order;
  const std::string& duplicate = keys.duplicate;
  const sorted_json j = sorted_json::parse(header_json);
  if (!duplicate.empty()) fail(tensor_ctx(file, duplicate) + "duplicate tensor name in header");
  if (!j.is_object()) fail(file + ": safetensors header is not a JSON object");

  const uint64_t buffer_start = 8 + h.header_len;
  if (buffer_start > file_size) fail(file + ": header runs past the end of the file");
  const uint64_t buffer_len = file_size - buffer_start;

  struct Span {
    uint64_t b, e;
    size_t idx;
  };
  std::vector<Span> spans;
  for (const std::string& name : order) {
    const sorted_json& v = j.at(name);
    if (name == "__metadata__") {
      if (!v.is_object()) fail(file + ": __metadata__ is not an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) fail(file + ": __metadata__ value '" + m.key() + "' is not a string");
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string ctx = tensor_ctx(file, name);
    if (!v.is_object()) fail(ctx + "entry is not an object");
    if (!v.contains("dtype") || !v["dtype"].is_string()) fail(ctx + "missing or non-string 'dtype'");
    if (!v.contains("shape") || !v["shape"].is_array()) fail(ctx + "missing or non-array 'shape'");
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
      fail(ctx + "'data_offsets' must be an array [begin, end]");
    TensorInfo t;
    t.name = name;
    auto dt = parse_dtype(v["dtype"].get<std::string>());
    if (!dt) fail(ctx + "unknown dtype '" + v["dtype"].get<std::string>() + "'");
    t.dtype = *dt;
    uint64_t numel = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) fail(ctx + "shape " + v["shape"].dump() + " has a negative or non-integer dimension");
      uint64_t du = d.get<uint64_t>();
      if (du > (1ull << 53)) fail(ctx + "shape " + v["shape"].dump() + " has an implausibly large dimension");
      if (mul_overflows(numel, du, &numel)) fail(ctx + "shape " + v["shape"].dump() + " overflows the element count");
      t.shape.push_back(static_cast<int64_t>(du));
    }
    const auto& off = v["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(ctx + "data_offsets " + off.dump() + " are not non-negative integers");
    uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (e < b) fail(ctx + "data_offsets " + off.dump() + " end before they begin");
    uint64_t bits;
    if (mul_overflows(numel, static_cast<uint64_t>(dtype_bits(t.dtype)), &bits))
      fail(ctx + "size overflows");
    if (bits % 8 != 0) fail(ctx + "sub-byte dtype " + std::string(dtype_name(t.dtype)) + " does not fill whole bytes");
    if (e - b != bits / 8)
      fail(ctx + "data_offsets " + off.dump() + " span " + std::to_string(e - b) + " bytes but shape " +
           v["shape"].dump() + " x " + dtype_name(t.dtype) + " needs " + std::to_string(bits / 8));
    if (e > buffer_len)
      fail(ctx + "data_offsets " + off.dump() + " run past the end of the file (data section is " +
           std::to_string(buffer_len) + " bytes)");
    t.offset = buffer_start + b;
    t.nbytes = e - b;
    spans.push_back({b, e, h.tensors.size()});
    h.tensors.push_back(std::move(t));
  }

  // Sorted by offset, the tensors must tile the data section exactly: no gap (before the first either),
  // no overlap, nothing after the last (polyglot files).
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.b != b.b ? a.b < b.b : a.e < b.e; });
  uint64_t expect = 0;
  for (const auto& s : spans) {
    const std::string& name = h.tensors[s.idx].name;
    if (s.b < expect)
      fail(tensor_ctx(file, name) + "data overlaps the previous tensor (begins at " + std::to_string(s.b) +
           ", previous ends at " + std::to_string(expect) + ")");
    if (s.b > expect)
      fail(tensor_ctx(file, name) + "gap of " + std::to_string(s.b - expect) + " unindexed bytes before this tensor");
    expect = s.e;
  }
  if (expect != buffer_len)
    fail(file + ": " + std::to_string(buffer_len - expect) + " trailing bytes after the last tensor (file size " +
         std::to_string(file_size) + " does not match the header)");
  h.header_json = header_json;
  return h;
}

SafetensorsHeader read_safetensors_header(ByteSource& src) {
  const uint64_t size = src.size();
  if (size < 8) fail(src.name() + ": file is " + std::to_string(size) + " bytes, too small for a safetensors header");
  uint8_t lenb[8];
  src.read(0, 8, lenb);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | lenb[i];
  if (n > kMaxHeaderBytes)
    fail(src.name() + ": header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n > size - 8)
    fail(src.name() + ": header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) + " bytes; truncated?)");
  std::string hdr(n, '\0');
  if (n) src.read(8, n, reinterpret_cast<uint8_t*>(hdr.data()));
  return parse_safetensors_header(src.name(), hdr, size);
}

uint64_t TensorSpec::nbytes() const {
  uint64_t n = 1;
  for (auto d : shape) n *= static_cast<uint64_t>(d);
  return n * static_cast<uint64_t>(dtype_bits(dtype)) / 8;
}

std::string build_safetensors_prefix(const std::vector<TensorSpec>& tensors,
                                     const std::map<std::string, std::string>& metadata) {
  // Written by hand rather than through json::dump so that key order is the file order.
  ojson j = ojson::object();
  std::string out = "{";
  bool first = true;
  if (!metadata.empty()) {
    out += "\"__metadata__\":" + ojson(metadata).dump();
    first = false;
  }
  uint64_t off = 0;
  for (const auto& t : tensors) {
    if (!first) out += ",";
    first = false;
    ojson e;
    e["dtype"] = dtype_name(t.dtype);
    e["shape"] = t.shape;
    e["data_offsets"] = {off, off + t.nbytes()};
    off += t.nbytes();
    out += ojson(t.name).dump() + ":{\"dtype\":" + e["dtype"].dump() + ",\"shape\":" + e["shape"].dump() +
           ",\"data_offsets\":" + e["data_offsets"].dump() + "}";
  }
  out += "}";
  while (out.size() % 8) out += ' ';
  std::string prefix(8, '\0');
  uint64_t n = out.size();
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return prefix + out;
}

}  // namespace squint
