// The safetensors reader rejects what the reference rejects, with a message naming file and tensor.
#include <catch2/catch.hpp>

#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "test_util_core.h"
#include "util/error.h"

using namespace squint;
using squint::test::make_st;
using squint::test::raw_st;

namespace {
std::string st_error_of(const std::vector<uint8_t>& file) {
  MemorySource src("bad.safetensors", file);
  try {
    read_safetensors_header(src);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
const std::vector<uint8_t> k8(8, 0);
}  // namespace

TEST_CASE("a valid file parses with absolute offsets", "[safetensors]") {
  auto f = make_st({{"a", DType::F32, {2, 2}, {1, 2, 3, 4}}, {"b", DType::BF16, {4}, {}}});
  MemorySource src("ok.safetensors", f);
  auto h = read_safetensors_header(src);
  REQUIRE(h.tensors.size() == 2);
  CHECK(h.tensors[0].name == "a");
  CHECK(h.tensors[0].nbytes == 16);
  CHECK(h.tensors[1].offset == h.tensors[0].offset + 16);
  CHECK((8 + h.header_len) % 8 == 0);  // writer pads the header like the reference
}

TEST_CASE("malformed headers are rejected with clear messages", "[safetensors]") {
  CHECK_THAT(st_error_of({1, 2, 3}), Catch::Contains("too small"));
  CHECK_THAT(st_error_of(raw_st("{}", {}, 1000)), Catch::Contains("runs past the end"));
  CHECK_THAT(st_error_of(raw_st("{}", {}, 200000000)), Catch::Contains("100 MB"));
  CHECK_THAT(st_error_of(raw_st("[1,2]", {})), Catch::Contains("start with '{'"));
  CHECK_THAT(st_error_of(raw_st("{\"a\":", {})), Catch::Contains("not valid JSON"));
  CHECK_THAT(st_error_of(raw_st(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", k8)),
             Catch::Contains("duplicate") && Catch::Contains("'w'"));
  CHECK_THAT(st_error_of(raw_st(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", k8)),
             Catch::Contains("overlaps"));
  CHECK_THAT(st_error_of(raw_st(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", k8)),
             Catch::Contains("gap") && Catch::Contains("'a'"));
  CHECK_THAT(st_error_of(raw_st(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", k8)),
             Catch::Contains("past the end"));
  CHECK_THAT(st_error_of(raw_st(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", k8)),
             Catch::Contains("needs 12"));
  CHECK_THAT(st_error_of(raw_st(R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", k8)),
             Catch::Contains("unknown dtype"));
  CHECK_THAT(st_error_of(raw_st(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", k8)),
             Catch::Contains("negative"));
  CHECK_THAT(st_error_of(raw_st(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", k8)),
             Catch::Contains("overflow"));
  CHECK_THAT(st_error_of(raw_st(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", k8)),
             Catch::Contains("trailing bytes"));
  CHECK_THAT(st_error_of(raw_st(R"({"__metadata__":{"k":1}})", {})), Catch::Contains("__metadata__"));
}

TEST_CASE("shards with an index: missing shard, missing tensor and wrong mapping are errors", "[safetensors]") {
  auto s1 = make_st({{"a", DType::F32, {2}, {1, 2}}});
  auto s2 = make_st({{"b", DType::F32, {2}, {3, 4}}});
  auto index = [](const std::string& wm) { return std::string(R"({"metadata":{},"weight_map":)") + wm + "}"; };
  auto open_err = [&](const std::string& wm, bool with_s2) {
    MemoryProvider p;
    p.add("s1.safetensors", s1);
    if (with_s2) p.add("s2.safetensors", s2);
    p.add("model.safetensors.index.json", index(wm));
    try {
      open_checkpoint(p);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(open_err(R"({"a":"s1.safetensors","b":"s2.safetensors"})", true).empty());
  CHECK_THAT(open_err(R"({"a":"s1.safetensors","b":"s2.safetensors"})", false), Catch::Contains("s2.safetensors") && Catch::Contains("does not exist"));
  CHECK_THAT(open_err(R"({"a":"s1.safetensors","b":"s2.safetensors","c":"s2.safetensors"})", true), Catch::Contains("'c'"));
  CHECK_THAT(open_err(R"({"a":"s2.safetensors","b":"s2.safetensors"})", true), Catch::Contains("'a'"));
  CHECK_THAT(open_err(R"({"a":"../s1.safetensors","b":"s2.safetensors"})", true), Catch::Contains("outside"));
}

TEST_CASE("fingerprint depends on names, dtypes and shapes, not on sharding", "[safetensors]") {
  MemoryProvider one, two;
  one.add("model.safetensors", make_st({{"a", DType::F32, {2}, {1, 2}}, {"b", DType::F32, {2}, {3, 4}}}));
  two.add("x.safetensors", make_st({{"b", DType::F32, {2}, {3, 4}}}));
  two.add("y.safetensors", make_st({{"a", DType::F32, {2}, {1, 2}}}));
  two.add("model.safetensors.index.json", std::string(R"({"weight_map":{"a":"y.safetensors","b":"x.safetensors"}})"));
  CHECK(open_checkpoint(one).fingerprint == open_checkpoint(two).fingerprint);
  MemoryProvider other;
  other.add("model.safetensors", make_st({{"a", DType::F32, {2}, {1, 2}}, {"b", DType::F16, {2}, {3, 4}}}));
  CHECK(open_checkpoint(other).fingerprint != open_checkpoint(one).fingerprint);
}
