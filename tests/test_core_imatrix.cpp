// llama.cpp imatrix files in core: both formats round-trip, the quantizer's weights are computed as
// llama-quantize computes them, and every class of malformed file is one clear error (truncation at every
// length, lying shapes, NaN/negative sums, zero or fractional counts, missing metadata). Core only (also wasm).
// The comparison with llama.cpp's own loader and writer is tests/test_imatrix_llama.cpp.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "io/imatrix.h"
#include "util/error.h"

using namespace squint;

namespace {

// Two dense entries and a 3-expert stack whose expert 1 saw no token (llama.cpp writes such entries for MoE).
Imatrix imatrix_sample() {
  Imatrix m;
  m.datasets = {"calib.txt"};
  m.chunk_count = 4;
  m.chunk_size = 8;
  m.entries["blk.0.attn_q.weight"] = {{1.5f, 0.25f, 3.0f, 7.0f}, {32}};
  m.entries["blk.0.ffn_down.weight"] = {{2.0f, 0.0f, 1.0f, 9.5f, 4.0f, 6.0f, 0.125f, 1.0f}, {32}};
  m.entries["blk.0.ffn_up_exps.weight"] = {{1.0f, 2.0f, 0.0f, 0.0f, 3.0f, 12.0f}, {5, 0, 27}};
  return m;
}

Imatrix imatrix_parse(const std::vector<uint8_t>& b, const std::string& name = "t.imatrix") {
  MemorySource s(name, b);
  return read_imatrix(s);
}

std::string imatrix_error_of(const std::vector<uint8_t>& b) {
  try {
    imatrix_parse(b);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<uint8_t> gguf(std::vector<GgufKV> kv,
                          const std::vector<std::pair<GgufTensorSpec, std::vector<float>>>& ts) {
  std::vector<GgufTensorSpec> specs;
  for (const auto& t : ts) specs.push_back(t.first);
  std::vector<uint8_t> out;
  GgufStreamWriter w(std::move(kv), specs, [&](const uint8_t* p, std::size_t n) { out.insert(out.end(), p, p + n); });
  for (const auto& t : ts) w.write(reinterpret_cast<const uint8_t*>(t.second.data()), t.second.size() * 4);
  w.finish();
  return out;
}

std::vector<GgufKV> meta() {
  return {{"general.type", GgufValue::string("imatrix")},
          {"imatrix.datasets", GgufValue::strings({"x.txt"})},
          {"imatrix.chunk_count", GgufValue::u32(2)},
          {"imatrix.chunk_size", GgufValue::u32(16)}};
}

// One entry "w" with the given in_sum2 / counts shapes and values.
std::vector<uint8_t> one(std::vector<uint64_t> sne, std::vector<float> sums, std::vector<uint64_t> cne,
                         std::vector<float> counts, std::vector<GgufKV> kv = meta()) {
  return gguf(std::move(kv), {{{"w.counts", cne, 0}, counts}, {{"w.in_sum2", sne, 0}, sums}});
}

}  // namespace

TEST_CASE("imatrix GGUF: written, read back, the same entries, values and metadata", "[imatrix]") {
  const Imatrix m = imatrix_sample();
  const auto bytes = write_imatrix_gguf(m);
  const Imatrix r = imatrix_parse(bytes);
  CHECK_FALSE(r.legacy);
  CHECK(r.datasets == m.datasets);
  CHECK(r.chunk_count == 4);
  CHECK(r.chunk_size == 8);
  REQUIRE(r.entries.size() == 3);
  for (const auto& [name, e] : m.entries) {
    REQUIRE(r.entries.count(name));
    CHECK(r.entries.at(name).sums == e.sums);
    CHECK(r.entries.at(name).counts == e.counts);
  }
  CHECK(r.entries.at("blk.0.ffn_up_exps.weight").n_mat() == 3);
  CHECK(r.entries.at("blk.0.ffn_up_exps.weight").n_per_row() == 2);
  // Writing what was read gives the same bytes.
  CHECK(write_imatrix_gguf(r) == bytes);
}

TEST_CASE("imatrix quantizer weights: sums / count per matrix, 1 where a matrix saw nothing", "[imatrix]") {
  const Imatrix m = imatrix_sample();
  const auto w = imatrix_quant_weights(m.entries.at("blk.0.ffn_up_exps.weight"), false);
  REQUIRE(w.size() == 6);
  CHECK(w[0] == 1.0f / 5.0f);
  CHECK(w[1] == 2.0f / 5.0f);
  CHECK(w[2] == 1.0f);  // expert 1: count 0 -> llama-quantize fills 1
  CHECK(w[3] == 1.0f);
  CHECK(w[4] == 3.0f / 27.0f);
  CHECK(w[5] == 12.0f / 27.0f);
  const auto q = imatrix_quant_weights(m.entries.at("blk.0.attn_q.weight"), false);
  CHECK(q == std::vector<float>{1.5f / 32, 0.25f / 32, 3.0f / 32, 7.0f / 32});
}

TEST_CASE(
    "imatrix legacy .dat: written as llama-imatrix does, read back, same quantizer weights when ncall is a power of 2",
    "[imatrix]") {
  Imatrix m = imatrix_sample();
  const auto dat = write_imatrix_dat(m);
  // Hand-computed layout of the first entry: count, then len/name/ncall/nval/values.
  int32_t n;
  std::memcpy(&n, dat.data(), 4);
  CHECK(n == 3);
  const Imatrix r = imatrix_parse(dat, "x.dat");
  CHECK(r.legacy);
  CHECK(r.chunk_count == 4);
  CHECK(r.chunk_size == 0);
  CHECK(r.datasets == std::vector<std::string>{"calib.txt"});
  const ImatrixEntry& q = r.entries.at("blk.0.attn_q.weight");
  CHECK(q.counts == std::vector<int64_t>{4});  // ceil(32 / 8)
  CHECK(q.sums[0] == (1.5f / 32.0f) * 4.0f);
  // The expert stack is flattened under one ncall = ceil(27 / 8) = 4; the idle expert is stored as 1 × ncall.
  const ImatrixEntry& x = r.entries.at("blk.0.ffn_up_exps.weight");
  CHECK(x.counts == std::vector<int64_t>{4});
  CHECK(x.sums.size() == 6);
  CHECK(x.sums[2] == 4.0f);
  // ncall = 4 (a power of two): (v / c) × 4 / 4 is exact, so both formats give the quantizer the same floats.
  for (const auto& [name, e] : m.entries)
    CHECK(imatrix_quant_weights(r.entries.at(name), true) == imatrix_quant_weights(e, false));
  // Re-writing a legacy imatrix as .dat keeps its bytes; as GGUF it is refused (it holds means, not sums).
  CHECK(write_imatrix_dat(r) == dat);
  CHECK_THROWS_WITH(write_imatrix_gguf(r), Catch::Contains("legacy"));
  // Negative control: with ncall = 3 the round trip is not exact for every value (256 values of v / 32).
  Imatrix w3;
  w3.chunk_count = 3;
  w3.chunk_size = 11;  // ceil(32 / 11) = 3
  for (int j = 0; j < 256; ++j) w3.entries["w"].sums.push_back(1.0f + static_cast<float>(j) * 0.37f);
  w3.entries["w"].counts = {32};
  const Imatrix r3 = imatrix_parse(write_imatrix_dat(w3), "y.dat");
  CHECK(r3.entries.at("w").counts == std::vector<int64_t>{3});
  CHECK(imatrix_quant_weights(r3.entries.at("w"), true) != imatrix_quant_weights(w3.entries.at("w"), false));
}

TEST_CASE("imatrix: a file cut at any length is one error naming the file, never a crash", "[imatrix]") {
  for (const auto& full : {write_imatrix_gguf(imatrix_sample()), write_imatrix_dat(imatrix_sample())}) {
    for (std::size_t len = 0; len < full.size(); ++len) {
      std::vector<uint8_t> b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
      const std::string e = imatrix_error_of(b);
      INFO("length " << len);
      // Valid cuts: a .dat cut between its entries and its optional trailer; a GGUF whose last tensor's alignment
      // padding is missing (its data is whole; squint's GGUF reader does not require the final padding).
      if (e.empty()) {
        std::size_t data_end = full.size();
        while (data_end > 0 && full[data_end - 1] == 0) --data_end;
        CHECK((full[0] != 'G' || len >= data_end));
        continue;
      }
      CHECK(e.find("t.imatrix") != std::string::npos);
    }
  }
}

TEST_CASE("imatrix GGUF: lying or unusable content is refused with one line naming the entry", "[imatrix]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Sanity: the helper's well-formed file reads.
  CHECK(imatrix_error_of(one({4}, {1, 2, 3, 4}, {1}, {8})).empty());
  CHECK(imatrix_error_of(one({2, 2}, {1, 2, 0, 0}, {1, 2}, {8, 0})).empty());  // a partial MoE entry is fine
  CHECK_THAT(imatrix_error_of(one({4}, {1, nan, 3, 4}, {1}, {8})), Catch::Contains("'w'") && Catch::Contains("column 1"));
  CHECK_THAT(imatrix_error_of(one({4}, {1, -2, 3, 4}, {1}, {8})), Catch::Contains(">= 0"));
  CHECK_THAT(imatrix_error_of(one({4}, {1, 2, 3, 4}, {1}, {0})), Catch::Contains("every count is 0"));
  CHECK_THAT(imatrix_error_of(one({4}, {0, 0, 0, 0}, {1}, {0})), Catch::Contains("every count is 0"));
  CHECK_THAT(imatrix_error_of(one({2, 2}, {1, 2, 5, 0}, {1, 2}, {8, 0})), Catch::Contains("count of 0 but a nonzero sum"));
  CHECK_THAT(imatrix_error_of(one({4}, {1, 2, 3, 4}, {1}, {2.5f})), Catch::Contains("whole number"));
  CHECK_THAT(imatrix_error_of(one({4}, {1, 2, 3, 4}, {1}, {-8})), Catch::Contains("whole number"));
  CHECK_THAT(imatrix_error_of(one({4}, {1, 2, 3, 4}, {1}, {nan})), Catch::Contains("whole number"));
  // Shapes: sums that do not split into the counts' matrices, a counts tensor that is not [1, n_mat].
  CHECK_THAT(imatrix_error_of(one({3, 2}, {1, 2, 3, 4, 5, 6}, {1, 3}, {8, 8, 8})), Catch::Contains("not [n_per_row, 3]"));
  CHECK_THAT(imatrix_error_of(one({6}, {1, 2, 3, 4, 5, 6}, {1, 2}, {8, 8})), Catch::Contains("not [n_per_row, 2]"));
  CHECK_THAT(imatrix_error_of(one({4}, {1, 2, 3, 4}, {2, 1}, {8, 8})), Catch::Contains("expected [1, n_mat]"));
  CHECK_THAT(imatrix_error_of(one({2, 1, 2}, {1, 2, 3, 4}, {1, 2}, {8, 8})), Catch::Contains("not [n_per_row, 2]"));
  // Metadata llama-quantize requires, of the types its loader reads without aborting.
  auto drop = [](const char* key) {
    std::vector<GgufKV> kv;
    for (auto& e : meta())
      if (e.key != key) kv.push_back(e);
    return kv;
  };
  CHECK_THAT(imatrix_error_of(one({4}, {1, 2, 3, 4}, {1}, {8}, drop("imatrix.chunk_count"))),
             Catch::Contains("no imatrix.chunk_count"));
  CHECK_THAT(imatrix_error_of(one({4}, {1, 2, 3, 4}, {1}, {8}, drop("imatrix.datasets"))),
             Catch::Contains("no imatrix.datasets"));
  auto kv = meta();
  kv[2].value = GgufValue::i32(2);
  CHECK_THAT(imatrix_error_of(one({4}, {1, 2, 3, 4}, {1}, {8}, kv)), Catch::Contains("expected uint32"));
  kv = meta();
  kv[0].value = GgufValue::string("model");
  CHECK_THAT(imatrix_error_of(one({4}, {1, 2, 3, 4}, {1}, {8}, kv)), Catch::Contains("not an imatrix"));
  kv = meta();
  kv[3].value = GgufValue::u32(0);
  CHECK_THAT(imatrix_error_of(one({4}, {1, 2, 3, 4}, {1}, {8}, kv)), Catch::Contains("chunk_size is 0"));
  // Tensors: a lone half, a foreign tensor, a non-F32 type, no entries at all.
  CHECK_THAT(imatrix_error_of(gguf(meta(), {{{"w.in_sum2", {4}, 0}, {1, 2, 3, 4}}})), Catch::Contains("no .counts"));
  CHECK_THAT(imatrix_error_of(gguf(meta(), {{{"w.counts", {1}, 0}, {8}},
                                    {{"w.in_sum2", {4}, 0}, {1, 2, 3, 4}},
                                    {{"token_embd.weight", {4}, 0}, {1, 2, 3, 4}}})),
             Catch::Contains("'token_embd.weight' is not an imatrix tensor"));
  CHECK_THAT(imatrix_error_of(gguf(meta(), {{{"w.counts", {1}, 0}, {8}}, {{"w.in_sum2", {4}, 1}, {1, 2}}})),
             Catch::Contains("expected F32"));
  CHECK_THAT(imatrix_error_of(gguf(meta(), {})), Catch::Contains("no entries"));
}

TEST_CASE("imatrix legacy .dat: lying lengths, counts and values are refused", "[imatrix]") {
  auto dat = [](int32_t n, const std::string& name, int32_t ncall, int32_t nval, std::vector<float> v,
                std::vector<uint8_t> tail = {}) {
    std::vector<uint8_t> b;
    auto put = [&](const void* p, std::size_t k) {
      b.insert(b.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + k);
    };
    put(&n, 4);
    const int32_t len = static_cast<int32_t>(name.size());
    put(&len, 4);
    put(name.data(), name.size());
    put(&ncall, 4);
    put(&nval, 4);
    put(v.data(), v.size() * 4);
    b.insert(b.end(), tail.begin(), tail.end());
    return b;
  };
  CHECK(imatrix_error_of(dat(1, "w", 3, 2, {1, 2})).empty());
  CHECK_THAT(imatrix_error_of(dat(0, "w", 3, 2, {1, 2})), Catch::Contains("entry count 0"));
  CHECK_THAT(imatrix_error_of(dat(2, "w", 3, 2, {1, 2})), Catch::Contains("entry count 2"));
  CHECK_THAT(imatrix_error_of(dat(1, "w", 3, 0, {})), Catch::Contains("claims 0 values"));
  CHECK_THAT(imatrix_error_of(dat(1, "w", 3, 3, {1, 2})), Catch::Contains("claims 3 values"));
  CHECK_THAT(imatrix_error_of(dat(1, "w", 0, 2, {1, 2})), Catch::Contains("every count is 0"));
  CHECK_THAT(imatrix_error_of(dat(1, "w", -1, 2, {1, 2})), Catch::Contains("out of range"));
  CHECK_THAT(imatrix_error_of(dat(1, "w", 3, 2, {1, -2})), Catch::Contains("'w'") && Catch::Contains(">= 0"));
  CHECK_THAT(imatrix_error_of(dat(1, std::string("a\0b", 3), 3, 2, {1, 2})), Catch::Contains("NUL"));
  CHECK_THAT(imatrix_error_of(dat(1, "w", 3, 2, {1, 2}, {1, 0})), Catch::Contains("truncated while reading the chunk count"));
  CHECK_THAT(imatrix_error_of(dat(1, "w", 3, 2, {1, 2}, {1, 0, 0, 0, 9, 0, 0, 0, 'a'})), Catch::Contains("claims 9 bytes"));
  CHECK_THAT(imatrix_error_of(dat(1, "w", 3, 2, {1, 2}, {1, 0, 0, 0, 1, 0, 0, 0, 'a', 'b'})), Catch::Contains("1 bytes after"));
  std::vector<uint8_t> bad_len = dat(1, "w", 3, 2, {1, 2});
  const int32_t huge = std::numeric_limits<int32_t>::max();
  std::memcpy(bad_len.data() + 4, &huge, 4);
  CHECK_THAT(imatrix_error_of(bad_len), Catch::Contains("claims a name of"));
  std::vector<uint8_t> two = dat(2, "w", 3, 2, {1, 2});
  const auto again = dat(1, "w", 3, 2, {1, 2});
  two.insert(two.end(), again.begin() + 4, again.end());
  CHECK_THAT(imatrix_error_of(two), Catch::Contains("duplicate entry 'w'"));
}

TEST_CASE("imatrix writers refuse what the reader would refuse", "[imatrix]") {
  Imatrix m = imatrix_sample();
  m.entries["bad"] = {{1.0f, std::numeric_limits<float>::infinity()}, {3}};
  CHECK_THROWS_WITH(write_imatrix_gguf(m), Catch::Contains("'bad'"));
  CHECK_THROWS_WITH(write_imatrix_dat(m), Catch::Contains("'bad'"));
  m = imatrix_sample();
  m.chunk_size = 0;
  CHECK_THROWS_AS(write_imatrix_gguf(m), Error);
  CHECK_THROWS_AS(write_imatrix_dat(m), Error);
}

TEST_CASE("content_hash names a file's bytes", "[imatrix]") {
  const auto b = write_imatrix_gguf(imatrix_sample());
  MemorySource s1("a", b);
  auto c = b;
  c.back() ^= 1;
  MemorySource s2("b", c);
  CHECK(content_hash(s1).rfind("xxh64:", 0) == 0);
  CHECK(content_hash(s1).size() == 22);
  CHECK(content_hash(s1) == content_hash(MemorySource("c", b)));
  CHECK(content_hash(s1) != content_hash(s2));
}
