// Gemma 2 / Gemma 3 through the CLI: GGUF as llama.cpp's gemma2 / gemma3 loaders read it (their metadata keys,
// norms stored as 1 + w, no Q/K permutation, tied head, the wrapper's vision tower left out), read back by
// squint with the same logits; the refusals where llama.cpp's graph would compute something else; MLX output
// as mlx-lm's gemma2.py / gemma3_text.py / gemma3.py load it, evaluated close to the float model; and a Gemma
// relabelled as a Llama refused by eval; the data-free norm weights of a Gemma. llama.cpp running these files:
// tests/gguf/families.test.mjs.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "analysis/column_weights.h"
#include "convert/gguf_llama.h"
#include "eval_model.h"
#include "file_source.h"
#include "io/mlx_model.h"
#include "model_input.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;
namespace fs = std::filesystem;

namespace {
// A synthetic Gemma with stories260K's tokenizer (its vocabulary of 512 is the presets').
std::string gemma(TempDir& d, const std::string& preset) {
  const std::string dir = d.str(preset);
  REQUIRE(run(cli() + " synth " + dir + " --preset " + preset) == 0);
  for (const char* f : {"tokenizer.model", "tokenizer_config.json"})
    fs::copy_file(shared_dir() + "/models/stories260K/" + f, dir + "/" + f);
  return dir;
}
double kv_num(const GgufFile& g, const std::string& k) {
  const GgufValue* v = g.find(k);
  REQUIRE(v);
  return v->as_double(k);
}
std::vector<float> st_values(const std::string& dir, const std::string& name) {
  DirProvider dp(dir);
  const MlxModel m = open_mlx_model(dp);
  const LogicalTensor* t = m.find(name);
  REQUIRE(t);
  std::vector<float> v(logical_rows(*t) * logical_cols(*t));
  REQUIRE(read_logical_f32(m, *t, v.data()));
  return v;
}
const std::vector<int> kTokens = {2, 403, 9, 77, 3, 3, 300, 12, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28};
}  // namespace

TEST_CASE("GGUF of Gemma 2 / 3: llama.cpp's keys, norms as 1 + w, no permutation, same logits read back",
          "[gguf][gemma]") {
  TempDir d;
  for (const char* preset : {"gemma2", "gemma3", "gemma3-mm"}) {
    INFO(preset);
    const std::string m = gemma(d, preset), out = d.str(std::string(preset) + ".gguf");
    std::string log;
    REQUIRE(run(cli() + " quantize " + m + " --format gguf --type F32 -o " + out, &log) == 0);
    FileSource f(out);
    const GgufFile g = read_gguf(f);
    const bool v2 = std::string(preset) == "gemma2";
    const std::string a = v2 ? "gemma2" : "gemma3";
    CHECK(g.find("general.architecture")->as_string("") == a);
    CHECK(kv_num(g, a + ".attention.sliding_window") == 16);
    CHECK(kv_num(g, a + ".attention.sliding_window_pattern") == (v2 ? 2 : 3));
    CHECK(kv_num(g, a + ".attention.key_length") == (v2 ? 32 : 48));
    if (v2) {
      CHECK(kv_num(g, "gemma2.attn_logit_softcapping") == 10);
      CHECK(kv_num(g, "gemma2.final_logit_softcapping") == 5);
    } else {
      CHECK(kv_num(g, "gemma3.rope.freq_base") == 1e6);
      CHECK(kv_num(g, "gemma3.rope.freq_base_swa") == 1e4);
      CHECK(g.find("gemma3.rope.scaling.type")->as_string("") == "linear");
      CHECK(kv_num(g, "gemma3.rope.scaling.factor") == 8);
      CHECK(!g.find("gemma3.final_logit_softcapping"));
      CHECK(g.tensor("blk.3.attn_k_norm.weight"));
    }
    CHECK(g.tensor("blk.0.post_attention_norm.weight"));
    CHECK(g.tensor("blk.0.post_ffw_norm.weight"));
    CHECK(!g.tensor("output.weight"));  // tied: the loader reuses token_embd
    // Norms hold 1 + w; Q rows are in HF order (NeoX RoPE: no permutation).
    const std::string P = std::string(preset) == "gemma3-mm" ? "language_model.model." : "model.";
    const std::vector<float> norm = st_values(m, P + "layers.1.pre_feedforward_layernorm.weight");
    const std::vector<float> ffn = read_gguf_tensor_f32(g, f, *g.tensor("blk.1.ffn_norm.weight"));
    REQUIRE(ffn.size() == norm.size());
    for (std::size_t i = 0; i < ffn.size(); ++i) CHECK(ffn[i] == norm[i] + 1.0f);
    CHECK(read_gguf_tensor_f32(g, f, *g.tensor("blk.0.attn_q.weight")) ==
          st_values(m, P + "layers.0.self_attn.q_proj.weight"));
    if (std::string(preset) == "gemma3-mm") {
      CHECK_THAT(log, Catch::Contains("4 tensors of the vision tower and projector are left out"));
      for (const auto& t : g.tensors) CHECK(t.name.find("mm_") == std::string::npos);
    }
    const RowMat x = load_model(m)->logits(kTokens), y = load_model(out)->logits(kTokens);
    CHECK((x - y).cwiseAbs().maxCoeff() == 0.0f);
    REQUIRE(run(cli() + " gate " + m + " " + out + " --json", &log) == 0);
  }
}

