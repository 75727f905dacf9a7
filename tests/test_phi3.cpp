// Phi-3 (model_type phi3): config.json as modeling_phi3.py reads it (partial rotary dimensions, su/longrope
// with its short / long factors and attention factor, a window on every layer) and what squint refuses; GGUF
// as conversion/phi.py lays it out (attn_qkv, ffn_up holding [gate; up], rope_factors_long / _short and their
// keys) read back with the same logits; MLX output as mlx-lm's phi3.py loads it (fused modules quantized as
// they are), evaluated close to the float model; fused tensors missing or mis-shaped refused with one line;
// data-free norm weights and calibration for fused sites. llama.cpp running these files:
// tests/gguf/families.test.mjs (presets phi3 and phi3-long, negative control swap-gate-up-halves).
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "analysis/column_weights.h"
#include "convert/gguf_llama.h"
#include "eval_model.h"
#include "file_source.h"
#include "io/mlx_model.h"
#include "model/family.h"
#include "model/layers.h"
#include "model_input.h"
#include "synth/synth.h"
#include "test_util.h"
#include "util/error.h"

using namespace squint;
using namespace squint::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
std::string phi3_dir(TempDir& d, const std::string& preset = "phi3") {
  const std::string dir = d.str(preset);
  REQUIRE(run(cli() + " synth " + dir + " --preset " + preset) == 0);
  for (const char* f : {"tokenizer.model", "tokenizer_config.json"})
    fs::copy_file(shared_dir() + "/models/stories260K/" + f, dir + "/" + f);
  return dir;
}
json phi3_config(const std::string& preset = "phi3") { return synth_config(synth_preset(preset)); }
std::string phi3_refusal(const json& cfg) {
  try {
    hparams_from_config(cfg, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
void phi3_edit(const std::string& file, const std::string& from, const std::string& to) {
  std::string s = read_text_file(file);
  const auto k = s.find(from);
  REQUIRE(k != std::string::npos);
  s.replace(k, from.size(), to);
  std::ofstream(file, std::ios::binary) << s;
}
const std::vector<int> kPhi3Tokens = {1, 403, 9, 77, 3, 3, 300, 12, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28};
}  // namespace

TEST_CASE("Phi-3 config: partial rotary, longrope's factors and attention factor, refusals", "[model][phi3]") {
  const ModelHparams h = hparams_from_config(phi3_config(), "config.json");
  CHECK(h.family == "phi3");
  CHECK(h.rope.dims == 24);  // int(32 x 0.75)
  CHECK(h.rope.type == "longrope");
  CHECK(h.rope.original_max_pos == 4096);
  // HF: sqrt(1 + ln(131072 / 4096) / ln 4096).
  CHECK(h.rope.attn_factor == Approx(std::sqrt(1 + std::log(32.0) / std::log(4096.0))).epsilon(1e-12));
  REQUIRE(h.rope.short_factor.size() == 12);
  CHECK(h.rope.short_factor[11] == Approx(2.65));
  CHECK(h.sliding_window == 262144);
  CHECK(h.sliding(0));
  CHECK(h.sliding(1));
  // Short factors up to the original length, long ones beyond (HF's dynamic longrope update).
  for (int T : {64, 4096, 4097}) {
    const std::vector<float> inv = rope_inv_freq(h.rope, 24, T);
    const std::vector<float>& f = T > 4096 ? h.rope.long_factor : h.rope.short_factor;
    for (int i = 0; i < 12; ++i) CHECK(inv[i] == Approx(1.0 / (std::pow(10000.0, i / 12.0) * f[i])).epsilon(1e-6));
  }
  const RopeTable rt = rope_table({0.5f}, 2, 3, 2.0f);
  CHECK(rt.cos(2, 0) == Approx(2.0 * std::cos(1.0)));
  CHECK(rt.sin(2, 0) == Approx(2.0 * std::sin(1.0)));
  // A configured attention_factor wins (HF); the original length may sit inside rope_scaling (newer configs).
  json c = phi3_config();
  c["rope_scaling"]["attention_factor"] = 1.5;
  c.erase("original_max_position_embeddings");
  c["rope_scaling"]["original_max_position_embeddings"] = 2048;
  const ModelHparams h2 = hparams_from_config(c, "config.json");
  CHECK(h2.rope.attn_factor == 1.5);
  CHECK(h2.rope.original_max_pos == 2048);

  auto refused = [](const std::function<void(json&)>& f) {
    json c = phi3_config();
    f(c);
    return phi3_refusal(c);
  };
  CHECK_THAT(refused([](json& c) { c["rope_scaling"]["type"] = "yarn"; }),
             Catch::Contains("rope_scaling: type 'yarn' is not supported for phi3 (su, longrope, linear)"));
  CHECK_THAT(refused([](json& c) { c["rope_scaling"]["short_factor"].erase(0); }),
             Catch::Contains("short_factor has 11 values; the rotary dimensions need 12"));
  CHECK_THAT(refused([](json& c) { c["rope_scaling"]["long_factor"][3] = -1; }),
             Catch::Contains("long_factor holds a value that is not a positive number"));
  CHECK_THAT(refused([](json& c) { c["rope_scaling"].erase("long_factor"); }),
             Catch::Contains("long_factor must be a list of numbers"));
  CHECK_THAT(refused([](json& c) { c["partial_rotary_factor"] = 0.3; }), Catch::Contains("gives 9 rotary dimensions"));
  CHECK_THAT(refused([](json& c) { c["hidden_act"] = "gelu"; }),
             Catch::Contains("hidden_act \"gelu\" is not supported for phi3"));
  CHECK_THAT(refused([](json& c) {
               c["rope_parameters"] = {{"rope_type", "default"}};
             }),
             Catch::Contains("rope_parameters is not read for phi3"));
  CHECK(refused([](json& c) { c["rope_scaling"] = nullptr; }).empty());  // Phi-3-mini-4k: no scaling
}

TEST_CASE("GGUF of Phi-3: conversion/phi.py's layout and keys, same logits read back", "[gguf][phi3]") {
  TempDir d;
  const std::string m = phi3_dir(d), out = d.str("phi3.gguf");
  std::string log;
  REQUIRE(run(cli() + " quantize " + m + " --format gguf --type F32 -o " + out, &log) == 0);
  FileSource f(out);
  const GgufFile g = read_gguf(f);
  auto num = [&](const std::string& k) {
    const GgufValue* v = g.find(k);
    REQUIRE(v);
    return v->as_double(k);
  };
  CHECK(g.find("general.architecture")->as_string("") == "phi3");
  CHECK(num("phi3.rope.dimension_count") == 24);
  CHECK(num("phi3.rope.scaling.original_context_length") == 4096);
  CHECK(num("phi3.rope.scaling.attn_factor") == Approx(std::sqrt(1 + std::log(32.0) / std::log(4096.0))).epsilon(1e-6));
  CHECK(num("phi3.context_length") == 131072);
  CHECK(num("phi3.attention.sliding_window") == 262144);
  const GgufTensorInfo* qkv = g.tensor("blk.1.attn_qkv.weight");
  REQUIRE(qkv);
  CHECK(qkv->ne == std::vector<uint64_t>{128, 128 + 2 * 64});
  const GgufTensorInfo* up = g.tensor("blk.1.ffn_up.weight");
  REQUIRE(up);
  CHECK(up->ne == std::vector<uint64_t>{128, 512});  // [gate; up]
  CHECK(!g.tensor("blk.0.attn_q.weight"));
  CHECK(!g.tensor("blk.0.ffn_gate.weight"));
  CHECK(g.tensor("output.weight"));  // untied
  const ModelHparams h = hparams_from_config(phi3_config(), "config.json");
  CHECK(read_gguf_tensor_f32(g, f, *g.tensor("rope_factors_long.weight")) == h.rope.long_factor);
  CHECK(read_gguf_tensor_f32(g, f, *g.tensor("rope_factors_short.weight")) == h.rope.short_factor);
  // Read back: the family, longrope and partial rotary from the keys, the same logits (F32: exactly).
  const ModelHparams hg = hparams_from_gguf(g, &f);
  CHECK(hg.family == "phi3");
  CHECK(hg.rope.type == "longrope");
  CHECK(hg.rope.dims == 24);
  CHECK(hg.rope.attn_factor == Approx(h.rope.attn_factor).epsilon(1e-6));
  const RowMat x = load_model(m)->logits(kPhi3Tokens), y = load_model(out)->logits(kPhi3Tokens);
  CHECK((x - y).cwiseAbs().maxCoeff() < 1e-5f);
  REQUIRE(run(cli() + " gate " + m + " " + out + " --json", &log) == 0);
  // The negative control of the llama.cpp test writes ffn_up as [up; gate]: squint reads that back differently.
  const std::string bad = d.str("bad.gguf");
  REQUIRE(
      run(cli() + " quantize " + m + " --format gguf --type F32 --gguf-negative-control swap-gate-up-halves -o " + bad,
          &log) == 0);
  const RowMat z = load_model(bad)->logits(kPhi3Tokens);
  CHECK((x - z).cwiseAbs().maxCoeff() > 1e-2f);
}

TEST_CASE("Phi-3 checkpoints with missing or mis-shaped fused tensors: one line, exit 2, nothing written",
          "[gguf][phi3][hardening]") {
  TempDir d;
  const std::string text = shared_dir() + "/data/tinystories/eval.txt";
  std::string log;
  {
    // qkv_proj of layer 1 renamed (same length: the safetensors header keeps its size).
    const std::string m = phi3_dir(d, "phi3");
    phi3_edit(m + "/model.safetensors", "layers.1.self_attn.qkv_proj", "layers.1.self_attn.qkv_pro_");
    for (const std::string verb :
         {"quantize " + m + " --format gguf --type F32 -o " + d.str("a.gguf"),
          "quantize " + m + " --bits 8 --group-sizes 64 --min-safe --floor 0 -o " + d.str("a-mlx"),
          "eval " + m + " --text " + text + " --seq-len 32 --samples 2 -o " + d.str("a.json")}) {
      INFO(verb);
      CHECK(run(cli() + " " + verb, &log) == 2);
      CHECK_THAT(log, Catch::Contains("model.layers.1.self_attn.qkv_proj.weight"));
      CHECK(std::count(log.begin(), log.end(), '\n') == 1);
    }
    CHECK(!fs::exists(d.str("a.gguf")));
    CHECK(!fs::exists(d.str("a-mlx")));
    CHECK(!fs::exists(d.str("a.json")));
  }
  {
    // config.json says a wider MLP than gate_up_proj holds.
    const std::string m = phi3_dir(d, "phi3-long");
    phi3_edit(m + "/config.json", "\"intermediate_size\": 256", "\"intermediate_size\": 192");
    CHECK(run(cli() + " quantize " + m + " --format gguf --type F32 -o " + d.str("b.gguf"), &log) == 2);
    CHECK_THAT(
        log,
        Catch::Contains(
            "tensor 'model.layers.0.mlp.gate_up_proj.weight' has shape [512, 128], config.json implies [384, 128]"));
    CHECK(!fs::exists(d.str("b.gguf")));
    CHECK(run(cli() + " eval " + m + " --text " + text + " --seq-len 32 --samples 2 -o " + d.str("b.json"), &log) == 2);
    CHECK(!fs::exists(d.str("b.json")));
    // An unsupported rope_scaling type: every verb that reads the family refuses it.
    phi3_edit(m + "/config.json", "\"intermediate_size\": 192", "\"intermediate_size\": 256");
    phi3_edit(m + "/config.json", "\"type\": \"longrope\"", "\"type\": \"dynamic\"");
    CHECK(run(cli() + " quantize " + m + " --format gguf --type F32 -o " + d.str("c.gguf"), &log) == 2);
    CHECK_THAT(log, Catch::Contains("type 'dynamic' is not supported for phi3"));
    CHECK(!fs::exists(d.str("c.gguf")));
  }
  for (const auto& e : fs::directory_iterator(d.path))
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("MLX output of Phi-3: mlx-lm's phi3.py config keys, fused modules quantized, eval close to the float model",
          "[convert][phi3]") {
  TempDir d;
  const std::string m = phi3_dir(d), out = d.str("phi3-mlx"), text = shared_dir() + "/data/tinystories/eval.txt";
  std::string log;
  REQUIRE(run(cli() + " quantize " + m + " --bits 8 --group-sizes 64 --min-safe --floor 0 -o " + out, &log) == 0);
  const json cfg = json::parse(read_text_file(out + "/config.json"));
  CHECK(cfg["rope_scaling"]["type"] == "longrope");  // phi3.py requires "type" and "long_factor"
  CHECK(cfg["rope_scaling"]["long_factor"].size() == 12);
  CHECK(cfg["max_position_embeddings"] == 131072);  // phi3.py's default is 131072, HF's 4096: written out
  CHECK(cfg["original_max_position_embeddings"] == 4096);
  CHECK(cfg["partial_rotary_factor"] == 0.75);
  DirProvider dp(out);
  const MlxModel q = open_mlx_model(dp);
  for (const char* n : {"model.layers.1.self_attn.qkv_proj.weight", "model.layers.1.mlp.gate_up_proj.weight"}) {
    const LogicalTensor* t = q.find(n);
    REQUIRE(t);
    CHECK(t->quant.has_value());
  }
  CHECK(!q.find("model.layers.1.self_attn.q_proj.weight"));
  REQUIRE(run(cli() + " eval " + out + " --text " + text + " --seq-len 64 --samples 8 --kl-base " + m +
                  " --tokenizer " + m + " --json",
              &log) == 0);
  const json e = json::parse(log.substr(log.find('{')));
  INFO(e.dump());
  CHECK(e["kl"]["mean"].get<double>() > 0);
  CHECK(e["kl"]["mean"].get<double>() < 5e-3);
  CHECK(e["kl"]["top1_agreement"].get<double>() > 0.9);
  // head_dim other than hidden / heads: phi3.py derives it, so no MLX output.
  phi3_edit(m + "/config.json", "\"head_dim\": 32", "\"head_dim\": 16");
  CHECK(run(cli() + " quantize " + m + " --bits 8 --group-sizes 64 --min-safe --floor 0 -o " + d.str("x-mlx"), &log) ==
        2);
  CHECK(!fs::exists(d.str("x-mlx")));
}

TEST_CASE("Phi-3 analysis: norm weights and calibration reach the fused qkv_proj and gate_up_proj",
          "[analyze][weights][phi3]") {
  TempDir d;
  const std::string m = phi3_dir(d), text = shared_dir() + "/data/tinystories/eval.txt";
  const Checkpoint ck = open_model(m);
  const auto norms = norm_tensors_by_site(ck);
  CHECK(norms.at({InputSite::AttnIn, 1}).name == "model.layers.1.input_layernorm.weight");
  CHECK(norms.at({InputSite::MlpIn, 1}).name == "model.layers.1.post_attention_layernorm.weight");
  std::string log;
  for (const std::string opt :
       {std::string("--norm-weights"), "--calibrate " + text + " --calibrate-samples 4 --calibrate-seq-len 64"}) {
    INFO(opt);
    REQUIRE(run(cli() + " -q analyze " + m + " " + opt + " -o " + d.str("a.json"), &log) == 0);
    const json a = json::parse(read_text_file(d.str("a.json")));
    int fused = 0;
    for (const auto& t : a["tensors"]) {
      const std::string n = t["name"];
      if (n.find("qkv_proj") == std::string::npos && n.find("gate_up_proj") == std::string::npos) continue;
      ++fused;
      // Weighted errors differ from plain ones: the weights reached the fused tensor.
      const json& c = t["configs"][0];
      REQUIRE(c.contains("weighted_nrmse"));
      CHECK(c["weighted_nrmse"].get<double>() != c["nrmse"].get<double>());
    }
    CHECK(fused == 4);
  }
}
