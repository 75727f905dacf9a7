// The malformed-file corpus, generated here: each class through the CLI (exit 2, one line naming file and
// tensor, no output left behind) — or the documented result for values that are valid but unusual.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "analysis/analysis_json.h"
#include "file_source.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;
namespace fs = std::filesystem;

namespace {
const std::vector<uint8_t> zeros8(8, 0);

struct Case {
  const char* what;
  std::vector<uint8_t> file;
  const char* needle;  // expected in the message
};

std::vector<Case> corpus() {
  auto ok = make_safetensors({{"model.layers.0.mlp.up_proj.weight", DType::F32, {2, 32}, randn(64, 1)}});
  std::vector<uint8_t> trunc(ok.begin(), ok.begin() + 20);
  std::vector<uint8_t> short_data(ok.begin(), ok.end() - 4);
  return {
      {"file shorter than 8 bytes", {1, 2, 3}, "too small"},
      {"truncated header", trunc, "runs past the end"},
      {"header length beyond file", raw_safetensors("{}", {}, 5000), "runs past the end"},
      {"header > 100 MB", raw_safetensors("{}", {}, 150000000), "100 MB"},
      {"non-object JSON", raw_safetensors("[1]", {}), "start with '{'"},
      {"invalid JSON", raw_safetensors("{\"a\":", {}), "not valid JSON"},
      {"duplicate names", raw_safetensors(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", zeros8), "duplicate"},
      {"overlapping offsets", raw_safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", zeros8), "overlaps"},
      {"gap before first tensor", raw_safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", zeros8), "gap"},
      {"gap between tensors", raw_safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}})", zeros8), "gap"},
      {"offsets past end", raw_safetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", zeros8), "past the end"},
      {"size != shape x dtype", raw_safetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", zeros8), "needs 12"},
      {"unknown dtype", raw_safetensors(R"({"a":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", zeros8), "unknown dtype"},
      {"negative dim", raw_safetensors(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", zeros8), "negative"},
      {"huge dims", raw_safetensors(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", zeros8), "overflow"},
      {"trailing bytes", raw_safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", zeros8), "trailing"},
      {"data shorter than header says", short_data, "past the end"},
      {"reversed offsets", raw_safetensors(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", zeros8), "end before"},
  };
}
}  // namespace

TEST_CASE("malformed safetensors: exit 2, one clear line, nothing written", "[hardening]") {
  TempDir d;
  int n = 0;
  for (const auto& c : corpus()) {
    INFO(c.what);
    const fs::path dir = d.path / ("case" + std::to_string(n++));
    fs::create_directories(dir);
    write_bytes(dir / "model.safetensors", c.file);
    std::string out;
    const std::string json = (dir / "out.json").string();
    CHECK(run(cli() + " -q analyze " + dir.string() + " -o " + json, &out) == 2);
    CHECK_THAT(out, Catch::Contains(c.needle) && Catch::Contains("model.safetensors") && Catch::StartsWith("squint: error:"));
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(json));
    for (const auto& e : fs::directory_iterator(dir)) CHECK(e.path().filename() == "model.safetensors");
    CHECK(run(cli() + " -q inspect " + dir.string(), &out) == 2);
  }
}

TEST_CASE("index problems: missing shard, missing tensor, wrong shard", "[hardening]") {
  TempDir d;
  write_bytes(d.path / "s1.safetensors", make_safetensors({{"a", DType::F32, {2, 32}, randn(64, 2)}}));
  auto idx = [&](const std::string& wm) { write_text(d.path / "model.safetensors.index.json", "{\"weight_map\":" + wm + "}"); };
  std::string out;
  idx(R"({"a":"s1.safetensors","b":"s2.safetensors"})");
  CHECK(run(cli() + " -q inspect " + d.str(), &out) == 2);
  CHECK_THAT(out, Catch::Contains("s2.safetensors") && Catch::Contains("does not exist"));
  idx(R"({"a":"s1.safetensors","zz":"s1.safetensors"})");
  CHECK(run(cli() + " -q inspect " + d.str(), &out) == 2);
  CHECK_THAT(out, Catch::Contains("'zz'"));
  idx(R"({"b":"s1.safetensors"})");
  CHECK(run(cli() + " -q inspect " + d.str(), &out) == 2);
  CHECK_THAT(out, Catch::Contains("'a'") && Catch::Contains("not listed"));
  idx(R"({})");
  CHECK(run(cli() + " -q inspect " + d.str(), &out) == 2);
  CHECK_THAT(out, Catch::Contains("no tensors"));
}

TEST_CASE("valid but unusual values: NaN/Inf kept, constant measured exactly, zero-size kept, I8 listed", "[hardening]") {
  TempDir d;
  auto nan = randn(64 * 64, 3);
  nan[7] = NAN;
  auto inf = randn(64 * 64, 4);
  inf[9] = -INFINITY;
  write_bytes(d.path / "model.safetensors",
              make_safetensors({{"model.layers.0.self_attn.q_proj.weight", DType::BF16, {64, 64}, nan},
                                {"model.layers.0.self_attn.k_proj.weight", DType::F16, {64, 64}, inf},
                                {"model.layers.0.self_attn.v_proj.weight", DType::BF16, {64, 64}, std::vector<float>(4096, 0.25f)},
                                {"model.layers.0.self_attn.o_proj.weight", DType::BF16, {0, 64}, {}},
                                {"model.layers.0.mlp.up_proj.weight", DType::I8, {64, 64}, {}}}));
  std::string out;
  REQUIRE(run(cli() + " analyze " + d.str() + " -o " + d.str("a.json"), &out) == 0);
  CHECK_THAT(out, Catch::Contains("warning") && Catch::Contains("q_proj") && Catch::Contains("NaN"));
  Analysis a = parse_analysis(read_text_file(d.str("a.json")), "a.json");
  CHECK_FALSE(a.tensors[0].measured);
  CHECK_FALSE(a.tensors[1].measured);
  REQUIRE(a.tensors[2].measured);
  for (const auto& r : a.tensors[2].results) CHECK(r.sqnr_db == kMaxSqnrDb);
  CHECK_FALSE(a.tensors[3].measured);
  CHECK_THAT(a.tensors[3].reason, Catch::Contains("empty"));
  CHECK_FALSE(a.tensors[4].measured);
  CHECK_THAT(a.tensors[4].reason, Catch::Contains("I8"));
  // Planning keeps what could not be measured.
  REQUIRE(run(cli() + " -q plan " + d.str("a.json") + " --min-safe -o " + d.str("p.json"), &out) == 0);
  auto p = nlohmann::json::parse(read_text_file(d.str("p.json")));
  CHECK(p["tensors"][0]["bits"] == 16);
  CHECK(p["tensors"][4]["bits"] == 16);
}

TEST_CASE("plan problems: wrong fingerprint, budget below min-safe, bad flags", "[hardening]") {
  TempDir d;
  const std::string m = shared_dir() + "/models/stories260K";
  std::string out;
  CHECK(run(cli() + " -q plan " + m + " --budget 10KB -o " + d.str("p.json"), &out) == 2);
  CHECK_THAT(out, Catch::Contains("smallest safe size") && Catch::Contains("KB"));
  CHECK_FALSE(fs::exists(d.path / "p.json"));
  CHECK(run(cli() + " -q plan " + m + " --budget lots", &out) == 2);
  CHECK_THAT(out, Catch::Contains("--budget"));
  CHECK(run(cli() + " -q plan " + m + " --bpw 7 --prior 'nonsense'", &out) == 2);
}
