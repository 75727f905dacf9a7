#include "io/imatrix.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "util/error.h"
#include "util/shape_str.h"

namespace squint {

namespace {

constexpr const char* kSums = ".in_sum2";
constexpr const char* kCounts = ".counts";
constexpr uint32_t kF32 = 0;                     // ggml type id
constexpr std::size_t kMaxTensorName = 63;       // GGML_MAX_NAME - 1: ggml's gguf reader refuses longer names
constexpr int64_t kMaxCount = int64_t{1} << 53;  // counts travel as F32 in GGUF; beyond this they mean nothing

bool ends_with(const std::string& s, const char* suffix) {
  const std::size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string float_str(float v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", static_cast<double>(v));
  return b;
}

// The value checks both formats share (and the writers apply to what they are given).
void check_entry(const std::string& file, const std::string& name, const ImatrixEntry& e, bool legacy) {
  const std::string where = file + ": imatrix entry '" + name + "'";
  if (name.empty()) fail(file + ": imatrix entry with an empty name");
  if (name.find('\0') != std::string::npos) fail(file + ": imatrix entry name contains a NUL byte");
  if (e.counts.empty() || e.sums.empty() || e.sums.size() % e.counts.size())
    fail(where + ": " + std::to_string(e.sums.size()) + " sums do not split into " + std::to_string(e.counts.size()) +
         " matrices");
  bool any = false;
  for (std::size_t m = 0; m < e.counts.size(); ++m) {
    const int64_t c = e.counts[m];
    if (c < 0 || c > kMaxCount)
      fail(where + ": count " + std::to_string(c) + (legacy ? "" : " of matrix " + std::to_string(m)) +
           " is out of range");
    any = any || c > 0;
  }
  if (!any) fail(where + ": every count is 0 (no data)");
  const uint64_t n = e.n_per_row();
  for (std::size_t m = 0; m < e.counts.size(); ++m) {
    const int64_t c = e.counts[m];
    for (uint64_t j = 0; j < n; ++j) {
      const float v = e.sums[m * n + j];
      if (!std::isfinite(v) || v < 0)
        fail(where + ": value " + float_str(v) + " at column " + std::to_string(j) +
             (e.counts.size() > 1 ? " of matrix " + std::to_string(m) : "") +
             " (a sum of squares must be finite and >= 0)");
      if (c == 0 && v != 0)
        fail(where + ": matrix " + std::to_string(m) + " has a count of 0 but a nonzero sum at column " +
             std::to_string(j));
    }
  }
}

// Little-endian reader over the bytes of a legacy .dat, every length checked against what is left.
class DatCursor {
 public:
  DatCursor(const std::vector<uint8_t>& b, const std::string& file) : b_(b), file_(file) {}
  std::size_t left() const { return b_.size() - pos_; }
  [[noreturn]] void bad(const std::string& what) const {
    fail(file_ + ": not a valid imatrix file (legacy .dat): " + what + " (at byte " + std::to_string(pos_) + ")");
  }
  int32_t i32(const std::string& what) {
    if (left() < 4) bad("truncated while reading " + what);
    int32_t v;
    std::memcpy(&v, b_.data() + pos_, 4);
    pos_ += 4;
    return v;
  }
  void bytes(void* dst, std::size_t n, const std::string& what) {
    if (left() < n) bad("truncated while reading " + what);
    std::memcpy(dst, b_.data() + pos_, n);
    pos_ += n;
  }

 private:
  const std::vector<uint8_t>& b_;
  const std::string& file_;
  std::size_t pos_ = 0;
};

Imatrix read_dat(const std::vector<uint8_t>& bytes, const std::string& file) {
  DatCursor c(bytes, file);
  Imatrix m;
  m.legacy = true;
  const int32_t n = c.i32("the entry count");
  // Each entry takes at least 4 + 1 + 4 + 4 bytes (and its values).
  if (n < 1 || static_cast<uint64_t>(n) > c.left() / 13) c.bad("entry count " + std::to_string(n));
  for (int32_t i = 0; i < n; ++i) {
    const std::string what = "entry " + std::to_string(i + 1);
    const int32_t len = c.i32(what + "'s name length");
    if (len < 1 || static_cast<uint64_t>(len) > c.left())
      c.bad(what + " claims a name of " + std::to_string(len) + " bytes");
    std::string name(static_cast<std::size_t>(len), '\0');
    c.bytes(name.data(), name.size(), what + "'s name");
    if (name.find('\0') != std::string::npos) c.bad(what + "'s name contains a NUL byte");
    const int32_t ncall = c.i32("entry '" + name + "'s call count");
    const int32_t nval = c.i32("entry '" + name + "'s value count");
    if (nval < 1 || static_cast<uint64_t>(nval) > c.left() / 4)
      c.bad("entry '" + name + "' claims " + std::to_string(nval) + " values");
    if (m.entries.count(name)) c.bad("duplicate entry '" + name + "'");
    ImatrixEntry e;
    e.sums.resize(static_cast<std::size_t>(nval));
    c.bytes(e.sums.data(), e.sums.size() * 4, "entry '" + name + "'s values");
    e.counts = {ncall};
    check_entry(file, name, e, true);
    m.entries.emplace(std::move(name), std::move(e));
  }
  // The trailer (chunk count, then the dataset's name) is optional, as in llama.cpp's loader; a partial one is not.
  if (c.left()) {
    m.chunk_count = c.i32("the chunk count");
    if (m.chunk_count < 0) c.bad("chunk count " + std::to_string(m.chunk_count));
    if (c.left()) {
      const int32_t len = c.i32("the dataset name's length");
      if (len < 0 || static_cast<uint64_t>(len) > c.left())
        c.bad("the dataset name claims " + std::to_string(len) + " bytes");
      std::string ds(static_cast<std::size_t>(len), '\0');
      c.bytes(ds.data(), ds.size(), "the dataset name");
      if (ds.find('\0') != std::string::npos) c.bad("the dataset name contains a NUL byte");
      if (!ds.empty()) m.datasets.push_back(std::move(ds));
      if (c.left()) c.bad(std::to_string(c.left()) + " bytes after the dataset name");
    }
  }
  return m;
}

uint32_t meta_u32(const GgufFile& g, const char* key) {
  const GgufValue* v = g.find(key);
  if (!v)
    fail(g.file + ": not an imatrix: no " + key + " (llama-quantize refuses a GGUF imatrix without its metadata)");
  // llama.cpp reads these with gguf_get_val_u32, which aborts on any other type.
  if (v->type != GgufValueType::UINT32)
    fail(g.file + ": " + key + " is a " + gguf_value_type_name(v->type) + ", expected uint32");
  if (v->bits > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()))
    fail(g.file + ": " + key + " = " + std::to_string(v->bits) + " is out of range");
  return static_cast<uint32_t>(v->bits);
}

Imatrix read_gguf_imatrix(ByteSource& src) {
  const GgufFile g = read_gguf(src);
  const std::string& f = g.file;
  Imatrix m;
  if (const GgufValue* t = g.find("general.type")) {
    if (t->type != GgufValueType::STRING || t->str != "imatrix")
      fail(f + ": not an imatrix: general.type is " + t->summary() + " (a model file?)");
  }
  const GgufValue* ds = g.find("imatrix.datasets");
  if (!ds)
    fail(f + ": not an imatrix: no imatrix.datasets (llama-quantize refuses a GGUF imatrix without its metadata)");
  if (ds->type != GgufValueType::ARRAY || ds->elem != GgufValueType::STRING)
    fail(f + ": imatrix.datasets is not an array of strings");
  for (const auto& s : ds->arr) m.datasets.push_back(s.str);
  m.chunk_count = static_cast<int32_t>(meta_u32(g, "imatrix.chunk_count"));
  m.chunk_size = static_cast<int32_t>(meta_u32(g, "imatrix.chunk_size"));
  if (m.chunk_size == 0) fail(f + ": imatrix.chunk_size is 0");

  struct Pair {
    const GgufTensorInfo *sums = nullptr, *counts = nullptr;
  };
  std::map<std::string, Pair> pairs;
  for (const auto& t : g.tensors) {
    const bool s = ends_with(t.name, kSums), c = !s && ends_with(t.name, kCounts);
    if (!s && !c) fail(f + ": tensor '" + t.name + "' is not an imatrix tensor (NAME.in_sum2 or NAME.counts)");
    const std::string base = t.name.substr(0, t.name.size() - std::strlen(s ? kSums : kCounts));
    if (base.empty()) fail(f + ": tensor '" + t.name + "' has an empty weight name");
    if (t.name.size() > kMaxTensorName) fail(f + ": tensor name '" + t.name + "' is longer than ggml's 63 bytes");
    if (t.type != kF32)
      fail(f + ": tensor '" + t.name + "' is " + (gguf_type_size(t.type).name ? gguf_type_size(t.type).name : "?") +
           ", expected F32");
    (s ? pairs[base].sums : pairs[base].counts) = &t;
  }
  if (pairs.empty()) fail(f + ": the imatrix has no entries");
  for (const auto& [name, p] : pairs) {
    const std::string where = f + ": imatrix entry '" + name + "'";
    if (!p.sums || !p.counts)
      fail(where + ": has " + (p.sums ? kSums : kCounts) + " but no " + (p.sums ? kCounts : kSums));
    // counts: [n_mat] or [1, n_mat]; in_sum2: [n_per_row] (n_mat = 1) or [n_per_row, n_mat].
    const auto& cn = p.counts->ne;
    const bool counts_ok = (cn.size() == 1) || (cn.size() == 2 && cn[0] == 1);
    const uint64_t n_mat = p.counts->numel();
    if (!counts_ok || n_mat == 0) fail(where + ": counts tensor has shape " + shape_str(cn) + ", expected [1, n_mat]");
    const auto& sn = p.sums->ne;
    const uint64_t n_sums = p.sums->numel();
    const bool sums_ok =
        !sn.empty() && sn[0] > 0 && ((sn.size() == 1 && n_mat == 1) || (sn.size() == 2 && sn[1] == n_mat));
    if (!sums_ok)
      fail(where + ": in_sum2 has " + std::to_string(sn.size()) + " dimension(s) and " + std::to_string(n_sums) +
           " values, which is not [n_per_row, " + std::to_string(n_mat) + "] for its " + std::to_string(n_mat) +
           " count(s)");
    ImatrixEntry e;
    e.sums.resize(n_sums);
    src.read(g.absolute_offset(*p.sums), n_sums * 4, reinterpret_cast<uint8_t*>(e.sums.data()));
    std::vector<float> cf(n_mat);
    src.read(g.absolute_offset(*p.counts), n_mat * 4, reinterpret_cast<uint8_t*>(cf.data()));
    for (uint64_t k = 0; k < n_mat; ++k) {
      const float v = cf[k];
      // llama.cpp rounds with lround; a count that is not a whole number was not written by a collector.
      if (!std::isfinite(v) || v < 0 || v > static_cast<float>(kMaxCount) || std::nearbyint(v) != v)
        fail(where + ": count " + float_str(v) + (n_mat > 1 ? " of matrix " + std::to_string(k) : "") +
             " is not a whole number of tokens");
      e.counts.push_back(std::lround(v));
    }
    check_entry(f, name, e, false);
    m.entries.emplace(name, std::move(e));
  }
  return m;
}

}  // namespace

Imatrix read_imatrix(ByteSource& src) {
  if (looks_like_gguf(src)) return read_gguf_imatrix(src);
  std::vector<uint8_t> bytes(src.size());
  src.read(0, bytes.size(), bytes.data());
  return read_dat(bytes, src.name());
}

std::vector<float> imatrix_quant_weights(const ImatrixEntry& e, bool legacy) {
  std::vector<float> w(e.sums.size());
  if (legacy) {
    // quantize.cpp: e[i] = entry.sums[i] / ncall (int64 ncall, converted to float by the division).
    const int64_t ncall = e.counts.empty() ? 0 : e.counts[0];
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = ncall > 0 ? e.sums[i] / static_cast<float>(ncall) : e.sums[i];
    return w;
  }
  const uint64_t n = e.n_per_row();
  for (std::size_t m = 0; m < e.counts.size(); ++m) {
    const float count = static_cast<float>(e.counts[m]);
    for (uint64_t i = 0; i < n; ++i) w[m * n + i] = count > 0.0f ? e.sums[m * n + i] / count : 1.0f;
  }
  return w;
}

std::map<std::string, std::vector<float>> imatrix_quant_weights(const Imatrix& m) {
  std::map<std::string, std::vector<float>> w;
  for (const auto& [name, e] : m.entries) w.emplace(name, imatrix_quant_weights(e, m.legacy));
  return w;
}

std::vector<uint8_t> write_imatrix_gguf(const Imatrix& m) {
  if (m.legacy) fail("a legacy imatrix holds means, not the raw sums and counts of the GGUF format; write it as .dat");
  if (m.entries.empty()) fail("imatrix: no entries to write");
  if (m.chunk_count < 0 || m.chunk_size <= 0) fail("imatrix: chunk count and chunk size must be positive");
  std::vector<GgufKV> kv = {{"general.type", GgufValue::string("imatrix")},
                            {"imatrix.datasets", GgufValue::strings(m.datasets)},
                            {"imatrix.chunk_count", GgufValue::u32(static_cast<uint32_t>(m.chunk_count))},
                            {"imatrix.chunk_size", GgufValue::u32(static_cast<uint32_t>(m.chunk_size))}};
  std::vector<GgufTensorSpec> specs;
  for (const auto& [name, e] : m.entries) {  // std::map: sorted by name, as save_imatrix sorts
    check_entry("imatrix", name, e, false);
    if (name.size() + std::strlen(kSums) > kMaxTensorName)
      fail("imatrix entry '" + name + "': its tensor name would be longer than ggml's 63 bytes");
    const uint64_t n_mat = e.n_mat(), n = e.n_per_row();
    // ggml's writer stores ggml_n_dims dimensions: trailing 1s are dropped.
    specs.push_back({name + kSums, n_mat > 1 ? std::vector<uint64_t>{n, n_mat} : std::vector<uint64_t>{n}, kF32});
    specs.push_back({name + kCounts, n_mat > 1 ? std::vector<uint64_t>{1, n_mat} : std::vector<uint64_t>{1}, kF32});
  }
  std::vector<uint8_t> out;
  GgufStreamWriter w(kv, specs, [&](const uint8_t* p, std::size_t k) { out.insert(out.end(), p, p + k); });
  for (const auto& [name, e] : m.entries) {
    w.write(reinterpret_cast<const uint8_t*>(e.sums.data()), e.sums.size() * 4);
    std::vector<float> c(e.counts.size());
    for (std::size_t k = 0; k < c.size(); ++k) c[k] = static_cast<float>(e.counts[k]);
    w.write(reinterpret_cast<const uint8_t*>(c.data()), c.size() * 4);
  }
  w.finish();
  return out;
}

std::vector<uint8_t> write_imatrix_dat(const Imatrix& m) {
  if (m.entries.empty()) fail("imatrix: no entries to write");
  if (!m.legacy && m.chunk_size <= 0) fail("imatrix: the legacy format needs a positive chunk size");
  if (m.chunk_count < 0) fail("imatrix: negative chunk count");
  std::vector<uint8_t> out;
  auto put = [&](const void* p, std::size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  };
  auto put_i32 = [&](int32_t v) { put(&v, 4); };
  put_i32(static_cast<int32_t>(m.entries.size()));
  for (const auto& [name, e] : m.entries) {
    check_entry("imatrix", name, e, m.legacy);
    if (e.sums.size() > static_cast<std::size_t>(std::numeric_limits<int32_t>::max()))
      fail("imatrix entry '" + name + "': too many values for the legacy format");
    put_i32(static_cast<int32_t>(name.size()));
    put(name.data(), name.size());
    std::vector<float> tmp(e.sums.size());
    int64_t ncall;
    if (m.legacy) {
      ncall = e.counts[0];
      tmp = e.sums;
    } else {
      // save_imatrix_legacy: ceiling division "to avoid accidental zeros"; (value / count) × ncall in float, and
      // 1 × ncall for a matrix that saw no token.
      ncall = (*std::max_element(e.counts.begin(), e.counts.end()) + (m.chunk_size - 1)) / m.chunk_size;
      const std::size_t per = e.n_per_row();
      for (std::size_t i = 0; i < tmp.size(); ++i) {
        float count = static_cast<float>(e.counts[i / per]);
        float value = e.sums[i];
        if (count == 0.0f) value = count = 1.0f;
        tmp[i] = (value / count) * static_cast<float>(ncall);
        if (!std::isfinite(tmp[i]))
          fail("imatrix entry '" + name + "': a value overflows the legacy format's mean × ncall");
      }
    }
    if (ncall > std::numeric_limits<int32_t>::max())
      fail("imatrix entry '" + name + "': call count out of range for the legacy format");
    put_i32(static_cast<int32_t>(ncall));
    put_i32(static_cast<int32_t>(tmp.size()));
    put(tmp.data(), tmp.size() * 4);
  }
  put_i32(m.chunk_count);
  const std::string ds = m.datasets.empty() ? std::string() : m.datasets.back();
  put_i32(static_cast<int32_t>(ds.size()));
  put(ds.data(), ds.size());
  return out;
}

std::string content_hash(const ByteSource& src) {
  XXH64_state_t* st = XXH64_createState();
  XXH64_reset(st, 0);
  std::vector<uint8_t> buf(1 << 20);
  for (uint64_t off = 0; off < src.size(); off += buf.size()) {
    const uint64_t n = std::min<uint64_t>(buf.size(), src.size() - off);
    try {
      src.read(off, n, buf.data());
    } catch (...) {
      XXH64_freeState(st);
      throw;
    }
    XXH64_update(st, buf.data(), n);
  }
  const unsigned long long h = XXH64_digest(st);
  XXH64_freeState(st);
  char out[32];
  std::snprintf(out, sizeof out, "xxh64:%016llx", h);
  return out;
}

}  // namespace squint
