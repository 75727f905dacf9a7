// Full conversion: quantize -> MLX model -> dequantize / gate, bit-exact against the core quantizer.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "analysis/analysis.h"
#include "convert/gate.h"
#include "convert/mlx_layout.h"
#include "convert/mlx_names.h"
#include "file_source.h"
#include "io/mlx_model.h"
#include "plan/plan.h"
#include "test_util.h"
#include "util/error.h"

using namespace squint;
using namespace squint::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {


Analysis analyze_dir(const std::string& path) {
  Checkpoint ck = open_model(path);
  return analyze_checkpoint(ck, AnalyzeOptions{});
}

// A plan straight from an analysis (the planner is someone else's): `pick` chooses a config per measured
// tensor (nullopt = keep); values are the analysis's own.
Plan plan_from(const Analysis& a, const std::function<std::optional<QConfig>(const TensorAnalysis&, std::size_t)>& pick) {
  Plan p;
  p.fingerprint = a.fingerprint;
  p.f32_out_dtype = a.f32_out_dtype;
  p.solver = "test";
  std::size_t i = 0;
  for (const auto& ta : a.tensors) {
    PlanTensor t;
    t.name = ta.name;
    t.params = ta.params;
    t.bytes = ta.keep_bytes;
    if (ta.measured) {
      if (auto c = pick(ta, i++)) {
        const ConfigResult* r = ta.find(*c);
        if (r) {
          t.bits = c->bits;
          t.group_size = c->group;
          t.bytes = r->bytes;
          t.nrmse = r->nrmse;
          t.sqnr_db = r->sqnr_db;
        }
      }
    }
    p.total_bytes += t.bytes;
    p.total_params += t.params;
    p.tensors.push_back(t);
  }
  return p;
}

std::string write_plan(const TempDir& d, const Plan& p, const std::string& name = "plan.json") {
  write_text(d.str(name), serialize_plan(p));
  return d.str(name);
}

MlxModel open_mlx_dir(const std::string& dir) {
  DirProvider dp(dir);
  return open_mlx_model(dp);
}

// What the core's simulated quantization gives for tensor `t` of `ck` written with out dtype `odt`.
std::vector<float> simulated(const Checkpoint& ck, const TensorInfo& t, QConfig c, DType odt) {
  std::vector<float> w(t.numel()), scratch_f;
  std::vector<uint8_t> scratch;
  read_tensor_f32(ck, t, w.data(), scratch);
  for (auto& x : w) x = round_to_dtype(x, odt);
  const std::size_t rows = t.rows(), cols = t.cols();
  std::vector<uint8_t> packed(rows * cols * c.bits / 8);
  std::vector<float> s(rows * cols / c.group), b(s.size()), out(w.size());
  quantize_rows(w.data(), rows, cols, c, odt, packed.data(), s.data(), b.data());
  dequantize_rows(packed.data(), s.data(), b.data(), rows, cols, c, out.data());
  return out;
}

bool no_temp_beside(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) return false;
  return true;
}

}  // namespace

