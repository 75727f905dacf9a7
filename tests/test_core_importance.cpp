// An imatrix applied to one model (core/analysis/importance.h): its weights by tensor, another model's imatrix
// refused naming the entry, the record analysis.json and plan.json carry, and quantize's rule about it. Core only.
#include <catch2/catch.hpp>

#include "analysis/importance.h"
#include "analysis/roles.h"
#include "test_util_core.h"
#include "util/error.h"

using namespace squint;

namespace {
// A 1-layer Llama-shaped checkpoint in memory: q_proj [8, 32], down_proj [32, 64], an embedding.
Checkpoint importance_tiny_model() {
  MemoryProvider mp;
  mp.add("config.json",
         std::string(R"({"model_type":"llama","num_hidden_layers":1,"hidden_size":32,"intermediate_size":64,
      "num_attention_heads":4,"num_key_value_heads":4,"vocab_size":16,"tie_word_embeddings":true})"));
  mp.add("model.safetensors", test::make_st({{"model.embed_tokens.weight", DType::F32, {16, 32}, {}},
                                             {"model.layers.0.self_attn.q_proj.weight", DType::F32, {8, 32}, {}},
                                             {"model.layers.0.mlp.down_proj.weight", DType::F32, {32, 64}, {}}}));
  return open_checkpoint(mp);
}
Imatrix importance_tiny_imatrix() {
  Imatrix m;
  m.chunk_count = 1;
  m.chunk_size = 4;
  m.entries["blk.0.attn_q.weight"] = {std::vector<float>(32, 8.0f), {4}};
  m.entries["blk.0.ffn_down.weight"] = {std::vector<float>(64, 2.0f), {4}};
  return m;
}
}  // namespace

TEST_CASE("imatrix matched to a model: weights by tensor, another model's imatrix refused naming the entry",
          "[imatrix]") {
  const Checkpoint ck = importance_tiny_model();
  ImatrixRef ref;
  ref.file = "im.gguf";
  ref.hash = "xxh64:1";
  const ModelImatrix mi = match_imatrix(importance_tiny_imatrix(), ref, ck);
  REQUIRE(mi.find("model.layers.0.self_attn.q_proj.weight"));
  CHECK(*mi.find("model.layers.0.self_attn.q_proj.weight") == std::vector<float>(32, 2.0f));
  CHECK(*mi.find("model.layers.0.mlp.down_proj.weight") == std::vector<float>(64, 0.5f));
  CHECK_FALSE(mi.find("model.embed_tokens.weight"));  // no entry: quantized without weights, as llama.cpp does
  // Column weights for the calibrated objective: each tensor its own.
  const ColumnWeights cw = column_weights_from_imatrix(mi);
  CHECK(cw.kind == "calibrated");
  CHECK_THAT(cw.source, Catch::Contains("im.gguf"));
  const TensorRole q = classify_tensor(*ck.find("model.layers.0.self_attn.q_proj.weight"), ck.config);
  REQUIRE(cw.for_tensor("model.layers.0.self_attn.q_proj.weight", q, true, 32));
  CHECK(cw.for_tensor("model.layers.0.self_attn.q_proj.weight", q, true, 32)->at(0) == 2.0f);
  // Another model: a name it lacks, or a different column count.
  Imatrix other = importance_tiny_imatrix();
  other.entries["blk.1.attn_q.weight"] = {std::vector<float>(32, 1.0f), {4}};
  CHECK_THROWS_WITH(
      match_imatrix(other, ref, ck),
      Catch::Contains("im.gguf: entry 'blk.1.attn_q.weight' names no tensor") && Catch::Contains("another model"));
  other = importance_tiny_imatrix();
  other.entries["blk.0.attn_q.weight"] = {std::vector<float>(64, 1.0f), {4}};
  CHECK_THROWS_WITH(match_imatrix(other, ref, ck),
                    Catch::Contains("'blk.0.attn_q.weight' has 1 x 64 values") && Catch::Contains("has 32 columns"));
  other = importance_tiny_imatrix();
  other.entries["blk.0.attn_q.weight"] = {std::vector<float>(64, 1.0f), {4, 4}};  // 2 experts for a dense weight
  CHECK_THROWS_WITH(match_imatrix(other, ref, ck), Catch::Contains("has 2 x 32 values"));
  other = importance_tiny_imatrix();
  other.legacy = true;
  other.entries["blk.0.ffn_down.weight"] = {std::vector<float>(32, 1.0f), {4}};
  CHECK_THROWS_WITH(match_imatrix(other, ref, ck), Catch::Contains("has 32 values"));
}

TEST_CASE("imatrix record: JSON round trip, and the plan/quantize rule names both files", "[imatrix]") {
  ImatrixRef r;
  r.file = "a/im.gguf";
  r.hash = "xxh64:00000000000000aa";
  r.format = "gguf";
  r.chunk_count = 12;
  r.chunk_size = 512;
  r.datasets = {"train.txt"};
  r.entries = 35;
  const ImatrixRef b = imatrix_ref_from_json(imatrix_ref_json(r), "t");
  CHECK(imatrix_ref_json(b) == imatrix_ref_json(r));
  CHECK_THROWS_WITH(imatrix_ref_from_json(nlohmann::json{{"file", "x"}, {"hash", ""}, {"format", "gguf"}}, "p.json"),
                    Catch::Contains("p.json: imatrix: empty hash"));
  CHECK_THROWS_WITH(
      imatrix_ref_from_json(nlohmann::json{{"file", "x"}, {"hash", "h"}, {"format", "gguf"}, {"chunk_count", 1e40}},
                            "p.json"),
      Catch::Contains("chunk_count"));
  ImatrixRef other = r;
  other.file = "b.dat";
  other.hash = "xxh64:00000000000000bb";
  CHECK_NOTHROW(check_plan_imatrix(r, &r, "plan.json"));
  CHECK_NOTHROW(check_plan_imatrix(ImatrixRef{}, nullptr, "plan.json"));
  CHECK_THROWS_WITH(check_plan_imatrix(r, &other, "plan.json"),
                    Catch::Contains("plan.json was made with imatrix a/im.gguf") && Catch::Contains("not b.dat"));
  CHECK_THROWS_WITH(check_plan_imatrix(r, nullptr, "plan.json"), Catch::Contains("pass the same file with --imatrix"));
  CHECK_THROWS_WITH(check_plan_imatrix(ImatrixRef{}, &other, "plan.json"), Catch::Contains("made without an imatrix"));
}
