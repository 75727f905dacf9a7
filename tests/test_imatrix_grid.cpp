// The grid types with an importance matrix, end to end: analyze --imatrix measures all 19 GGUF types (the six
// that llama-quantize makes only with an imatrix among them, never for a tensor the imatrix has no entry for
// when ggml or llama.cpp would refuse it), and a plan of grid types quantized with --imatrix is byte-identical
// to what llama_model_quantize writes for the same types and the same imatrix (libllama from node_modules).
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "file_source.h"
#include "io/gguf.h"
#include "io/imatrix.h"
#include "llama_quantize.h"
#include "quant/ggml_quants.h"
#include "gguf_tensor_pins.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;
using nlohmann::json;

namespace {
std::string imgrid_model() { return shared_dir() + "/models/tinystories-3M"; }  // 256-wide rows
json imgrid_json(const std::string& p) { return json::parse(read_all_text(FileSource(p))); }
}  // namespace

TEST_CASE("imatrix grid types: analyze --imatrix measures all 19 types, plans of IQ types equal llama_model_quantize's",
          "[imatrix][cli][llama][slow]") {
  TempDir d;
  std::string log;
  const std::string M = imgrid_model();
  REQUIRE(run(cli() + " -q imatrix " + M + " --text " + shared_dir() +
                  "/data/tinystories/train.txt --samples 2 --seq-len 64 -o " + d.str("im.gguf"),
              &log) == 0);
  REQUIRE(run(cli() + " -q analyze " + M + " --format gguf --imatrix " + d.str("im.gguf") + " -o " + d.str("a.json"),
              &log) == 0);
  const json a = imgrid_json(d.str("a.json"));
  std::size_t with_iq1 = 0, embd_checked = 0;
  for (const json& t : a["tensors"]) {
    std::set<std::string> measured, refused;
    for (const json& c : t.value("configs", json::array())) measured.insert(c.value("type", ""));
    for (const json& c : t.value("invalid_configs", json::array())) refused.insert(c.value("type", ""));
    if (measured.count("IQ1_S")) ++with_iq1;
    if (t["name"] == "model.embed_tokens.weight") {  // tied, no imatrix entry (llama-imatrix sees no matmul)
      ++embd_checked;
      CHECK(refused.count("IQ2_XXS"));  // ggml makes it only with weights
      CHECK(refused.count("IQ1_S"));
      CHECK(measured.count("IQ1_M"));  // llama.cpp makes it for token_embd without weights
      CHECK(measured.count("IQ3_S"));
    }
  }
  CHECK(embd_checked == 1);
  CHECK(with_iq1 >= 20);  // every linear of the decoder
  // Without --imatrix: the 13 types, no grid type but IQ3_S.
  REQUIRE(run(cli() + " -q analyze " + M + " --format gguf -o " + d.str("a0.json"), &log) == 0);
  const json a0 = imgrid_json(d.str("a0.json"));
  std::size_t grid0 = 0, iq3s0 = 0;
  for (const json& t : a0["tensors"])
    for (const json& c : t.value("configs", json::array())) {
      grid0 += c.value("type", "") == "IQ2_XXS" || c.value("type", "") == "IQ1_M";
      iq3s0 += c.value("type", "") == "IQ3_S";
    }
  CHECK(grid0 == 0);
  CHECK(iq3s0 >= 20);

  // A plan over grid types (their ggml tables are quick to build: IQ2_XXS, IQ3_XXS, IQ3_S) and Q4_K.
  REQUIRE(run(cli() + " -q plan " + d.str("a.json") + " --bpw 2.9 --types IQ2_XXS,IQ3_XXS,IQ3_S,Q4_K --floor 0 -o " +
                  d.str("p.json"),
              &log) == 0);
  REQUIRE(run(cli() + " -q quantize " + M + " --plan " + d.str("p.json") + " --imatrix " + d.str("im.gguf") + " -o " +
                  d.str("squint.gguf"),
              &log) == 0);
  REQUIRE(run(cli() + " -q quantize " + M + " --format gguf --type F32 -o " + d.str("f32.gguf"), &log) == 0);
  const auto ours = gguf_tensor_data(d.str("squint.gguf"));
  FileSource imf(d.str("im.gguf"));
  const auto weights = imatrix_quant_weights(read_imatrix(imf));
  LlamaQuantizeRequest r;
  r.in = d.str("f32.gguf");
  r.out = d.str("llama.gguf");
  r.ftype = llama_ftype_from_name("Q8_0");
  r.pure = true;
  r.imatrix = &weights;
  const std::set<std::string> types = pin_tensor_types(r, ours);
  INFO(log);
  // At 2.9 bpw on tinystories-3M: IQ2_XXS and IQ3_XXS in the decoder, IQ3_S for the tied embedding.
  CHECK(types.count("IQ2_XXS"));
  CHECK(types.count("IQ3_XXS"));
  CHECK(types.size() >= 3);
  llama_quantize_file(r);
  const auto ref = gguf_tensor_data(d.str("llama.gguf"));
  std::size_t same = 0;
  for (const auto& [name, t] : ours) {
    if (gguf_type_size(t.first).block <= 1) continue;
    INFO(name << " " << gguf_type_size(t.first).name);
    REQUIRE(ref.count(name));
    CHECK(ref.at(name).first == t.first);
    same += ref.at(name).second == t.second;
  }
  CHECK(same == r.tensor_types.size());
  // Negative control: llama.cpp with every 5th column's weight 50x heavier writes other bytes for the grid types.
  auto heavier = weights;
  for (auto& [name, w] : heavier)
    for (std::size_t i = 0; i < w.size(); i += 5) w[i] *= 50;
  r.imatrix = &heavier;
  r.out = d.str("llama-heavier.gguf");
  llama_quantize_file(r);
  const auto other = gguf_tensor_data(d.str("llama-heavier.gguf"));
  std::size_t differ = 0;
  for (const auto& [name, t] : ours)
    if (ggml_is_grid_type(static_cast<GgmlType>(t.first))) differ += other.at(name).second != t.second;
  CHECK(differ > 0);
}
