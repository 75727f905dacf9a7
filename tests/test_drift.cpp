// `squint drift` end to end: a synthetic series made with `squint synth` plus controlled drift (weights moved
// towards their 4-bit rounding boundaries by a known fraction t, which scales every unclamped element's
// alignment by exactly 1 − t), the report's contract (format/version, order by step, files, errors).
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "file_source.h"
#include "quant/affine.h"
#include "test_util.h"

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

TEST_CASE("drift: files, order and errors", "[drift]") {
  TempDir d;
  const std::string s260 = shared_dir() + "/models/stories260K";
  std::string out;
  REQUIRE(run(cli() + " -q drift " + s260 + " " + s260 + " --keep-order --configs 4/32 -o " + d.str("r.json") +
                  " --csv " + d.str("r.csv") + " --plot " + d.str("r.svg"),
              &out) == 0);
  CHECK(out.find("4/32") != std::string::npos);  // the table on stdout
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
