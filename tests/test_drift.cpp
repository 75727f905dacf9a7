// `squint drift` end to end: a synthetic series made with `squint synth` plus controlled drift (weights moved
// towards their 4-bit rounding boundaries by a known fraction t, which scales every unclamped element's
// alignment by exactly 1 − t), the report's contract (format/version, order by step, files, errors).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "file_source.h"
#include "quant/affine.h"
#include "test_util.h"
#include "util/rng.h"

using namespace squint;
using namespace squint::test;
namespace fs = std::filesystem;

namespace {

// Copies the checkpoint at `src` to `dst`, moving every 2-D weight whose rows split into 64-groups towards
// the nearest 4/64 rounding boundary: x = (w − b)/s → q + sign(x − q)·((1 − t)|x − q| + t/2), q = rint(x).
// The group's extremes sit on grid points (|x − q| = 0, sign 0) and stay, so the grid does not move.
void write_drifted(const std::string& src, const std::string& dst, double t) {
  Checkpoint ck = open_model(src);
  std::vector<FakeTensor> out;
  std::vector<uint8_t> scratch;
  for (const auto& ti : ck.tensors) {
    FakeTensor f{ti.name, ti.dtype, ti.shape, std::vector<float>(ti.numel())};
    REQUIRE(read_tensor_f32(ck, ti, f.values.data(), scratch));
    if (ti.shape.size() == 2 && ti.cols() % 64 == 0)
      for (std::size_t g = 0; g < f.values.size(); g += 64) {
        float* p = f.values.data() + g;
        float lo = p[0], hi = p[0];
        for (int j = 1; j < 64; ++j) lo = std::min(lo, p[j]), hi = std::max(hi, p[j]);
        if (lo == hi) continue;
        const GroupParams gp = mlx_group_params(lo, hi, 4);
        for (int j = 0; j < 64; ++j) {
          if (p[j] == lo || p[j] == hi) continue;
          const double x = (double(p[j]) - gp.bias) / gp.scale, q = std::rint(x), d = x - q;
          const double moved = q + (d > 0 ? 1 : -1) * ((1 - t) * std::fabs(d) + t / 2);
          p[j] = static_cast<float>(moved * gp.scale + gp.bias);
        }
      }
    out.push_back(std::move(f));
  }
  fs::create_directories(dst);
  write_bytes(fs::path(dst) / "model.safetensors", make_safetensors(out));
  fs::copy_file(fs::path(src) / "config.json", fs::path(dst) / "config.json");
}

nlohmann::json drift_json(const std::string& args) {
  std::string out;
  REQUIRE(run(cli() + " -q drift " + args + " --json 2>/dev/null", &out) == 0);
  return nlohmann::json::parse(out);
}

}  // namespace

TEST_CASE("drift: a synthetic series drifting towards the 4-bit boundaries", "[drift]") {
  TempDir d;
  REQUIRE(run(cli() + " -q synth " + d.str("step-0") + " --preset tiny --dtype float32") == 0);
  write_drifted(d.str("step-0"), d.str("step-20"), 0.5);
  write_drifted(d.str("step-0"), d.str("step-100"), 0.9);
  // Given out of order: the report sorts by the step in the folder names. --dtype float32 keeps the
  // quantizer input exactly the moved values (no F16 cast).
  auto j = drift_json(d.str("step-100") + " " + d.str("step-0") + " " + d.str("step-20") + " --dtype float32");
  CHECK(j["format"] == "squint.drift");
  CHECK(j["version"] == 1);
  REQUIRE(j["rows"].size() == 3);
  CHECK(j["rows"][0]["step"] == 0);
  CHECK(j["rows"][1]["step"] == 20);
  CHECK(j["rows"][2]["step"] == 100);
  CHECK(j["rows"][0]["delta"].is_null());
  auto cfg = [&](int r, int c) { return j["rows"][r]["data_free"]["configs"][c]; };
  CHECK(cfg(0, 0)["bits"] == 4);
  const double a0 = cfg(0, 0)["alignment_mean"], a1 = cfg(1, 0)["alignment_mean"], a2 = cfg(2, 0)["alignment_mean"];
  // Every moved element's a scales by exactly 1 − t; the two extremes of each 64-group stay (the edge on a
  // grid point, the far end where MLX's stretched grid puts it), contributing a fixed E:
  // mean(t) = (1 − t)·(mean(0) − E) + E. E from t = 0.5 predicts t = 0.9, and is at most 2 of 64 elements.
  CHECK(a0 == Approx(0.25).margin(0.02));
  const double E = 2 * a1 - a0;
  CHECK(std::fabs(E) <= 2.0 / 64 * 0.5 + 1e-3);
  CHECK(a2 == Approx(0.1 * (a0 - E) + E).margin(2e-4));
  // Elements near a boundary: chance (10 %) at t = 0, most of the moved ones at t = 0.9 (|a| ≤ 0.05).
  CHECK(double(cfg(0, 0)["near_boundary_share"]) == Approx(0.10).margin(0.02));
  CHECK(double(cfg(2, 0)["near_boundary_share"]) > 0.9);
  // The 4-bit error grows as weights reach the boundaries: median SQNR falls row by row.
  CHECK(double(cfg(1, 0)["sqnr_median_db"]) < double(cfg(0, 0)["sqnr_median_db"]) - 1.0);
  CHECK(double(cfg(2, 0)["sqnr_median_db"]) < double(cfg(1, 0)["sqnr_median_db"]) - 1.0);
  // The change since the previous row is reported.
  CHECK(double(j["rows"][1]["delta"]["configs"][0]["alignment_mean"]) == Approx(a1 - a0));
  // Without --text there is no verdict.
  CHECK(j["verdict"]["evaluated"] == false);
}

