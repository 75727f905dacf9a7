// GGUF through the CLI on the real stories260K: written files read back (F32 exactly: same logits as the float
// model, Q/K permutation undone; F16 within F16 rounding), greedy output reproduces REFERENCE.txt, and bad
// input is one line, exit 2, nothing written. (llama.cpp itself runs these files in tests/gguf/*.mjs.)
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "convert/gguf_llama.h"
#include "model/family.h"
#include "convert/gguf_tokenizer.h"
#include "eval_model.h"
#include "file_source.h"
#include "plan/plan.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;
namespace fs = std::filesystem;

namespace {
}  // namespace

TEST_CASE("GGUF F32 of stories260K: llama metadata, tokenizer, tied embeddings, same logits as the float model", "[gguf]") {
  TempDir d;
  const std::string out = d.str("s.gguf");
  std::string log;
  REQUIRE(run(cli() + " quantize " + stories() + " --format gguf --type F32 -o " + out, &log) == 0);
  FileSource f(out);
  GgufFile g = read_gguf(f);
  CHECK(g.find("general.architecture")->as_string("") == "llama");
  CHECK(g.find("llama.attention.head_count_kv")->type == GgufValueType::UINT32);
  CHECK(g.find("llama.attention.head_count_kv")->as_int("") == 4);
  CHECK(g.find("llama.rope.dimension_count")->as_int("") == 8);
  CHECK(g.find("tokenizer.ggml.model")->as_string("") == "llama");
  CHECK(g.find("tokenizer.ggml.tokens")->arr.size() == 512);
  CHECK(g.find("tokenizer.ggml.tokens")->arr[403].str == "\xe2\x96\x81Once");  // "▁Once", the reference's first token
  CHECK(g.find("tokenizer.ggml.token_type")->arr[0].as_int("") == 2);          // <unk>
  CHECK(g.find("tokenizer.ggml.token_type")->arr[1].as_int("") == 3);          // <s> control
  CHECK(g.find("tokenizer.ggml.bos_token_id")->as_int("") == 1);
  CHECK(g.find("tokenizer.ggml.add_bos_token")->as_bool(""));
  CHECK(g.tensor("output.weight") == nullptr);  // tied
  const GgufTensorInfo* q = g.tensor("blk.0.attn_q.weight");
  REQUIRE(q);
  CHECK(q->ne == std::vector<uint64_t>{64, 64});
  CHECK(g.tensor("blk.0.attn_k.weight")->ne == std::vector<uint64_t>{64, 32});
  CHECK(g.tensor("blk.0.ffn_down.weight")->ne == std::vector<uint64_t>{172, 64});
  // The file holds permuted Q rows, the reader gives back the HF ones.
  Checkpoint ck = open_model(stories());
  std::vector<float> hf(ck.find("model.layers.0.self_attn.q_proj.weight")->numel());
  std::vector<uint8_t> scratch;
  read_tensor_f32(ck, *ck.find("model.layers.0.self_attn.q_proj.weight"), hf.data(), scratch);
  std::vector<float> raw = read_gguf_tensor_f32(g, f, *q);
  CHECK(raw != hf);
  std::vector<int64_t> shape;
  std::vector<float> back;
  REQUIRE(weights_from_gguf(g, f)("model.layers.0.self_attn.q_proj.weight", &shape, &back));
  CHECK(back == hf);
  auto a = load_model(stories()), b = load_model(out);
  const std::vector<int> ids = {1, 403, 407, 261, 378, 432, 383, 286};
  CHECK((a->logits(ids) - b->logits(ids)).cwiseAbs().maxCoeff() == 0.0f);
  auto want = b->generate_greedy({1}, 40);
  CHECK(want == a->generate_greedy({1}, 40));
}

TEST_CASE("GGUF F16 and the unpermuted debug file: F16 close, no-permute differs in the file but not on read-back", "[gguf]") {
  TempDir d;
  REQUIRE(run(cli() + " -q quantize " + stories() + " --format gguf --type F16 -o " + d.str("h.gguf")) == 0);
  FileSource f(d.str("h.gguf"));
  GgufFile g = read_gguf(f);
  CHECK(g.tensor("blk.1.ffn_up.weight")->type == ggml_id::F16);
  CHECK(g.tensor("blk.1.ffn_norm.weight")->type == ggml_id::F32);  // 1-D stays F32 as in convert_hf_to_gguf
  auto a = load_model(stories()), b = load_model(d.str("h.gguf"));
  const std::vector<int> ids = {1, 403, 407, 261, 378};
  CHECK((a->logits(ids) - b->logits(ids)).cwiseAbs().maxCoeff() < 0.05f);
}

