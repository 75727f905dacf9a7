// Qwen2-MoE and Qwen3-MoE through the CLI: GGUF as llama.cpp's qwen2moe / qwen3moe load it (names, shapes, keys,
// routers and the shared-expert gate F32, the file read back = the safetensors model), MLX with exactly the
// module paths of mlx-lm's qwen2_moe.py / qwen3_moe.py (ml-explore/mlx-lm d78bf58: experts stacked into
// switch_mlp, the shared expert kept, routers unquantized and marked so), eval of it close to the float model,
// what either runtime cannot run refused, bad MoE input refused by every verb, and the plan summary's map with
// one column per expert projection. (Agreement with llama.cpp's forward pass: tests/gguf/families.test.mjs.)
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "convert/gguf_llama.h"
#include "eval_model.h"
#include "file_source.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;
namespace fs = std::filesystem;

namespace {

// A synthetic model of `preset` with stories260K's tokenizer (its 512 ids are the presets' vocabulary).
std::string synth(TempDir& d, const std::string& preset) {
  const std::string dir = d.str(preset);
  REQUIRE(run(cli() + " -q synth " + dir + " --preset " + preset) == 0);
  for (const char* f : {"tokenizer.model", "tokenizer_config.json"})
    fs::copy_file(shared_dir() + "/models/stories260K/" + f, dir + "/" + f);
  return dir;
}

std::string eval_text(TempDir& d) {
  const std::string p = d.str("eval.txt");
  std::ifstream in(shared_dir() + "/data/tinystories/eval.txt");
  std::string s(3000, '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  s.resize(static_cast<std::size_t>(in.gcount()));
  write_text(p, s);
  return p;
}

// Replaces `from` (which must occur once, at or after `after` if given) by `to` in a file.
void edit(const std::string& path, const std::string& from, const std::string& to, const std::string& after = "") {
  std::string s = read_text_file(path);
  const std::size_t start = after.empty() ? 0 : s.find(after);
  REQUIRE(start != std::string::npos);
  const std::size_t k = s.find(from, start);
  REQUIRE(k != std::string::npos);
  s.replace(k, from.size(), to);
  std::ofstream(path, std::ios::binary) << s;
}

std::string copy_model(TempDir& d, const std::string& src, const std::string& name) {
  const std::string dst = d.str(name);
  fs::copy(src, dst, fs::copy_options::recursive);
  return dst;
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text_file(path)); }

// Module paths of a converted MLX model (weight names without .weight/.bias/.scales/.biases).
std::set<std::string> mlx_modules(const std::string& dir) {
  std::set<std::string> out;
  const nlohmann::json index = read_json(dir + "/model.safetensors.index.json");
  for (const auto& [name, file] : index["weight_map"].items()) {
    std::string n = name;
    for (const char* suf : {".weight", ".scales", ".biases", ".bias"})
      if (n.ends_with(suf)) {
        n.resize(n.size() - std::string(suf).size());
        break;
      }
    out.insert(n);
  }
  return out;
}

// The parameters mlx-lm's Model for these model_types holds (mlx_lm/models/qwen2_moe.py, qwen3_moe.py at
// ml-explore/mlx-lm d78bf58e, transcribed): layer by layer, MoE layers with `mlp.gate` and a SwitchGLU
// `mlp.switch_mlp`, Qwen2-MoE's `mlp.shared_expert` MLP and `mlp.shared_expert_gate`, Qwen3-MoE's q/k norms
// and dense `mlp.{gate,up,down}_proj` where the layer is not sparse; lm_head unless tied.
std::set<std::string> mlx_lm_modules(bool qwen2, int layers, const std::set<int>& dense) {
  std::set<std::string> m = {"model.embed_tokens", "model.norm", "lm_head"};
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* s : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                          "input_layernorm", "post_attention_layernorm"})
      m.insert(p + s);
    if (!qwen2)
      for (const char* s : {"self_attn.q_norm", "self_attn.k_norm"}) m.insert(p + s);
    const char* mlp[] = {"gate_proj", "up_proj", "down_proj"};
    if (dense.count(l)) {
      for (const char* s : mlp) m.insert(p + "mlp." + s);
      continue;
    }
    m.insert(p + "mlp.gate");
    for (const char* s : mlp) m.insert(p + "mlp.switch_mlp." + s);
    if (qwen2) {
      for (const char* s : mlp) m.insert(p + "mlp.shared_expert." + s);
      m.insert(p + "mlp.shared_expert_gate");
    }
  }
  return m;
}