TEST_CASE("packing golden vectors for the odd widths, derived by hand from the bit-stream rule", "[convert]") {
  // b=3, codes 0..7: element j at bits [3j, 3j+3): byte0 = bit3 (code1) + bit7 (code2 bit1) = 0x88,
  // byte1 = bits 9,10 (code3) 14 (code4) 15 (code5 bit0) = 0xC6, byte2 = bit17 (code5 bit2) + 19,20 (code6)
  // + 21,22,23 (code7) = 0xFA.
  const std::vector<uint8_t> c3 = {0, 1, 2, 3, 4, 5, 6, 7}, g3 = {0x88, 0xC6, 0xFA};
  // b=5, codes 31,0,1,17,8,30,3,12: set bits 0-4 | 10 | 15,19 | 23 | 26-29 | 30,31 | 37,38.
  const std::vector<uint8_t> c5 = {31, 0, 1, 17, 8, 30, 3, 12}, g5 = {0x1F, 0x84, 0x88, 0xFC, 0x60};
  // b=6, codes 63,0,42,21: 0x3F | bits 13,15 -> 0xA0 | bit 17 + bits 18,20,22 -> 0x56.
  const std::vector<uint8_t> c6 = {63, 0, 42, 21}, g6 = {0x3F, 0xA0, 0x56};
  for (auto [codes, golden, bits] : {std::tuple{c3, g3, 3}, std::tuple{c5, g5, 5}, std::tuple{c6, g6, 6}}) {
    std::vector<uint8_t> out(golden.size()), back(codes.size());
    pack_codes(codes.data(), codes.size(), bits, out.data());
    CHECK(out == golden);
    unpack_codes(golden.data(), codes.size(), bits, back.data());
    CHECK(back == codes);
  }

  // End to end: a group with min 0 and max 2^b-1 gets scale -1 and bias 2^b-1 (formats.md A.1), so
  // w = (2^b-1) - code writes exactly these codes into the model file.
  TempDir d;
  std::vector<StTensor> ts;
  auto row_of = [](const std::vector<uint8_t>& codes, int bits) {
    std::vector<float> v;
    for (int k = 0; k < 32; ++k) v.push_back(static_cast<float>((1 << bits) - 1 - codes[k % codes.size()]));
    return v;
  };
  std::vector<std::pair<std::string, int>> mods = {{"m.b3", 3}, {"m.b5", 5}, {"m.b6", 6}};
  const std::vector<std::vector<uint8_t>> cs = {c3, c5, c6}, gs = {g3, g5, g6};
  for (std::size_t i = 0; i < 3; ++i) {
    auto r = row_of(cs[i], mods[i].second);
    std::vector<float> v = r;
    v.insert(v.end(), r.begin(), r.end());  // two identical rows
    ts.push_back({mods[i].first + ".weight", DType::BF16, {2, 32}, v});
  }
  fs::create_directories(d.str("m"));
  write_bytes(d.str("m/model.safetensors"), make_safetensors(ts));
  write_text(d.str("m/config.json"), R"({"model_type": "llama"})");
  Checkpoint ck = open_model(d.str("m"));
  Plan p;
  p.fingerprint = ck.fingerprint;
  for (std::size_t i = 0; i < 3; ++i) {
    PlanTensor t;
    t.name = mods[i].first + ".weight";
    t.bits = mods[i].second;
    t.group_size = 32;
    p.tensors.push_back(t);
  }
  REQUIRE(run(cli() + " -q quantize " + d.str("m") + " --plan " + write_plan(d, p) + " -o " + d.str("q")) == 0);
  MlxModel q = open_mlx_dir(d.str("q"));
  for (std::size_t i = 0; i < 3; ++i) {
    const TensorInfo* w = q.ck.find(mods[i].first + ".weight");
    REQUIRE(w);
    CHECK(w->dtype == DType::U32);
    CHECK(w->shape == std::vector<int64_t>{2, 32 * mods[i].second / 32});
    std::vector<uint8_t> bytes(w->nbytes);
    read_tensor_bytes(q.ck, *w, bytes.data());
    for (std::size_t k = 0; k < bytes.size(); ++k) CHECK(bytes[k] == gs[i][k % gs[i].size()]);
    std::vector<float> sc(2), bi(2);
    std::vector<uint8_t> scratch;
    read_tensor_f32(q.ck, *q.ck.find(mods[i].first + ".scales"), sc.data(), scratch);
    read_tensor_f32(q.ck, *q.ck.find(mods[i].first + ".biases"), bi.data(), scratch);
    CHECK(sc[0] == -1.0f);
    CHECK(bi[0] == static_cast<float>((1 << mods[i].second) - 1));
  }
}