TEST_CASE("GGUF of Gemma: what llama.cpp's graph cannot run is refused, nothing written", "[gguf][gemma][hardening]") {
  TempDir d;
  const std::string m = gemma(d, "gemma2"), out = d.str("x.gguf");
  auto edit = [&](const std::string& from, const std::string& to) {
    std::string cfg = read_text_file(m + "/config.json");
    const auto k = cfg.find(from);
    REQUIRE(k != std::string::npos);
    cfg.replace(k, from.size(), to);
    std::ofstream(m + "/config.json") << cfg;
  };
  std::string log;
  // llama.cpp scales scores by 1/sqrt(head_dim) whatever query_pre_attn_scalar says.
  edit("\"query_pre_attn_scalar\": 32", "\"query_pre_attn_scalar\": 144");
  CHECK(run(cli() + " quantize " + m + " --format gguf --type F32 -o " + out, &log) == 2);
  CHECK_THAT(log,
             Catch::Contains("llama.cpp's gemma2 architecture cannot run this model: query_pre_attn_scalar = 144"));
  edit("\"query_pre_attn_scalar\": 144", "\"query_pre_attn_scalar\": 32");
  // Its gemma2 graph always soft-caps the logits.
  edit("\"final_logit_softcapping\": 5.0", "\"final_logit_softcapping\": null");
  CHECK(run(cli() + " quantize " + m + " --format gguf --type F32 -o " + out, &log) == 2);
  CHECK_THAT(log, Catch::Contains("always soft-caps"));
  CHECK(!fs::exists(out));
  for (const auto& e : fs::directory_iterator(d.path))
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("MLX output of Gemma: mlx-lm's config keys and module paths, eval close to the float model",
          "[convert][gemma]") {
  TempDir d;
  const std::string text = shared_dir() + "/data/tinystories/eval.txt";
  for (const char* preset : {"gemma2", "gemma3-mm"}) {
    INFO(preset);
    const std::string m = gemma(d, preset), out = d.str(std::string(preset) + "-mlx"),
                      rep = d.str(std::string(preset) + ".json");
    std::string log;
    REQUIRE(run(cli() + " quantize " + m + " --bits 8 --group-sizes 64 --min-safe --floor 0 -o " + out, &log) == 0);
    const nlohmann::json cfg = nlohmann::json::parse(read_text_file(out + "/config.json"));
    if (std::string(preset) == "gemma2") {
      CHECK(cfg["head_dim"] == 32);  // gemma2.py has no default for it
      CHECK(cfg["query_pre_attn_scalar"] == 32);
      CHECK(cfg["quantization"].contains("group_size"));
    } else {
      // gemma3.py: text_config feeds gemma3_text.py (sliding_window_pattern, not layer_types); the wrapper's
      // vocab_size overrides text_config's; language_model.* are the module paths it quantizes.
      CHECK(cfg["text_config"]["sliding_window_pattern"] == 3);
      CHECK(cfg["vocab_size"] == 512);
      DirProvider dp(out);
      const MlxModel q = open_mlx_model(dp);
      const LogicalTensor* t = q.find("language_model.model.layers.2.self_attn.q_proj.weight");
      REQUIRE(t);
      CHECK(t->quant.has_value());
      CHECK(q.find("multi_modal_projector.mm_soft_emb_norm.weight"));
      // A bare parameter (no module to hold scales) stays float: mlx-lm quantizes modules only.
      const LogicalTensor* proj = q.find("multi_modal_projector.mm_input_projection_weight");
      REQUIRE(proj);
      CHECK(!proj->quant.has_value());
    }
    REQUIRE(run(cli() + " eval " + out + " --text " + text + " --seq-len 64 --samples 8 --kl-base " + m +
                    " --tokenizer " + m + " --json",
                &log) == 0);
    const nlohmann::json e = nlohmann::json::parse(log.substr(log.find('{')));
    INFO(e.dump());
    // Random weights give sharp, sensitive distributions: 8-bit KL measured 3.6e-4 here (a Llama of
    // the same shape: 9.6e-3). A misread output (norms without the 1, packed codes as floats) is nats away.
    CHECK(e["kl"]["mean"].get<double>() < 5e-3);
    CHECK(e["kl"]["top1_agreement"].get<double>() > 0.9);
  }
}

TEST_CASE("MLX output of a Gemma 3 wrapper in transformers' newer layout is refused: mlx-lm cannot read it",
          "[convert][gemma][hardening]") {
  TempDir d;
  const std::string m = gemma(d, "gemma3-mm"), out = d.str("mlx");
  // language_model.model.* -> model.language_model.* (same length: the safetensors header keeps its size).
  std::string st = read_text_file(m + "/model.safetensors");
  const std::string from = "language_model.model.", to = "model.language_model.";
  int renamed = 0;
  for (auto k = st.find(from); k != std::string::npos; k = st.find(from, k + to.size()), ++renamed)
    st.replace(k, from.size(), to);
  REQUIRE(renamed > 10);
  std::ofstream(m + "/model.safetensors", std::ios::binary) << st;
  std::string log;
  CHECK(run(cli() + " quantize " + m + " --bits 8 --group-sizes 64 --min-safe --floor 0 -o " + out, &log) == 2);
  CHECK_THAT(log, Catch::Contains("tensor 'model.language_model.") &&
                      Catch::Contains("mlx-lm's gemma3.py reads the language model under language_model.model.*"));
  CHECK(!fs::exists(out));
  // squint itself runs that layout (eval, GGUF): only the MLX output is refused.
  CHECK(run(cli() + " quantize " + m + " --format gguf --type F32 -o " + d.str("x.gguf"), &log) == 0);
}

TEST_CASE("eval refuses a Gemma checkpoint relabelled as a Llama (no silent perplexity)", "[eval][gemma][hardening]") {
  TempDir d;
  const std::string m = gemma(d, "gemma3");
  std::string cfg = read_text_file(m + "/config.json");
  const auto k = cfg.find("\"gemma3_text\"");
  REQUIRE(k != std::string::npos);
  cfg.replace(k, 13, "\"llama\"");
  std::ofstream(m + "/config.json") << cfg;
  std::string log;
  CHECK(run(cli() + " eval " + m + " --text " + shared_dir() +
                "/data/tinystories/eval.txt --seq-len 32 --samples 2 -o " + d.str("e.json"),
            &log) == 2);
  CHECK_THAT(log, Catch::Contains("is not part of squint's llama forward pass"));
  CHECK(!fs::exists(d.str("e.json")));
}

TEST_CASE("norm weights of a Gemma: the norm in front of each site, as 1 + w (not Llama's names)",
          "[analyze][weights][gemma]") {
  TempDir d;
  for (const char* preset : {"gemma2", "gemma3-mm"}) {
    INFO(preset);
    const std::string m = gemma(d, preset), P = std::string(preset) == "gemma2" ? "model." : "language_model.model.";
    const Checkpoint ck = open_model(m);
    const auto norms = norm_tensors_by_site(ck);
    // Gemma's MLP is fed by pre_feedforward_layernorm; its post_attention_layernorm feeds no linear.
    CHECK(norms.at({InputSite::MlpIn, 1}).name == P + "layers.1.pre_feedforward_layernorm.weight");
    CHECK(norms.at({InputSite::AttnIn, 2}).name == P + "layers.2.input_layernorm.weight");
    CHECK(norms.at({InputSite::Head, -1}).name == P + "norm.weight");
    CHECK(norms.at({InputSite::Head, -1}).add == 1.0f);
    const ColumnWeights cw = norm_column_weights(ck);
    const std::vector<float> w = st_values(m, P + "layers.1.pre_feedforward_layernorm.weight");
    const std::vector<float>& c = cw.sites.at({InputSite::MlpIn, 1});
    REQUIRE(c.size() == w.size());
    for (std::size_t j = 0; j < w.size(); ++j) CHECK(c[j] == (w[j] + 1.0f) * (w[j] + 1.0f));
  }
}
