// Mixtral in GGUF: experts stacked into [in, out, experts] tensors, the router F32 whatever the plan, the
// file read back by squint gives the same logits as the safetensors model (F32 is exact for BF16 weights),
// `gate` reads the stacks per expert, and a mixed plan keeps the experts of one projection in one type.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "convert/gguf_llama.h"
#include "eval_model.h"
#include "file_source.h"
#include "plan/plan.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;

namespace {
// A synthetic Mixtral with stories260K's tokenizer (its vocabulary of 512 is the preset's).
std::string mixtral(TempDir& d) {
  const std::string dir = d.str("mixtral");
  REQUIRE(run(cli() + " synth " + dir + " --preset mixtral") == 0);
  for (const char* f : {"tokenizer.model", "tokenizer_config.json"})
    std::filesystem::copy_file(shared_dir() + "/models/stories260K/" + f, dir + "/" + f);
  return dir;
}
}  // namespace

TEST_CASE("GGUF of a Mixtral: stacked experts, F32 router, same logits read back", "[gguf][moe]") {
  TempDir d;
  const std::string m = mixtral(d), out = d.str("m.gguf");
  REQUIRE(run(cli() + " quantize " + m + " --format gguf --type F32 -o " + out) == 0);
  FileSource f(out);
  const GgufFile g = read_gguf(f);
  CHECK(g.find("general.architecture")->as_string("") == "llama");
  CHECK(g.find("llama.expert_count")->as_int("") == 4);
  CHECK(g.find("llama.expert_used_count")->as_int("") == 2);
  const GgufTensorInfo* up = g.tensor("blk.1.ffn_up_exps.weight");
  REQUIRE(up);
  CHECK(up->ne == std::vector<uint64_t>{128, 256, 4});
  CHECK(g.tensor("blk.0.ffn_down_exps.weight")->ne == std::vector<uint64_t>{256, 128, 4});
  CHECK(g.tensor("blk.0.ffn_gate_inp.weight")->type == 0);
  CHECK(!g.tensor("blk.0.ffn_gate.weight"));
  const std::vector<int> toks = {1, 403, 9, 77, 3, 3, 300, 12};
  const RowMat a = load_model(m)->logits(toks), b = load_model(out)->logits(toks);
  CHECK((a - b).cwiseAbs().maxCoeff() == 0.0f);
  std::string log;
  REQUIRE(run(cli() + " gate " + m + " " + out + " --json", &log) == 0);
}

TEST_CASE("GGUF plan of a Mixtral: experts of a projection share one type, routers stay F32, gate = plan", "[gguf][moe][plan]") {
  TempDir d;
  const std::string m = mixtral(d), out = d.str("m.gguf"), plan = d.str("p.json");
  REQUIRE(run(cli() + " quantize " + m + " --format gguf --bpw 5 --save-plan " + plan + " -o " + out) == 0);
  const Plan p = parse_plan(read_text_file(plan), plan);
  for (const auto& t : p.tensors)
    if (t.name.find("block_sparse_moe.gate.") != std::string::npos) CHECK(t.keep());
  FileSource f(out);
  const GgufFile g = read_gguf(f);
  CHECK(g.tensor("blk.1.ffn_gate_inp.weight")->type == 0);
  std::set<std::string> expert_types;
  for (const auto& t : p.tensors)
    if (t.name.find("layers.0.block_sparse_moe.experts.") != std::string::npos && t.name.ends_with("w2.weight"))
      expert_types.insert(t.keep() ? "keep" : t.type);
  CHECK(expert_types.size() == 1);
  std::string log;
  CHECK(run(cli() + " gate " + m + " " + out + " --json", &log) == 0);
}

TEST_CASE("GGUF bad MoE input: one line, exit 2, nothing written", "[gguf][moe][hardening]") {
  TempDir d;
  const std::string m = mixtral(d);
  // config.json says 3 experts, the tensors hold 4.
  std::string cfg = read_text_file(m + "/config.json");
  const auto k = cfg.find("\"num_local_experts\": 4");
  REQUIRE(k != std::string::npos);
  cfg.replace(k, 22, "\"num_local_experts\": 3");
  std::ofstream(m + "/config.json") << cfg;
  std::string log;
  CHECK(run(cli() + " quantize " + m + " --format gguf --type F32 -o " + d.str("x.gguf"), &log) == 2);
  CHECK_THAT(log, Catch::Contains("is expert 3 but config.json has 3 experts"));
  CHECK(!std::filesystem::exists(d.str("x.gguf")));
}

// MLX as mlx-lm loads a Mixtral (mlx_lm/models/mixtral.py, ml-explore/mlx-lm d78bf58e): `sanitize` stacks
// block_sparse_moe.experts.{e}.w1/w2/w3 into block_sparse_moe.switch_mlp.{gate,down,up}_proj ([experts, out,
// in]); the router `block_sparse_moe.gate` is an nn.Linear that mlx-lm's loader quantizes only when the file has
// its scales (utils.load_model's class_predicate), so a kept router stays float.
TEST_CASE("MLX of a Mixtral: switch_mlp stacks as mlx-lm names them, float router, eval close to the float model", "[moe][mlx]") {
  TempDir d;
  const std::string m = mixtral(d), out = d.str("q");
  REQUIRE(run(cli() + " quantize " + m + " --bpw 5 -o " + out) == 0);
  const Checkpoint q = open_model(out);
  const auto* gate = q.find("model.layers.0.block_sparse_moe.switch_mlp.gate_proj.weight");
  const auto* down = q.find("model.layers.1.block_sparse_moe.switch_mlp.down_proj.weight");
  REQUIRE(gate);
  REQUIRE(down);
  CHECK(gate->shape[0] == 4);  // experts first
  CHECK(gate->shape[1] == 256);
  CHECK(q.find("model.layers.0.block_sparse_moe.switch_mlp.gate_proj.scales"));
  CHECK(!q.find("model.layers.0.block_sparse_moe.experts.0.w1.weight"));
  const auto* router = q.find("model.layers.0.block_sparse_moe.gate.weight");
  REQUIRE(router);
  CHECK(!q.find("model.layers.0.block_sparse_moe.gate.scales"));
  CHECK(router->dtype != DType::U32);
  // Eval of the MLX folder runs the same routed forward pass; at 5 bpw its next-token distributions stay close
  // to the float model's (and are not the float model's: the experts really are quantized).
  const std::vector<int> toks = {1, 403, 9, 77, 3, 3, 300, 12, 45, 200, 7, 1};
  const RowMat a = load_model(m)->logits(toks), b = load_model(out)->logits(toks);
  double kl = 0;
  for (Eigen::Index t = 0; t < a.rows(); ++t) {
    const Eigen::VectorXd la = a.row(t).cast<double>().transpose(), lb = b.row(t).cast<double>().transpose();
    const Eigen::VectorXd pa = (la.array() - la.maxCoeff()).exp(), pb = (lb.array() - lb.maxCoeff()).exp();
    const Eigen::VectorXd na = pa / pa.sum(), nb = pb / pb.sum();
    kl += (na.array() * (na.array().log() - nb.array().log())).sum();
  }
  kl /= static_cast<double>(a.rows());
  INFO("mean KL " << kl);
  CHECK(kl > 0);
  CHECK(kl < 0.05);
}