TEST_CASE("every (b, g): quantize -> dequantize equals the core's simulated quantization bitwise", "[convert]") {
  for (DType src : {DType::BF16, DType::F32}) {
    TempDir d;
    std::vector<StTensor> ts;
    const auto cfgs = all_configs();
    for (std::size_t i = 0; i < cfgs.size(); ++i) {
      auto v = randn(6 * 384, 100 + i, 0.02f);
      for (std::size_t k = 0; k < v.size(); k += 97) v[k] *= 8;  // outliers
      ts.push_back({"model.layers.0.p" + std::to_string(i) + ".weight", src, {6, 384}, v});
    }
    ts.push_back({"model.norm.weight", src, {384}, randn(384, 7)});
    fs::create_directories(d.str("m"));
    write_bytes(d.str("m/model.safetensors"), make_safetensors(ts));
    write_text(d.str("m/config.json"), R"({"model_type": "llama", "torch_dtype": "float32"})");
    write_text(d.str("m/tokenizer.json"), "{}");
    Analysis a = analyze_dir(d.str("m"));
    Plan p = plan_from(a, [&](const TensorAnalysis&, std::size_t i) { return cfgs[i]; });
    REQUIRE(run(cli() + " -q quantize " + d.str("m") + " --plan " + write_plan(d, p) + " -o " + d.str("q")) == 0);
    REQUIRE(run(cli() + " -q dequantize " + d.str("q") + " -o " + d.str("dq") + " --dtype float32") == 0);
    CHECK(fs::exists(d.str("q/tokenizer.json")));
    Checkpoint orig = open_model(d.str("m"));
    Checkpoint dq = open_model(d.str("dq"));
    MlxModel q = open_mlx_dir(d.str("q"));
    const DType odt = src == DType::F32 ? DType::F16 : src;
    for (std::size_t i = 0; i < cfgs.size(); ++i) {
      const std::string name = "model.layers.0.p" + std::to_string(i) + ".weight";
      INFO(name << " " << cfgs[i].bits << "/" << cfgs[i].group << " src " << dtype_name(src));
      auto expect = simulated(orig, *orig.find(name), cfgs[i], odt);
      std::vector<float> got(expect.size()), logical(expect.size());
      std::vector<uint8_t> scratch;
      REQUIRE(dq.find(name));
      read_tensor_f32(dq, *dq.find(name), got.data(), scratch);
      CHECK(same_bits(got, expect));
      const LogicalTensor* lt = q.find(name);
      REQUIRE(lt);
      REQUIRE(lt->quant);
      CHECK(*lt->quant == cfgs[i]);
      CHECK(lt->dtype == odt);
      read_logical_f32(q, *lt, logical.data());
      CHECK(same_bits(logical, expect));
    }
    // F32 sources are written as float16, and the config says so.
    json cfg = json::parse(read_text_file(d.str("q/config.json")));
    if (src == DType::F32) CHECK(cfg["torch_dtype"] == "float16");
    CHECK(q.find("model.norm.weight")->dtype == odt);
    CHECK(cfg["quantization"] == cfg["quantization_config"]);
    CHECK(!cfg["quantization"].contains("model.norm"));  // 1-D: not a quantizable module entry
  }
}