// Mean KL(float || model) of `squint eval` over the windows of `text`.
double kl_from_float(const std::string& model, const std::string& float_model, const std::string& text, TempDir& d) {
  const std::string out = d.str("kl.json");
  std::string log;
  REQUIRE(run(cli() + " -q eval " + model + " --text " + text + " --seq-len 64 --kl-base " + float_model + " -o " + out,
              &log) == 0);
  return read_json(out)["kl"]["mean"].get<double>();
}

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("GGUF of Qwen2-MoE and Qwen3-MoE: llama.cpp's names, shapes and keys, routers F32, same logits read back",
          "[gguf][moe][qwen_moe]") {
  TempDir d;
  for (const std::string preset : {"qwen2-moe", "qwen3-moe"}) {
    CAPTURE(preset);
    const bool q2 = preset == "qwen2-moe";
    const std::string m = synth(d, preset), out = d.str(preset + ".gguf");
    REQUIRE(run(cli() + " -q quantize " + m + " --format gguf --type F32 -o " + out) == 0);
    FileSource f(out);
    const GgufFile g = read_gguf(f);
    const std::string a = q2 ? "qwen2moe" : "qwen3moe";
    CHECK(g.find("general.architecture")->as_string("") == a);
    CHECK(g.find(a + ".expert_count")->as_int("") == (q2 ? 4 : 8));
    CHECK(g.find(a + ".expert_used_count")->as_int("") == 2);
    CHECK(g.find(a + ".expert_feed_forward_length")->as_int("") == 64);
    CHECK(g.find(a + ".feed_forward_length")->as_int("") == 256);
    const uint64_t E = q2 ? 4 : 8;
    CHECK(g.tensor("blk.1.ffn_gate_exps.weight")->ne == std::vector<uint64_t>{128, 64, E});
    CHECK(g.tensor("blk.1.ffn_down_exps.weight")->ne == std::vector<uint64_t>{64, 128, E});
    CHECK(g.tensor("blk.0.ffn_gate_inp.weight")->ne == std::vector<uint64_t>{128, E});
    CHECK(g.tensor("blk.0.ffn_gate_inp.weight")->type == ggml_id::F32);
    CHECK(!g.tensor("blk.0.ffn_gate.weight"));
    if (q2) {
      CHECK(g.find(a + ".expert_shared_feed_forward_length")->as_int("") == 128);
      CHECK(g.tensor("blk.0.ffn_up_shexp.weight")->ne == std::vector<uint64_t>{128, 128});
      CHECK(g.tensor("blk.0.ffn_gate_inp_shexp.weight")->ne ==
            std::vector<uint64_t>{128, 1});  // as the converter writes it
      CHECK(g.tensor("blk.0.attn_k.bias")->ne == std::vector<uint64_t>{64});
    } else {
      CHECK(g.find(a + ".attention.key_length")->as_int("") == 48);
      CHECK(g.tensor("blk.0.attn_q.weight")->ne == std::vector<uint64_t>{128, 192});
      CHECK(g.tensor("blk.0.attn_k_norm.weight")->ne == std::vector<uint64_t>{48});
      CHECK(!g.tensor("blk.0.ffn_up_shexp.weight"));
    }
    const std::vector<int> toks = {1, 403, 9, 77, 3, 3, 300, 12, 45, 46};
    CHECK((load_model(m)->logits(toks) - load_model(out)->logits(toks)).cwiseAbs().maxCoeff() == 0.0f);
    std::string log;
    CHECK(run(cli() + " -q gate " + m + " " + out + " --json", &log) == 0);
    // A 5 bpw plan: the shared-expert gate, like the router, stays F32 (llama.cpp's converter forces both).
    const std::string mix = d.str(preset + "-mix.gguf");
    REQUIRE(run(cli() + " -q quantize " + m + " --format gguf --bpw 5 -o " + mix, &log) == 0);
    FileSource fm(mix);
    const GgufFile gm = read_gguf(fm);
    CHECK(gm.tensor("blk.1.ffn_gate_inp.weight")->type == ggml_id::F32);
    if (q2) CHECK(gm.tensor("blk.1.ffn_gate_inp_shexp.weight")->type == ggml_id::F32);
    CHECK(gm.tensor("blk.1.ffn_up_exps.weight")->type != ggml_id::F32);
  }
}