namespace {

// Excess kurtosis m4/m2² − 3 of n values, written here independently of core (one pass over raw moments
// about the mean, in long double).
double kurt_ref(const float* p, std::size_t n) {
  long double mean = 0, m2 = 0, m4 = 0;
  for (std::size_t i = 0; i < n; ++i) mean += p[i];
  mean /= n;
  for (std::size_t i = 0; i < n; ++i) {
    const long double d = p[i] - mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  m4 /= n;
  return m2 > 0 ? static_cast<double>(m4 / (m2 * m2) - 3) : 0.0;
}

// P-th quantile with linear interpolation between order statistics (numpy's default).
double quantile_ref(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double pos = p * static_cast<double>(v.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

TEST_CASE("drift: SQNR and kurtosis columns equal `analyze` and a direct computation", "[drift]") {
  TempDir d;
  // Every weight's rows are a multiple of 128 wide, so every group of the per-group kurtosis has 128 elements.
  REQUIRE(run(cli() + " -q synth " + d.str("m") + " --preset tiny --hidden 128 --intermediate 256") == 0);
  const std::vector<std::pair<int, int>> cfgs = {{2, 64}, {4, 64}, {8, 64}};
  auto j = drift_json(d.str("m") + " --configs 2/64,4/64,8/64");
  std::string out;
  REQUIRE(run(cli() + " -q analyze " + d.str("m") + " --bits 2 4 8 --group-sizes 64 --json", &out) == 0);
  auto a = nlohmann::json::parse(out);
  const auto& df = j["rows"][0]["data_free"];
  REQUIRE(df["configs"].size() == 3);
  for (std::size_t ci = 0; ci < cfgs.size(); ++ci) {
    std::vector<double> db;
    for (const auto& t : a["tensors"])
      for (const auto& c : t["configs"])
        if (c["bits"] == cfgs[ci].first && c["group_size"] == cfgs[ci].second) db.push_back(c["sqnr_db"]);
    REQUIRE(db.size() >= 3);
    std::sort(db.begin(), db.end());
    const std::size_t n = db.size();
    const double median = n % 2 ? db[n / 2] : 0.5 * (db[n / 2 - 1] + db[n / 2]);
    std::size_t below = 0;
    for (double x : db) below += x < 9.0;
    const auto& c = df["configs"][ci];
    INFO("config " << cfgs[ci].first << "/" << cfgs[ci].second);
    CHECK(c["tensors"] == n);
    CHECK(double(c["sqnr_min_db"]) == db.front());
    CHECK(double(c["sqnr_median_db"]) == Approx(median).epsilon(1e-12));
    CHECK(c["tensors_below_floor"] == below);
  }
  // The floor count is not trivially 0 or everything: 2-bit synth weights sit around 5-9 dB, 4-bit above.
  CHECK(int(df["configs"][0]["tensors_below_floor"]) > 0);
  CHECK(df["configs"][1]["tensors_below_floor"] == 0);

  // Kurtosis over the tensors analyze measures: the params-weighted mean of each tensor's excess kurtosis,
  // and the P90 of all 128-element groups' excess kurtosis.
  Checkpoint ck = open_model(d.str("m"));
  std::vector<uint8_t> scratch;
  double weighted = 0;
  uint64_t params = 0;
  std::vector<double> groups;
  for (const auto& t : a["tensors"]) {
    if (!t["measured"].get<bool>()) continue;
    const TensorInfo* ti = nullptr;
    for (const auto& x : ck.tensors)
      if (x.name == t["name"]) ti = &x;
    REQUIRE(ti);
    std::vector<float> w(ti->numel());
    REQUIRE(read_tensor_f32(ck, *ti, w.data(), scratch));  // BF16: the quantizer input as stored
    weighted += kurt_ref(w.data(), w.size()) * static_cast<double>(w.size());
    params += w.size();
    REQUIRE(ti->cols() % 128 == 0);
    for (std::size_t g = 0; g < w.size(); g += 128) groups.push_back(kurt_ref(w.data() + g, 128));
  }
  CHECK(df["params"] == params);
  CHECK(double(df["kurtosis"]) == Approx(weighted / static_cast<double>(params)).margin(1e-9));
  CHECK(double(df["group_kurtosis_p90"]) == Approx(quantile_ref(groups, 0.9)).margin(1e-9));
}

TEST_CASE("drift: files, order and errors", "[drift]") {
  TempDir d;
  const std::string s260 = shared_dir() + "/models/stories260K";
  std::string out;
  REQUIRE(run(cli() + " drift " + s260 + " " + s260 + " --keep-order --configs 4/32 -o " + d.str("r.json") +
                  " --csv " + d.str("r.csv") + " --plot " + d.str("r.svg"),
              &out) == 0);
  CHECK(out.find("4/32") != std::string::npos);  // the table on stdout (not under -q: tests/test_cli_contract.cpp)
  auto j = nlohmann::json::parse(read_text_file(d.str("r.json")));
  REQUIRE(j["rows"].size() == 2);
  CHECK(j["rows"][0]["data_free"] == j["rows"][1]["data_free"]);
  CHECK(j["rows"][1]["delta"]["configs"][0]["alignment_mean"] == 0.0);
  CHECK(read_text_file(d.str("r.csv")).find("alignment_mean_4_32") != std::string::npos);
  CHECK(read_text_file(d.str("r.svg")).rfind("<svg", 0) == 0);
  // Bad input: one line, exit 2, nothing written.
  CHECK(run(cli() + " drift " + s260 + " --configs 4-64 -o " + d.str("x.json"), &out) == 2);
  CHECK(out.find("--configs") != std::string::npos);
  CHECK(run(cli() + " drift " + s260 + " --configs 7/64", &out) == 2);
  CHECK(run(cli() + " drift " + d.str("missing") + " -o " + d.str("x.json"), &out) == 2);
  CHECK_FALSE(fs::exists(d.str("x.json")));
}

namespace {

const std::string kText = "/data/tinystories/eval.txt";

// stories260K reparametrised without changing its function: each RMSNorm weight γ_i is multiplied by c_i and
// column i of the linears it feeds (q/k/v after input_layernorm, gate/up after post_attention_layernorm) is
// divided by c_i, with log c_i ~ N(0, σ²). The float model's PPL stays the same (to float rounding); the
// columns' spread inside each quantization group grows, so the 4-bit model gets worse: a float plateau with
// a growing low-bit gap, i.e. phase 3 by construction.
void write_rescaled(const std::string& dst, double sigma, uint64_t seed) {
  const std::string src = shared_dir() + "/models/stories260K";
  Checkpoint ck = open_model(src);
  std::map<std::string, std::vector<float>> vals;
  std::vector<uint8_t> scratch;
  for (const auto& t : ck.tensors) {
    vals[t.name].resize(t.numel());
    REQUIRE(read_tensor_f32(ck, t, vals[t.name].data(), scratch));
  }
  SplitMix64 rng{seed};
  for (int l = 0; l < ck.config.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (auto [norm, outs] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"input_layernorm", {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}},
             {"post_attention_layernorm", {"mlp.gate_proj", "mlp.up_proj"}}}) {
      auto& g = vals.at(p + norm + ".weight");
      for (std::size_t i = 0; i < g.size(); ++i) {
        const float c = static_cast<float>(std::exp(sigma * rng.normal()));
        g[i] *= c;
        for (const auto& o : outs) {
          auto& w = vals.at(p + o + ".weight");
          const std::size_t cols = g.size();
          for (std::size_t r = 0; r < w.size() / cols; ++r) w[r * cols + i] /= c;
        }
      }
    }
  }
  std::vector<FakeTensor> out;
  for (const auto& t : ck.tensors) out.push_back({t.name, t.dtype, t.shape, vals[t.name]});
  fs::create_directories(dst);
  write_bytes(fs::path(dst) / "model.safetensors", make_safetensors(out));
  fs::copy_file(fs::path(src) / "config.json", fs::path(dst) / "config.json");
}

}  // namespace

TEST_CASE("drift --text: the gap and KL equal separate quantize + eval runs", "[drift]") {
  TempDir d;
  const std::string s = shared_dir() + "/models/stories260K", text = shared_dir() + kText;
  const std::string win = " --seq-len 64 --samples 6 --text " + text;
  auto j = drift_json(s + win + " --configs 4/64,8/64");
  // Independently: the float model evaluated alone, and per config the uniform plan as docs/eval.md defines
  // it on the CLI, written by `quantize`, then evaluated against the float model.
  REQUIRE(run(cli() + " -q eval " + s + win + " -o " + d.str("f.json")) == 0);
  auto f = nlohmann::json::parse(read_text_file(d.str("f.json")));
  const auto& t = j["rows"][0]["text"];
  CHECK(double(t["float_median_ppl"]) == double(f["median_ppl"]));
  CHECK(double(t["float_mean_ppl"]) == double(f["mean_ppl"]));
  const int bits[] = {4, 8};
  for (int ci = 0; ci < 2; ++ci) {
    const std::string b = std::to_string(bits[ci]), p = d.str("p" + b + ".json"), q = d.str("q" + b);
    REQUIRE(run(cli() + " -q plan " + s + " --bits " + b + " --group-sizes 64 --min-safe --floor 0 -o " + p) == 0);
    REQUIRE(run(cli() + " -q quantize " + s + " --plan " + p + " -o " + q) == 0);
    REQUIRE(run(cli() + " -q eval " + q + win + " --kl-base " + s + " -o " + d.str("e" + b + ".json")) == 0);
    auto e = nlohmann::json::parse(read_text_file(d.str("e" + b + ".json")));
    const auto& c = t["configs"][ci];
    INFO("config " << b << "/64");
    REQUIRE(c["bits"] == bits[ci]);
    CHECK(double(c["median_ppl"]) == double(e["median_ppl"]));
    CHECK(double(c["mean_ppl"]) == double(e["mean_ppl"]));
    CHECK(double(c["gap_pct"]) == Approx(100.0 * (double(e["median_ppl"]) / double(f["median_ppl"]) - 1.0)).epsilon(1e-12));
    CHECK(double(c["gap_mean_pct"]) == Approx(100.0 * (double(e["mean_ppl"]) / double(f["mean_ppl"]) - 1.0)).epsilon(1e-12));
    for (const char* k : {"mean", "median", "p99", "max", "top1_agreement"}) CHECK(double(c["kl"][k]) == double(e["kl"][k]));
    CHECK(double(c["gap_se_pct"]) > 0);
  }
  // The 8-bit model is far closer to the float one than the 4-bit model.
  CHECK(double(t["configs"][1]["kl"]["mean"]) < 0.1 * double(t["configs"][0]["kl"]["mean"]));
  CHECK(j["verdict"]["evaluated"] == true);
  CHECK(j["verdict"]["divergence"] == false);  // one checkpoint: no trend
}

TEST_CASE("drift --text: a function-preserving rescale series gives the phase-3 verdict", "[drift]") {
  TempDir d;
  // Steps 10-30: the same model (three reparametrisations with σ = 0 are exact copies); 40, 50: σ = 1, 1.5.
  const double sig[] = {0, 0, 0, 1.0, 1.5};
  std::string dirs;
  for (int k = 0; k < 5; ++k) {
    const std::string p = d.str("step-" + std::to_string(10 * (k + 1)));
    write_rescaled(p, sig[k], 100 + k);
    dirs += " " + p;
  }
  const std::string args = " --text " + shared_dir() + kText + " --seq-len 64 --samples 8 --configs 4/64,8/64 --tokenizer " +
                           shared_dir() + "/models/stories260K";
  std::string out;
  const int rc = run(cli() + " -q drift" + dirs + args + " --fail-on-divergence --plot " + d.str("g.svg") + " --csv " +
                     d.str("g.csv") + " --json 2>/dev/null", &out);
  auto j = nlohmann::json::parse(out);
  const auto& rows = j["rows"];
  const double ppl0 = rows[0]["text"]["float_median_ppl"];
  for (const auto& r : rows) CHECK(double(r["text"]["float_median_ppl"]) == Approx(ppl0).epsilon(1e-3));  // float: flat
  const double g0 = rows[0]["text"]["configs"][0]["gap_pct"], g3 = rows[3]["text"]["configs"][0]["gap_pct"],
               g4 = rows[4]["text"]["configs"][0]["gap_pct"];
  CHECK(double(rows[1]["text"]["configs"][0]["gap_pct"]) == g0);
  CHECK(g3 > g0 + 5);
  CHECK(g4 > g0 + 5);
  CHECK(j["verdict"]["divergence"] == true);
  CHECK(j["verdict"]["step"] == 40);
  CHECK(j["verdict"]["gap_min_step"] == 10);
  CHECK(j["verdict"]["confirmed"] == true);
  CHECK(rc == 1);  // --fail-on-divergence
  // The plot: one gap line per config against the left axis, float PPL on the second axis, the onset marked.
  const std::string svg = read_text_file(d.str("g.svg"));
  for (const char* label : {"gap 4/64 (median PPL, %)", "gap 8/64 (median PPL, %)", "float median PPL (right axis)",
                        "PPL gap of the quantized model (%)", "phase 3"})
    CHECK(svg.find(label) != std::string::npos);
  // The change since the previous checkpoint: each delta is the difference of the two rows' values.
  for (std::size_t k = 1; k < rows.size(); ++k) {
    INFO("row " << k);
    const auto &r = rows[k], &p = rows[k - 1], &dl = rows[k]["delta"];
    CHECK(double(dl["float_median_ppl_pct"]) ==
          Approx(100.0 * (double(r["text"]["float_median_ppl"]) / double(p["text"]["float_median_ppl"]) - 1.0)).margin(1e-12));
    CHECK(double(dl["kurtosis"]) == double(r["data_free"]["kurtosis"]) - double(p["data_free"]["kurtosis"]));
    CHECK(double(dl["group_kurtosis_p90"]) ==
          double(r["data_free"]["group_kurtosis_p90"]) - double(p["data_free"]["group_kurtosis_p90"]));
    for (int c = 0; c < 2; ++c) {
      const auto &a = r["data_free"]["configs"][c], &b = p["data_free"]["configs"][c];
      CHECK(double(dl["configs"][c]["gap_pp"]) ==
            double(r["text"]["configs"][c]["gap_pct"]) - double(p["text"]["configs"][c]["gap_pct"]));
      CHECK(double(dl["configs"][c]["sqnr_median_db"]) == double(a["sqnr_median_db"]) - double(b["sqnr_median_db"]));
      CHECK(double(dl["configs"][c]["sqnr_min_db"]) == double(a["sqnr_min_db"]) - double(b["sqnr_min_db"]));
      CHECK(double(dl["configs"][c]["near_boundary_share"]) ==
            double(a["near_boundary_share"]) - double(b["near_boundary_share"]));
    }
  }
  // The CSV holds the JSON's numbers (shortest round-trip form): one line per row, same order.
  {
    std::vector<std::vector<std::string>> lines;
    std::string text = read_text_file(d.str("g.csv")), line;
    for (char ch : text) {
      if (ch != '\n') {
        line += ch;
        continue;
      }
      std::vector<std::string> f(1);
      for (char x : line)
        if (x == ',') f.emplace_back();
        else f.back().push_back(x);
      lines.push_back(f);
      line.clear();
    }
    REQUIRE(lines.size() == rows.size() + 1);
    auto col = [&](const std::string& name) {
      for (std::size_t i = 0; i < lines[0].size(); ++i)
        if (lines[0][i] == name) return i;
      FAIL("no CSV column " << name);
      return std::size_t(0);
    };
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const auto& f = lines[k + 1];
      CHECK(std::stoll(f[col("step")]) == rows[k]["step"].get<int64_t>());
      CHECK(std::stod(f[col("float_median_ppl")]) == double(rows[k]["text"]["float_median_ppl"]));
      CHECK(std::stod(f[col("gap_pct_4_64")]) == double(rows[k]["text"]["configs"][0]["gap_pct"]));
      CHECK(std::stod(f[col("kl_mean_8_64")]) == double(rows[k]["text"]["configs"][1]["kl"]["mean"]));
      CHECK(std::stod(f[col("alignment_mean_4_64")]) == double(rows[k]["data_free"]["configs"][0]["alignment_mean"]));
      CHECK(std::stod(f[col("group_kurtosis_p90")]) == double(rows[k]["data_free"]["group_kurtosis_p90"]));
    }
  }
  // The plateau alone (steps 10-30) is no divergence: exit 0 even with --fail-on-divergence.
  const std::string first3 = " " + d.str("step-10") + " " + d.str("step-20") + " " + d.str("step-30");
  REQUIRE(run(cli() + " -q drift" + first3 + args + " --fail-on-divergence --json 2>/dev/null", &out) == 0);
  CHECK(nlohmann::json::parse(out)["verdict"]["divergence"] == false);
  // --fail-on-divergence without --text is an error.
  CHECK(run(cli() + " -q drift" + first3 + " --fail-on-divergence", &out) == 2);
}

TEST_CASE("drift --text: weights moved inside their 4-bit cells leave the 4-bit model unchanged", "[drift]") {
  // stories260K with its weights moved towards their 4/64 rounding boundaries by t = 0, 0.5, 0.9 (as in the
  // synth series above). A moved weight stays inside its cell, so it keeps its code, and the grid (fitted to
  // the group's unmoved extremes) stays: the 4-bit model is the same at every step, bit for bit. What is
  // known: the quantized PPL is identical, the alignment and the 4-bit SQNR fall, and only the KL sees the
  // float model walking away from that fixed 4-bit model. The PPL gap moves only through the float PPL
  // (here by less than its bootstrap error): boundary drift by itself is not phase 3.
  TempDir d;
  const std::string s = shared_dir() + "/models/stories260K";
  const double ts[] = {0, 0.5, 0.9};
  std::string dirs;
  for (int k = 0; k < 3; ++k) {
    const std::string p = d.str("step-" + std::to_string(10 * (k + 1)));
    write_drifted(s, p, ts[k]);
    dirs += " " + p;
  }
  auto j = drift_json(dirs + " --dtype float32 --configs 4/64,8/64 --seq-len 64 --samples 16 --text " + shared_dir() +
                      kText + " --tokenizer " + s);
  const auto& rows = j["rows"];
  REQUIRE(rows.size() == 3);
  auto txt = [&](int r, int c) { return rows[r]["text"]["configs"][c]; };
  auto df = [&](int r) { return rows[r]["data_free"]["configs"][0]; };
  for (int r = 1; r < 3; ++r) {
    INFO("row " << r);
    CHECK(double(txt(r, 0)["median_ppl"]) == double(txt(0, 0)["median_ppl"]));
    CHECK(double(txt(r, 0)["mean_ppl"]) == double(txt(0, 0)["mean_ppl"]));
    CHECK(double(txt(r, 0)["kl"]["mean"]) > 1.3 * double(txt(r - 1, 0)["kl"]["mean"]));
    CHECK(double(df(r)["alignment_mean"]) < double(df(r - 1)["alignment_mean"]) - 0.05);
    CHECK(double(df(r)["sqnr_median_db"]) < double(df(r - 1)["sqnr_median_db"]) - 1.0);
    // The gap is the fixed quantized PPL over this row's float PPL.
    const double fl = rows[r]["text"]["float_median_ppl"];
    CHECK(double(txt(r, 0)["gap_pct"]) == Approx(100.0 * (double(txt(0, 0)["median_ppl"]) / fl - 1.0)).epsilon(1e-12));
    // 8 bits: the 4-bit cells mean nothing to its grid; the 8-bit model follows the float one.
    CHECK(std::fabs(double(txt(r, 1)["gap_pct"])) < 1.0);
  }
  CHECK(j["verdict"]["divergence"] == false);
}