TEST_CASE("stories260K: mixed plan, config block, gate SQNR == plan SQNR, dequantize round trip", "[convert]") {
  TempDir d;
  Analysis a = analyze_dir(stories());
  // Mostly 4-bit g64, every third measured tensor 6-bit g32, the rest of the valid ones as given.
  Plan p = plan_from(a, [](const TensorAnalysis&, std::size_t i) -> std::optional<QConfig> {
    if (i % 7 == 3) return std::nullopt;
    return i % 3 == 0 ? QConfig{6, 32} : QConfig{4, 64};
  });
  REQUIRE(run(cli() + " -q quantize " + stories() + " --plan " + write_plan(d, p) + " -o " + d.str("q")) == 0);
  CHECK(fs::exists(d.str("q/tokenizer.model")));
  CHECK(fs::exists(d.str("q/model.safetensors")));
  json idx = json::parse(read_text_file(d.str("q/model.safetensors.index.json")));
  CHECK(idx["metadata"]["total_parameters"] == a.total_params);
  json cfg = json::parse(read_text_file(d.str("q/config.json")));
  const json& qb = cfg["quantization"];
  CHECK(qb["bits"] == 4);
  CHECK(qb["group_size"] == 64);
  CHECK(qb["mode"] == "affine");
  CHECK(cfg["quantization_config"] == qb);
  std::size_t i = 0;
  for (const auto& ta : a.tensors) {
    const std::string P = module_path(ta.name);
    const PlanTensor* pt = p.find(ta.name);
    if (ta.measured) {
      if (i % 7 == 3)
        CHECK(qb[P] == false);
      else if (i % 3 == 0)
        CHECK(qb[P] == json({{"bits", 6}, {"group_size", 32}, {"mode", "affine"}}));
      else
        CHECK(!qb.contains(P));
      ++i;
    } else if (ta.shape.size() == 2) {
      CHECK(qb[P] == false);  // e.g. down_proj (in = 172): kept
    }
    (void)pt;
  }

  Checkpoint orig = open_model(stories());
  MlxModel q = open_mlx_dir(d.str("q"));
  GateReport r = gate_models(orig, q, 9.0, serial());
  std::size_t compared = 0;
  for (const auto& g : r.tensors) {
    const PlanTensor* pt = p.find(g.name);
    REQUIRE(pt);
    CHECK(g.config == QConfig{pt->bits, pt->group_size});
    CHECK(std::abs(g.sqnr_db - pt->sqnr_db) <= 1e-6);
    CHECK(std::abs(g.nrmse - pt->nrmse) <= 1e-12);
    ++compared;
  }
  std::size_t planned = 0;
  for (const auto& t : p.tensors) planned += !t.keep();
  CHECK(compared == planned);
  CHECK(compared > 20);

  // CLI verdicts: measured and predicted agree.
  std::string out;
  int rc_model = run(cli() + " gate " + stories() + " " + d.str("q") + " --json " + d.str("gate.json"), &out);
  int rc_plan = run(cli() + " gate " + stories() + " --plan " + d.str("plan.json"));
  CHECK(rc_model == rc_plan);
  CHECK(rc_model == (r.pass() ? 0 : 1));
  json gj = json::parse(read_text_file(d.str("gate.json")));
  CHECK(gj["quantized"] == planned);

  REQUIRE(run(cli() + " -q dequantize " + d.str("q") + " -o " + d.str("dq")) == 0);
  Checkpoint dq = open_model(d.str("dq"));
  json dcfg = json::parse(read_text_file(d.str("dq/config.json")));
  CHECK(!dcfg.contains("quantization"));
  CHECK(!dcfg.contains("quantization_config"));
  for (const auto& t : p.tensors) {
    if (t.keep()) continue;
    const TensorInfo* ti = dq.find(t.name);
    REQUIRE(ti);
    CHECK(ti->dtype == DType::F16);
    std::vector<float> got(ti->numel());
    std::vector<uint8_t> scratch;
    read_tensor_f32(dq, *ti, got.data(), scratch);
    // Default output dtype = the scales' dtype (as mlx_lm.convert -d): the float32 ŵ rounded once.
    auto expect = simulated(orig, *orig.find(t.name), {t.bits, t.group_size}, DType::F16);
    for (auto& x : expect) x = round_to_dtype(x, DType::F16);
    CHECK(same_bits(got, expect));
  }
}

TEST_CASE("gate fails (exit 1) on an over-compressed model, refuses to overwrite OUT", "[convert]") {
  TempDir d;
  Analysis a = analyze_dir(stories());
  Plan p = plan_from(a, [](const TensorAnalysis&, std::size_t) { return QConfig{2, 64}; });
  const std::string plan = write_plan(d, p);
  REQUIRE(run(cli() + " -q quantize " + stories() + " --plan " + plan + " -o " + d.str("q")) == 0);
  std::string out;
  CHECK(run(cli() + " gate " + stories() + " " + d.str("q") + " --floor 9", &out) == 1);
  CHECK(out.find("FAIL") != std::string::npos);
  CHECK(out.find("BELOW FLOOR") != std::string::npos);
  CHECK(run(cli() + " gate " + stories() + " --plan " + plan + " --floor 9") == 1);
  CHECK(run(cli() + " gate " + stories() + " " + d.str("q") + " --floor -50") == 0);

  CHECK(run(cli() + " -q quantize " + stories() + " --plan " + plan + " -o " + d.str("q"), &out) == 2);
  CHECK(out.find("--force") != std::string::npos);
  CHECK(run(cli() + " -q quantize " + stories() + " --plan " + plan + " -o " + d.str("q") + " --force") == 0);
}