TEST_CASE("Qwen MoE dense layers: eval and MLX run them, GGUF refuses them with one line", "[gguf][moe][qwen_moe]") {
  TempDir d;
  const std::string m = synth(d, "qwen3-moe-mixed"), text = eval_text(d);
  std::string log;
  CHECK(run(cli() + " -q quantize " + m + " --format gguf --type F32 -o " + d.str("x.gguf"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("dense layers") && Catch::Contains("no GGUF form"));
  CHECK(count_lines(log) == 1);
  CHECK(!fs::exists(d.str("x.gguf")));
  // GGUF candidates are refused before a plan is made for them.
  CHECK(run(cli() + " -q plan " + m + " --format gguf --bpw 5 -o " + d.str("p.json"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("no GGUF form"));
  CHECK(!fs::exists(d.str("p.json")));
  // The same model as MLX: mlx-lm's qwen3_moe.py builds layer 1 as a dense MLP.
  const std::string q = d.str("q");
  REQUIRE(run(cli() + " -q quantize " + m + " --bpw 8.5 -o " + q, &log) == 0);
  CHECK(mlx_modules(q) == mlx_lm_modules(false, 3, {1}));
  CHECK(kl_from_float(q, m, text, d) < 0.05);
}

TEST_CASE("MLX of Qwen2-MoE and Qwen3-MoE: mlx-lm's module paths and config, routers unquantized, eval close to float",
          "[moe][qwen_moe]") {
  TempDir d;
  const std::string text = eval_text(d);
  for (const std::string preset : {"qwen2-moe", "qwen3-moe"}) {
    CAPTURE(preset);
    const bool q2 = preset == "qwen2-moe";
    const std::string m = synth(d, preset), q = d.str(preset + "-mlx");
    std::string log;
    REQUIRE(run(cli() + " -q quantize " + m + " --bpw 4.5 -o " + q, &log) == 0);
    CHECK(mlx_modules(q) == mlx_lm_modules(q2, 2, {}));
    const auto cfg = read_json(q + "/config.json");
    const auto& qz = cfg["quantization"];
    // Routers (and Qwen2-MoE's shared-expert gate) kept: mlx-lm's loader takes `false` as "not quantized"
    // (utils.py load_model's class_predicate); qwen3_moe.py's own quant_predicate would give mlp.gate 8 bits.
    CHECK(qz["model.layers.1.mlp.gate"] == false);
    if (q2) CHECK(qz["model.layers.0.mlp.shared_expert_gate"] == false);
    CHECK(qz["model.layers.0.mlp.switch_mlp.down_proj"] != false);
    // Keys mlx-lm's ModelArgs requires (qwen3_moe.py has no defaults for them) or defaults differently.
    for (const char* k : {"num_experts", "num_experts_per_tok", "moe_intermediate_size", "rope_theta", "rms_norm_eps"})
      CHECK(cfg.contains(k));
    if (!q2)
      for (const char* k : {"head_dim", "decoder_sparse_step", "mlp_only_layers", "norm_topk_prob",
                            "tie_word_embeddings", "max_position_embeddings"})
        CHECK(cfg.contains(k));
    const auto idx = read_json(q + "/model.safetensors.index.json")["weight_map"];
    CHECK(idx.contains("model.layers.0.mlp.switch_mlp.up_proj.scales"));
    for (const auto& [name, file] : idx.items()) CHECK(name.find(".experts.") == std::string::npos);
    // Random weights make every logit matter (PPL ~ the vocabulary size), so "close" is judged at 8 bits, where
    // the MLX model must be within 0.05 nats of the float one (measured ~0.03: the mean is a few routing flips;
    // the median ~0.003), and the 4.5-bit model must be further (measured 0.2-0.3).
    const std::string q8 = d.str(preset + "-mlx8");
    REQUIRE(run(cli() + " -q quantize " + m + " --bpw 8.5 -o " + q8, &log) == 0);
    const double kl8 = kl_from_float(q8, m, text, d), kl45 = kl_from_float(q, m, text, d);
    CHECK(kl8 < 0.05);
    CHECK(kl45 > kl8);
  }
}

TEST_CASE("Qwen2-MoE configurations mlx-lm's qwen2_moe.py cannot run are refused for MLX, still evaluated",
          "[moe][qwen_moe]") {
  TempDir d;
  const std::string m = synth(d, "qwen2-moe");
  edit(m + "/config.json", "\"norm_topk_prob\": false", "\"norm_topk_prob\": true");
  std::string log;
  CHECK(run(cli() + " -q quantize " + m + " --bpw 5 -o " + d.str("q"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("norm_topk_prob = true") && Catch::Contains("qwen2_moe.py") &&
                      Catch::Contains("no MLX form"));
  CHECK(count_lines(log) == 1);
  CHECK(!fs::exists(d.str("q")));
  CHECK(run(cli() + " -q quantize " + m + " --format gguf --type F32 -o " + d.str("x.gguf"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("never renormalises"));
  CHECK(load_model(m)->hparams().norm_topk);
}

TEST_CASE("bad MoE input to every verb: one line, exit 2, nothing written", "[moe][qwen_moe][hardening]") {
  TempDir d;
  const std::string good = synth(d, "qwen3-moe"), text = eval_text(d);
  struct Case {
    std::string name, expect;
    std::function<void(const std::string&)> make;
  };
  const std::vector<Case> cases = {
      {"count", "is expert 7 but config.json has 7 experts",
       [](const std::string& m) { edit(m + "/config.json", "\"num_experts\": 8", "\"num_experts\": 7"); }},
      {"missing", "model.layers.1.mlp.experts.5.up_proj.weight",
       [](const std::string& m) {  // renamed in the header (same length): expert 5 of layer 1 has no up_proj
         edit(m + "/model.safetensors", "\"model.layers.1.mlp.experts.5.up_proj.weight\"",
              "\"model.layers.1.mlp.experts.5.up_proj.weighx\"");
       }},
      {"router", "model.layers.0.mlp.gate.weight",
       [](const std::string& m) {  // transposed: the same values count
         edit(m + "/model.safetensors", "[8,128]", "[128,8]", "\"model.layers.0.mlp.gate.weight\"");
       }},
      {"huge", "2 MoE layers x 2000000000 experts, but the checkpoint holds only",  // refused before listing them
       [](const std::string& m) { edit(m + "/config.json", "\"num_experts\": 8", "\"num_experts\": 2000000000"); }},
      {"type", "model_type 'qwen9_moe' is not supported",
       [](const std::string& m) { edit(m + "/config.json", "\"qwen3_moe\"", "\"qwen9_moe\""); }},
  };
  for (const auto& c : cases) {
    const std::string m = copy_model(d, good, c.name);
    c.make(m);
    const std::string out = d.str(c.name + ".out");
    std::vector<std::string> verbs = {"eval " + m + " --text " + text + " --seq-len 64 -o " + out,
                                      "quantize " + m + " --format gguf --type F32 -o " + out};
    if (c.name == "type") {
      verbs.push_back("analyze " + m + " --calibrate " + text + " --calibrate-samples 1 --calibrate-seq-len 32 -o " +
                      out);
    } else {
      verbs.push_back("analyze " + m + " -o " + out);
      verbs.push_back("plan " + m + " --bpw 5 -o " + out);
      verbs.push_back("quantize " + m + " --bpw 5 -o " + out);
    }
    for (const auto& v : verbs) {
      CAPTURE(c.name, v);
      std::string log;
      CHECK(run(cli() + " -q " + v, &log) == 2);
      CHECK(count_lines(log) == 1);
      // eval meets a count mismatch as the router's shape (the loader's one line names it).
      const bool eval_count = (c.name == "count" || c.name == "huge") && v.rfind("eval", 0) == 0;
      CHECK_THAT(log, Catch::Contains(eval_count ? std::string("model.layers.0.mlp.gate.weight") : c.expect));
      CHECK(!fs::exists(out));
    }
  }
  // Data-free analysis and MLX conversion work by tensor names for any model_type (they run no model).
  const std::string other = d.str("type");
  std::string log;
  CHECK(run(cli() + " -q analyze " + other + " -o " + d.str("a.json"), &log) == 0);
}

TEST_CASE("plan summary of an MoE: one map column per expert projection, one row per layer", "[plan][moe][qwen_moe]") {
  TempDir d;
  const std::string m = synth(d, "qwen2-moe");
  std::string out;
  REQUIRE(run(cli() + " plan " + m + " --bpw 5 2>/dev/null", &out) == 0);
  std::istringstream in(out);
  std::vector<std::string> ls;
  for (std::string l; std::getline(in, l);) ls.push_back(l);
  std::size_t at = 0;
  while (at < ls.size() && ls[at].rfind("per layer", 0) != 0) ++at;
  REQUIRE(at + 3 < ls.size());
  std::istringstream head(ls[at + 1]);
  std::vector<std::string> cols;
  for (std::string w; head >> w;) cols.push_back(w);
  CHECK(cols == std::vector<std::string>{"layer", "q", "k", "v", "o", "experts.gate", "experts.up", "experts.down",
                                         "shared.gate", "shared.up", "shared.down", "router"});
  std::size_t rows = 0;
  for (std::size_t i = at + 2; i < ls.size() && !ls[i].empty() && ls[i][0] == ' '; ++i, ++rows) {
    std::istringstream r(ls[i]);
    std::vector<std::string> cells;
    for (std::string w; r >> w;) cells.push_back(w);
    CHECK(cells.size() == cols.size());
    for (std::size_t c = 5; c < 8 && c < cells.size(); ++c)
      CHECK(cells[c].find(',') == std::string::npos);  // one config
  }
  CHECK(rows == 2);
  CHECK(out.find("experts.0") == std::string::npos);
}