TEST_CASE("GGUF bad input: one line, exit 2, nothing written", "[gguf][hardening]") {
  TempDir d;
  std::string log;
  // A truncated GGUF given to eval.
  REQUIRE(run(cli() + " -q quantize " + stories() + " --format gguf -o " + d.str("ok.gguf")) == 0);
  const std::string whole = read_text_file(d.str("ok.gguf"));
  std::vector<uint8_t> bytes(whole.begin(), whole.end());
  bytes.resize(bytes.size() / 2);
  write_bytes(d.path / "cut.gguf", bytes);
  CHECK(run(cli() + " eval " + d.str("cut.gguf") + " --text " + stories() + "/REFERENCE.txt --seq-len 64 --tokenizer " + stories() +
                " -o " + d.str("e.json"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("cut.gguf: not a valid GGUF file"));
  CHECK(!fs::exists(d.path / "e.json"));
  // Existing output without --force, unknown type, a family llama.cpp's llama graph does not cover.
  CHECK(run(cli() + " quantize " + stories() + " --format gguf -o " + d.str("ok.gguf"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("already exists"));
  CHECK(run(cli() + " quantize " + stories() + " --format gguf --type Q9_X -o " + d.str("x.gguf"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("unknown GGUF type"));
  fs::create_directory(d.path / "neox");
  for (const char* f : {"model.safetensors", "tokenizer.model"}) fs::copy_file(stories() + "/" + f, d.path / "neox" / f);
  write_text(d.path / "neox/config.json", R"({"model_type": "gpt_neox", "hidden_size": 64, "num_hidden_layers": 5,
      "num_attention_heads": 8, "vocab_size": 512, "intermediate_size": 172})");
  CHECK(run(cli() + " quantize " + d.str("neox") + " --format gguf -o " + d.str("g.gguf"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("model_type 'gpt_neox' is not supported"));
  for (const auto& e : fs::directory_iterator(d.path)) CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
  CHECK(!fs::exists(d.path / "x.gguf"));
  CHECK(!fs::exists(d.path / "g.gguf"));
}

TEST_CASE("SentencePiece tokenizer.model of stories260K decodes like libsentencepiece", "[gguf]") {
  SpModel sp = parse_sentencepiece_model(read_text_file(stories() + "/tokenizer.model"), "tokenizer.model");
  REQUIRE(sp.pieces.size() == 512);
  CHECK(sp.pieces[0].piece == "<unk>");
  CHECK(sp.pieces[0].type == 2);
  CHECK(sp.pieces[1].type == 3);
  CHECK(sp.pieces[3].piece == "<0x00>");
  CHECK(sp.pieces[3].type == 6);
  CHECK(sp.bos_id == 1);
  CHECK(sp.eos_id == 2);
  CHECK(sp.pieces[403].piece == "\xe2\x96\x81Once");
}

namespace {
std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
std::string read_bytes(const std::string& path) { return read_text(path); }
// Σ tensor bytes (without alignment padding) of a GGUF file.
uint64_t tensor_bytes(const GgufFile& g) {
  uint64_t n = 0;
  for (const auto& t : g.tensors) n += t.nbytes;
  return n;
}
}  // namespace

TEST_CASE("GGUF --bpw: the plan's types are the file's, its total_bytes the file's tensor bytes, --plan gives the same file", "[gguf][plan]") {
  TempDir d;
  std::string log;
  REQUIRE(run(cli() + " quantize " + stories() + " --format gguf --bpw 7.5 --save-plan " + d.str("p.json") + " -o " +
                  d.str("b.gguf"), &log) == 0);
  const Plan p = parse_plan(read_text(d.str("p.json")), "p.json");
  REQUIRE(p.format == QFormat::Gguf);
  FileSource f(d.str("b.gguf"));
  const GgufFile g = read_gguf(f);
  CHECK(tensor_bytes(g) == p.total_bytes);
  CHECK_THAT(log, Catch::Contains("plan total " + std::to_string(p.total_bytes) + " B"));
  std::set<std::string> types;
  const Family& fam = family_for_gguf(g);
  const auto rules = fam.gguf_names(fam.from_gguf(g, &f));
  for (const auto& pt : p.tensors) {
    auto gn = gguf_name_of(rules, pt.name);
    REQUIRE(gn);
    const GgufTensorInfo* t = g.tensor(gn->name);
    REQUIRE(t);
    INFO(pt.name);
    CHECK(t->nbytes == pt.bytes);
    if (!pt.keep()) CHECK(std::string(gguf_type_size(t->type).name) == pt.type);
    types.insert(gguf_type_size(t->type).name);
  }
  CHECK(types.size() >= 4);  // a real mix: several quantized types plus kept F32/F16
  // gate: the measured SQNR of every quantized tensor equals the plan's prediction to the last digit.
  REQUIRE(run(cli() + " -q gate " + stories() + " " + d.str("b.gguf") + " -o " + d.str("g.json")) == 0);
  const auto gj = nlohmann::json::parse(read_text(d.str("g.json")));
  CHECK(gj["format"] == "squint.gate");
  CHECK(gj["source"] == "model");
  std::size_t compared = 0;
  for (const auto& t : gj["tensors"]) {
    const PlanTensor* pt = p.find(t["name"].get<std::string>());
    REQUIRE(pt);
    INFO(pt->name);
    CHECK(t["type"] == pt->type);
    CHECK(t["sqnr_db"].get<double>() == pt->sqnr_db);
    CHECK(t["nrmse"].get<double>() == pt->nrmse);
    ++compared;
  }
  std::size_t planned = 0;
  for (const auto& pt : p.tensors) planned += !pt.keep();
  CHECK(compared == planned);
  CHECK(gj["kept"].get<std::size_t>() == p.tensors.size() - planned);
  // The plan-predicted verdict agrees, and a floor above the worst tensor fails (exit 1).
  REQUIRE(run(cli() + " -q gate " + stories() + " --plan " + d.str("p.json") + " -o " + d.str("gp.json")) == 0);
  CHECK(nlohmann::json::parse(read_text(d.str("gp.json")))["min_sqnr_db"] == gj["min_sqnr_db"]);
  const double worst = gj["min_sqnr_db"].get<double>();
  CHECK(run(cli() + " -q gate " + stories() + " " + d.str("b.gguf") + " --floor " + std::to_string(worst + 0.5) + " -o " +
            d.str("g2.json")) == 1);
  // The same plan through --plan writes the same bytes.
  REQUIRE(run(cli() + " -q quantize " + stories() + " --format gguf --plan " + d.str("p.json") + " -o " + d.str("p.gguf")) == 0);
  CHECK(read_bytes(d.str("p.gguf")) == read_bytes(d.str("b.gguf")));
  // An MLX plan is refused, nothing written.
  REQUIRE(run(cli() + " -q plan " + stories() + " --bpw 8 -o " + d.str("mlx.json")) == 0);
  CHECK(run(cli() + " quantize " + stories() + " --format gguf --plan " + d.str("mlx.json") + " -o " + d.str("m.gguf"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("an MLX plan"));
  CHECK(!fs::exists(d.path / "m.gguf"));
}

TEST_CASE("GGUF --type Q4_0 on stories260K: 172-wide rows kept in F32 with one note line, file reads back", "[gguf]") {
  TempDir d;
  std::string log;
  REQUIRE(run(cli() + " quantize " + stories() + " --format gguf --type Q4_0 -o " + d.str("q.gguf"), &log) == 0);
  CHECK_THAT(log, Catch::Contains("note: 5 of 47 tensors kept in their float type"));
  FileSource f(d.str("q.gguf"));
  const GgufFile g = read_gguf(f);
  CHECK(g.tensor("blk.0.attn_q.weight")->type == ggml_id::Q4_0);
  CHECK(g.tensor("token_embd.weight")->type == ggml_id::Q4_0);
  CHECK(g.tensor("blk.0.ffn_down.weight")->type == ggml_id::F32);
  auto a = load_model(stories()), b = load_model(d.str("q.gguf"));
  const std::vector<int> ids = {1, 403, 407, 261, 378};
  const float diff = (a->logits(ids) - b->logits(ids)).cwiseAbs().maxCoeff();
  CHECK(diff > 0.0f);
  CHECK(diff < 10.0f);  // 4-bit weights of a 260K model move logits by a few units
}