TEST_CASE("mismatched or corrupted inputs: exit 2 with a clear message, no output left", "[convert]") {
  TempDir d;
  Analysis a = analyze_dir(stories());
  Plan p = plan_from(a, [](const TensorAnalysis&, std::size_t) { return QConfig{4, 64}; });
  std::string out;

  SECTION("plan for another model") {
    Plan wrong = p;
    wrong.fingerprint = "xxh64:0123456789abcdef";
    CHECK(run(cli() + " -q quantize " + stories() + " --plan " + write_plan(d, wrong) + " -o " + d.str("q"), &out) == 2);
    CHECK(out.find("different model") != std::string::npos);
    CHECK(run(cli() + " gate " + stories() + " --plan " + d.str("plan.json")) == 2);
  }
  SECTION("plan naming a tensor that does not exist") {
    Plan wrong = p;
    wrong.tensors[3].name = "model.layers.9.nothing.weight";
    CHECK(run(cli() + " -q quantize " + stories() + " --plan " + write_plan(d, wrong) + " -o " + d.str("q"), &out) == 2);
    CHECK(out.find("model.layers.9.nothing.weight") != std::string::npos);
  }
  SECTION("output folder under a missing parent") {
    CHECK(run(cli() + " -q quantize " + stories() + " --plan " + write_plan(d, p) + " -o " + d.str("no/such/q"), &out) == 2);
  }
  SECTION("a write failure midway (file size limit, like a full disk) leaves nothing behind") {
    // SIGXFSZ ignored: the write that crosses the limit fails with EFBIG instead of killing the process.
    const std::string cmd = "sh -c \"trap '' XFSZ; ulimit -f 300; " + cli() + " -q quantize " + stories() +
                            " --plan " + write_plan(d, p) + " -o " + d.str("q") + "\"";
    CHECK(run(cmd, &out) == 2);
    CHECK(out.find("write failed") != std::string::npos);
  }
  CHECK(!fs::exists(d.str("q")));
  CHECK(no_temp_beside(d.str()));
}

