// convert-gguf (core/convert/gguf_transcode): MLX 4/5-bit affine tensors become Q4_1/Q5_1 whose dequantized
// values equal the MLX model's bit for bit; blocks whose scale/bias are not F16 values are requantized and
// counted; other widths are requantized and reported; the verb's output contract.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "convert/gguf_llama.h"
#include "convert/gguf_transcode.h"
#include "file_source.h"
#include "io/dtype.h"
#include "model_input.h"
#include "quant/affine.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;
namespace fs = std::filesystem;

namespace {
}  // namespace

TEST_CASE("MLX 4/5-bit block -> Q4_1/Q5_1: ggml's dequantization gives scale*q + bias, non-F16 parameters refused", "[gguf][convert-gguf]") {
  for (const int bits : {4, 5}) {
    uint8_t codes[32];
    for (int j = 0; j < 32; ++j) codes[j] = static_cast<uint8_t>((j * 7 + 3) % (1 << bits));
    const float scale = -0.01318359375f, bias = 0.2001953125f;  // both exactly F16 values
    REQUIRE(f16_to_f32(f32_to_f16(scale)) == scale);
    uint8_t blk[24] = {};
    const uint32_t type = bits == 4 ? ggml_id::Q4_1 : ggml_id::Q5_1;
    REQUIRE(mlx_block_to_ggml(codes, scale, bias, bits, blk));
    float got[32], want[32];
    gguf_decode_rows(type, blk, 1, 32, got);
    uint8_t packed[32 * 5 / 8];
    pack_codes(codes, 32, bits, packed);
    dequantize_rows(packed, &scale, &bias, 1, 32, QConfig{bits, 32}, want);  // MLX's ŵ = scale·q + bias
    CHECK(std::memcmp(got, want, sizeof got) == 0);
    // A BF16 scale below F16's normal range keeps more bits than an F16 subnormal holds; a bias past 65504.
    const float tiny = bf16_to_f32(f32_to_bf16(1.2345e-6f));
    CHECK_FALSE(mlx_block_to_ggml(codes, tiny, bias, bits, blk));
    CHECK_FALSE(mlx_block_to_ggml(codes, scale, 70000.0f, bits, blk));
    CHECK_FALSE(mlx_block_to_ggml(codes, scale, 0.1f, bits, blk));  // 0.1 is no F16 value
  }
}

TEST_CASE("convert-gguf of an MLX mix of stories260K: 4/5-bit tensors bit-exact as Q4_1/Q5_1, 8-bit requantized and reported",
          "[gguf][convert-gguf]") {
  TempDir d;
  std::string log;
  const std::string M = stories();
  REQUIRE(run(cli() + " -q analyze " + M + " --bits 4,5,8 --group-sizes 32,64 -o " + d.str("a.json")) == 0);
  REQUIRE(run(cli() + " -q plan " + d.str("a.json") + " --bpw 7.2 --objective nrmse --prior-set roles -o " + d.str("p.json")) == 0);  // a mix with 8-bit tensors
  REQUIRE(run(cli() + " -q quantize " + M + " --plan " + d.str("p.json") + " -o " + d.str("mlx")) == 0);
  REQUIRE(run(cli() + " -q convert-gguf " + d.str("mlx") + " -o " + d.str("c.gguf") + " --report " + d.str("r.json"), &log) == 0);
  const auto rep = nlohmann::json::parse(read_text_file(d.str("r.json")));
  CHECK(rep["format"] == "squint.convert-gguf");
  CHECK(rep["file_bytes"].get<uint64_t>() == fs::file_size(d.path / "c.gguf"));

  DirProvider dp(d.str("mlx"));
  MlxModel m = open_mlx_model(dp);
  FileSource f(d.str("c.gguf"));
  const GgufFile g = read_gguf(f);
  WeightSource ws = weights_from_gguf(g, f);
  std::map<std::string, int> copied_types;
  int requantized = 0;
  for (const auto& t : rep["tensors"]) {
    const std::string name = t["name"].get<std::string>(), src = t["source"].get<std::string>(), type = t["type"].get<std::string>();
    INFO(name << " " << src << " -> " << type);
    const LogicalTensor* lt = m.find(name);
    REQUIRE(lt);
    std::vector<float> mlx(logical_rows(*lt) * logical_cols(*lt)), gguf;
    REQUIRE(read_logical_f32(m, *lt, mlx.data()));
    std::vector<int64_t> shape;
    REQUIRE(ws(name, &shape, &gguf));  // dequantized by the ggml port, Q/K permutation undone
    CHECK(g.tensor(t["gguf_name"].get<std::string>())->type == gguf_type_id_from_name(type).value());
    if (src.rfind("4/", 0) == 0 || src.rfind("5/", 0) == 0) {
      CHECK(type == (src[0] == '4' ? "Q4_1" : "Q5_1"));
      CHECK(t["copied"] == true);
      CHECK(t["requantized_blocks"] == 0);  // F16 scales: every block representable
      CHECK(t["lossless"] == true);
      CHECK(same_bits(gguf, mlx));
      ++copied_types[type];
    } else if (src.rfind("8/", 0) == 0) {
      CHECK(type == "Q8_0");
      CHECK(t["lossless"] == false);
      CHECK(t["requantized_blocks"] == t["blocks"]);
      CHECK(t["sqnr_db"].get<double>() > 35.0);
      CHECK_FALSE(same_bits(gguf, mlx));
      ++requantized;
    } else {  // float tensors keep their values
      CHECK(t["lossless"] == true);
      CHECK(same_bits(gguf, mlx));
    }
  }
  CHECK(copied_types["Q4_1"] > 0);
  CHECK(copied_types["Q5_1"] > 0);
  CHECK(requantized > 0);
  CHECK(rep["unrepresentable_blocks"] == 0);
  CHECK(rep["tensors_lossless"].get<int>() == static_cast<int>(rep["tensors_total"].get<int>()) - requantized);

  // Output contract: an existing file is refused without --force, and nothing is left behind on error.
  CHECK(run(cli() + " convert-gguf " + d.str("mlx") + " -o " + d.str("c.gguf"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("already exists"));
  CHECK(run(cli() + " convert-gguf " + M + "/model.safetensors -o " + d.str("x.gguf"), &log) == 2);
  CHECK(!fs::exists(d.path / "x.gguf"));
}