TEST_CASE("MLX reader: config/shape disagreement, missing scales, modes, other writers", "[convert]") {
  // A hand-written mlx-lm model: one 4-bit g32 module [4, 64] -> weight [4, 8] U32, scales/biases [4, 2].
  auto model = [](const std::string& config, bool with_scales) {
    MemoryProvider mp;
    std::vector<StTensor> ts = {{"l.weight", DType::U32, {4, 8}, {}}, {"l.biases", DType::F16, {4, 2}, {}},
                                {"n.weight", DType::F16, {64}, {}}};
    if (with_scales) ts.push_back({"l.scales", DType::F16, {4, 2}, {}});
    mp.add("model.safetensors", make_safetensors(ts));
    mp.add("config.json", config);
    return mp;
  };
  auto msg_of = [&](const std::string& cfg, bool scales) -> std::string {
    try {
      auto mp = model(cfg, scales);
      open_mlx_model(mp);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  {
    auto mp = model(R"({"quantization": {"group_size": 32, "bits": 4}})", true);  // mode omitted = affine
    MlxModel m = open_mlx_model(mp);
    REQUIRE(m.tensors.size() == 2);
    const LogicalTensor* l = m.find("l.weight");
    REQUIRE(l);
    CHECK(l->shape == std::vector<int64_t>{4, 64});
    CHECK(*l->quant == QConfig{4, 32});
    CHECK(!m.find("n.weight")->quant);
  }
  {
    // Per-module entry overriding the global.
    auto mp = model(R"({"quantization": {"group_size": 64, "bits": 8, "l": {"group_size": 32, "bits": 4}}})", true);
    CHECK(*open_mlx_model(mp).find("l.weight")->quant == QConfig{4, 32});
  }
  // omlx #967: config claims 8-bit for a 4-bit tensor.
  std::string m8 = msg_of(R"({"quantization": {"group_size": 32, "bits": 8, "mode": "affine"}})", true);
  CHECK(m8.find("'l'") != std::string::npos);
  CHECK(m8.find("8-bit") != std::string::npos);
  CHECK(msg_of(R"({"quantization": {"group_size": 32, "bits": 4}})", false).find("scales") != std::string::npos);
  CHECK(msg_of(R"({"quantization": {"group_size": 32, "bits": 4, "mode": "mxfp4"}})", true).find("mxfp4") != std::string::npos);
  CHECK(msg_of(R"({"quantization": {"group_size": 32, "bits": 4, "l": false}})", true).find("false") != std::string::npos);
  CHECK(msg_of(R"({"model_type": "llama"})", true).find("quantization") != std::string::npos);

  // The CLI gives exit 2 for a quantized model whose config lies about the bits.
  TempDir d;
  Analysis a = analyze_dir(stories());
  Plan p = plan_from(a, [](const TensorAnalysis&, std::size_t) { return QConfig{4, 64}; });
  REQUIRE(run(cli() + " -q quantize " + stories() + " --plan " + write_plan(d, p) + " -o " + d.str("q")) == 0);
  json cfg = json::parse(read_text_file(d.str("q/config.json")));
  cfg["quantization"]["bits"] = 8;
  cfg["quantization_config"]["bits"] = 8;
  write_text(d.str("q/config.json"), cfg.dump());
  std::string out;
  CHECK(run(cli() + " gate " + stories() + " " + d.str("q"), &out) == 2);
  CHECK(out.find("config.json says 8-bit") != std::string::npos);
  CHECK(run(cli() + " -q dequantize " + d.str("q") + " -o " + d.str("dq")) == 2);
  CHECK(!fs::exists(d.str("dq")));
  // QUANTIZED and --plan together: a usage error.
  CHECK(run(cli() + " gate " + shared_dir() + "/models/stories260K " + d.str("q") + " --plan x", &out) == 2);
}

TEST_CASE("MoE: separate experts are stacked for MLX switch layers, gate passes and matches the plan", "[convert]") {
  TempDir d;
  REQUIRE(run(cli() + " -q synth " + d.str("m") + " --preset moe --layers 2") == 0);
  Analysis a = analyze_dir(d.str("m"));
  Plan p = plan_from(a, [](const TensorAnalysis& ta, std::size_t) -> std::optional<QConfig> {
    if (ta.name.find("block_sparse_moe.gate.") != std::string::npos) return QConfig{8, 64};  // router
    return QConfig{4, 64};
  });
  REQUIRE(run(cli() + " -q quantize " + d.str("m") + " --plan " + write_plan(d, p) + " -o " + d.str("q")) == 0);
  MlxModel q = open_mlx_dir(d.str("q"));
  Checkpoint orig = open_model(d.str("m"));
  const int E = orig.config.num_experts;
  REQUIRE(E > 1);
  const TensorInfo* w1 = orig.find("model.layers.0.block_sparse_moe.experts.0.w1.weight");
  REQUIRE(w1);
  for (const char* proj : {"gate_proj", "down_proj", "up_proj"}) {
    const std::string P = std::string("model.layers.1.block_sparse_moe.switch_mlp.") + proj;
    const TensorInfo* w = q.ck.find(P + ".weight");
    REQUIRE(w);
    CHECK(w->shape.size() == 3);
    CHECK(w->shape[0] == E);
    CHECK(q.ck.find(P + ".scales")->shape[0] == E);
  }
  CHECK(q.find("model.layers.0.block_sparse_moe.switch_mlp.gate_proj.weight")->shape ==
        std::vector<int64_t>{E, w1->shape[0], w1->shape[1]});
  CHECK(!q.ck.find("model.layers.0.block_sparse_moe.experts.0.w1.weight"));
  GateReport r = gate_models(orig, q, 9.0, serial());
  CHECK(r.pass());
  std::size_t experts = 0;
  for (const auto& g : r.tensors) {
    const PlanTensor* pt = p.find(g.name);
    REQUIRE(pt);
    CHECK(std::abs(g.sqnr_db - pt->sqnr_db) <= 1e-6);
    experts += g.name.find(".experts.") != std::string::npos;
  }
  CHECK(experts == static_cast<std::size_t>(2 * 3 * E));
  CHECK(run(cli() + " -q gate " + d.str("m") + " " + d.str("q")) == 0);
  std::string mism;
  CHECK(run(cli() + " gate " + stories() + " " + d.str("q"), &mism) == 2);  // another model's original
  CHECK(mism.find("squint: error:") != std::string::npos);
  CHECK(mism.find("model.embed_tokens.weight") != std::string::npos);
  json cfg = json::parse(read_text_file(d.str("q/config.json")));
  CHECK(cfg["quantization"]["model.layers.0.block_sparse_moe.gate"]["bits"] == 8);

  // Dequantize restores the HF layout (separate experts): same tensor names and shapes as the original.
  REQUIRE(run(cli() + " -q dequantize " + d.str("q") + " -o " + d.str("dq")) == 0);
  Checkpoint dq = open_model(d.str("dq"));
  CHECK(dq.fingerprint == orig.fingerprint);

  // Experts of one stack with different choices cannot be written.
  Plan bad = p;
  for (auto& t : bad.tensors)
    if (t.name == "model.layers.0.block_sparse_moe.experts.1.w2.weight") t.bits = 8;
  std::string out;
  CHECK(run(cli() + " -q quantize " + d.str("m") + " --plan " + write_plan(d, bad, "bad.json") + " -o " + d.str("q2"), &out) == 2);
  CHECK(out.find("share one") != std::string::npos);
}

TEST_CASE("shards: size limit, mlx-lm names, index and metadata, reading them back", "[convert]") {
  TempDir d;
  Analysis a = analyze_dir(stories());
  Plan p = plan_from(a, [](const TensorAnalysis&, std::size_t) { return QConfig{4, 32}; });
  const uint64_t limit = 60000;
  REQUIRE(run(cli() + " -q quantize " + stories() + " --plan " + write_plan(d, p) + " -o " + d.str("q") +
              " --shard-size " + std::to_string(limit)) == 0);
  json idx = json::parse(read_text_file(d.str("q/model.safetensors.index.json")));
  std::set<std::string> files;
  for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) files.insert(it.value());
  REQUIRE(files.size() > 2);
  const std::size_t n = files.size();
  char last[64];
  std::snprintf(last, sizeof last, "model-%05zu-of-%05zu.safetensors", n, n);
  CHECK(files.count("model-00001-of-" + std::string(last).substr(15)));
  CHECK(files.count(last));
  CHECK(!fs::exists(d.str("q/model.safetensors")));
  uint64_t total = 0;
  MlxModel q = open_mlx_dir(d.str("q"));
  for (std::size_t f = 0; f < q.ck.files.size(); ++f) {
    uint64_t bytes = 0;
    std::size_t count = 0;
    for (const auto& t : q.ck.tensors)
      if (t.file == static_cast<int>(f)) bytes += t.nbytes, ++count;
    // Over the limit only when a single module alone is larger (weight+scales+biases = 3 tensors).
    CHECK((bytes <= limit || count <= 3));
    CHECK(q.ck.headers[f].metadata.at("format") == "mlx");
    total += bytes;
  }
  CHECK(idx["metadata"]["total_size"] == total);
  Checkpoint orig = open_model(stories());
  GateReport r = gate_models(orig, q, 9.0, serial());
  for (const auto& g : r.tensors) CHECK(std::abs(g.sqnr_db - p.find(g.name)->sqnr_db) <= 1e-6);
}

TEST_CASE("the written model does not depend on the thread count", "[convert]") {
  TempDir d;
  REQUIRE(run(cli() + " -q synth " + d.str("m") + " --preset tiny --seed 5") == 0);
  Analysis a = analyze_dir(d.str("m"));
  Plan p = plan_from(a, [](const TensorAnalysis&, std::size_t i) { return all_configs()[i % 18]; });
  const std::string plan = write_plan(d, p);
  REQUIRE(run(cli() + " -q -j 1 quantize " + d.str("m") + " --plan " + plan + " -o " + d.str("q1")) == 0);
  REQUIRE(run(cli() + " -q -j 3 quantize " + d.str("m") + " --plan " + plan + " -o " + d.str("q3")) == 0);
  for (const char* f : {"model.safetensors", "config.json", "model.safetensors.index.json"})
    CHECK(read_text_file(d.str("q1/") + f) == read_text_file(d.str("q3/") + f));
  CHECK(run(cli() + " -q gate " + d.str("m") + " " + d.str("q1") + " --floor -100") == 0);
}

TEST_CASE("3-D expert stacks in the source: quantized along the last axis, gate = per-expert minimum", "[convert]") {
  TempDir d;
  auto v = randn(4 * 16 * 128, 9, 0.05f);
  for (std::size_t k = 0; k < 16 * 128; ++k) v[2 * 16 * 128 + k] *= 0.01f + (k % 13 == 0 ? 40.0f : 0.0f);  // one odd expert
  fs::create_directories(d.str("m"));
  write_bytes(d.str("m/model.safetensors"),
              make_safetensors({{"model.layers.0.mlp.switch_mlp.up_proj.weight", DType::BF16, {4, 16, 128}, v},
                                {"model.layers.0.mlp.gate.weight", DType::BF16, {4, 128}, randn(4 * 128, 3)}}));
  write_text(d.str("m/config.json"), R"({"model_type": "qwen2_moe", "num_experts": 4})");
  Analysis a = analyze_dir(d.str("m"));
  Plan p = plan_from(a, [](const TensorAnalysis&, std::size_t) { return QConfig{3, 32}; });
  REQUIRE(run(cli() + " -q quantize " + d.str("m") + " --plan " + write_plan(d, p) + " -o " + d.str("q")) == 0);
  MlxModel q = open_mlx_dir(d.str("q"));
  CHECK(q.ck.find("model.layers.0.mlp.switch_mlp.up_proj.weight")->shape == std::vector<int64_t>{4, 16, 12});
  Checkpoint orig = open_model(d.str("m"));
  GateReport r = gate_models(orig, q, 9.0, serial());
  REQUIRE(r.tensors.size() == 2);
  for (const auto& g : r.tensors) CHECK(std::abs(g.sqnr_db - p.find(g.name)->sqnr_db) <= 1e-6);
}

TEST_CASE("quantize --bpw: plan and convert in one go, the gate measures what the plan predicted", "[convert]") {
  TempDir d;
  REQUIRE(run(cli() + " -q quantize " + stories() + " --bpw 8 -o " + d.str("q") + " --save-plan " + d.str("p.json")) == 0);
  Plan p = parse_plan(read_text_file(d.str("p.json")), "p.json");
  Checkpoint orig = open_model(stories());
  CHECK(p.fingerprint == orig.fingerprint);
  MlxModel q = open_mlx_dir(d.str("q"));
  GateReport r = gate_models(orig, q, 9.0, serial());
  std::size_t planned = 0;
  for (const auto& t : p.tensors) planned += !t.keep();
  CHECK(r.tensors.size() == planned);
  for (const auto& g : r.tensors) CHECK(std::abs(g.sqnr_db - p.find(g.name)->sqnr_db) <= 1e-6);
  // Exactly one source of the plan; --dtype belongs to a budget.
  std::string out;
  CHECK(run(cli() + " -q quantize " + stories() + " --bpw 8 --plan " + d.str("p.json") + " -o " + d.str("x"), &out) == 2);
  CHECK(run(cli() + " -q quantize " + stories() + " --plan " + d.str("p.json") + " --dtype bfloat16 -o " + d.str("x"), &out) == 2);
  // bfloat16 output for the F32 source: scales and kept tensors in BF16, config says so.
  REQUIRE(run(cli() + " -q quantize " + stories() + " --bpw 8 --dtype bfloat16 -o " + d.str("qbf")) == 0);
  MlxModel qb = open_mlx_dir(d.str("qbf"));
  for (const auto& t : qb.tensors)
    if (t.quant) CHECK(t.dtype == DType::BF16);
  CHECK(json::parse(read_text_file(d.str("qbf/config.json")))["torch_dtype"] == "bfloat16");
  CHECK(!fs::exists(d.str("x")));
}
