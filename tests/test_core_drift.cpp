// Drift measures against hand computations: grid alignment on hand-made rows (values chosen so every
// (w − b)/s is exact), alignment as the complement of the quantizer's own rounding error, kurtosis, step
// parsing, the phase-3 verdict on hand-made series, and the SVG writer.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "analysis/drift.h"
#include "analysis/drift_verdict.h"
#include "quant/affine.h"
#include "test_util_core.h"
#include "util/rng.h"
#include "util/svg_plot.h"

using namespace squint;

TEST_CASE("grid alignment: a hand-made 4-bit row", "[drift]") {
  // lo = 0, hi = 15 at 4 bits: |lo| < |hi| so MLX takes edge = hi, scale = −1, q0 = −15, bias = 15,
  // hence x = (w − 15)/(−1) = 15 − w.  a = |frac(x) − 0.5|:
  //   w = 0 → x 15 → a .5;  15 → 0 → .5;  7.5 → 7.5 → 0;  3.25 → 11.75 → .25;  10.125 → 4.875 → .375;
  //   2 → 13 → .5;  5.5 → 9.5 → 0;  6.53125 → 8.46875 → .03125.
  std::vector<float> row = {0.0f, 15.0f};
  for (int k = 0; k < 5; ++k)
    for (float v : {7.5f, 3.25f, 10.125f, 2.0f, 5.5f, 6.53125f}) row.push_back(v);
  REQUIRE(row.size() == 32);
  const GroupParams gp = mlx_group_params(0.0f, 15.0f, 4);
  REQUIRE(gp.scale == -1.0f);
  REQUIRE(gp.bias == 15.0f);
  GridAlignment acc;
  accumulate_grid_alignment(row.data(), 1, 32, {4, 32}, 0.05, &acc);
  // Σ a = .5 + .5 + 5·(0 + .25 + .375 + .5 + 0 + .03125) = 6.78125; a < .05: 5·3 = 15 elements.
  CHECK(acc.elements == 32);
  CHECK(acc.sum == 6.78125);
  CHECK(acc.mean() == 6.78125 / 32);
  CHECK(acc.near == 15);
  // A wider band takes in the .25 elements too (a < .3): 15 + 5.
  GridAlignment wide;
  accumulate_grid_alignment(row.data(), 1, 32, {4, 32}, 0.3, &wide);
  CHECK(wide.near == 20);
}

TEST_CASE("grid alignment: a negative-edge 3-bit row, two rows merge", "[drift]") {
  // lo = −8, hi = 4 at 3 bits: |lo| > |hi| → scale = 12/7 > 0, edge = lo, q0 = rint(−4.67) = −5,
  // scale = −8/−5 = 1.6, bias = −8, x = (w + 8)/1.6:  −8 → 0 (a .5);  4 → 7.5 (0);  0 → 5 (.5);
  //  −7.2 → .5 (0);  −4 → 2.5 (0);  −6.4 → 1 (.5);  −5.6 → 1.5 (0);  −2.4 → 3.5 (0).
  std::vector<float> row = {-8.0f, 4.0f};
  for (int k = 0; k < 5; ++k)
    for (float v : {0.0f, -7.2f, -4.0f, -6.4f, -5.6f, -2.4f}) row.push_back(v);
  const GroupParams gp = mlx_group_params(-8.0f, 4.0f, 3);
  CHECK(gp.scale == Approx(1.6f));
  CHECK(gp.bias == -8.0f);
  std::vector<float> two = row;
  two.insert(two.end(), row.begin(), row.end());
  GridAlignment acc;
  accumulate_grid_alignment(two.data(), 2, 32, {3, 32}, 0.05, &acc);
  // Per row Σ a = .5 + 0 + 5·(.5 + 0 + 0 + .5 + 0 + 0) = 5.5; near: 1 + 5·4 = 21 (1.6 is inexact in float,
  // so each a is within 1e-5 of the hand value).
  CHECK(acc.elements == 64);
  CHECK(acc.sum == Approx(11.0).margin(64 * 1e-5));
  CHECK(acc.near == 42);
}

TEST_CASE("grid alignment is the complement of the quantizer's rounding error", "[drift]") {
  // Independent path: the library quantizer (SIMD min/max, packed codes) with F32 scales, dequantized;
  // per element |w − ŵ|/|s| = 0.5 − a, so mean a = 0.5 − mean(|w − ŵ|/|s|), clamped codes included.
  SplitMix64 rng{7};
  const std::size_t rows = 16, cols = 128;
  std::vector<float> w(rows * cols);
  for (auto& x : w) x = static_cast<float>(rng.normal() * 0.02);
  for (QConfig c : {QConfig{4, 64}, QConfig{8, 64}, QConfig{2, 32}, QConfig{3, 128}}) {
    std::vector<uint8_t> packed(rows * cols * c.bits / 8);
    std::vector<float> s(rows * cols / c.group), b(s.size()), wh(w.size());
    quantize_rows(w.data(), rows, cols, c, DType::F32, packed.data(), s.data(), b.data());
    dequantize_rows(packed.data(), s.data(), b.data(), rows, cols, c, wh.data());
    double err_units = 0;
    for (std::size_t i = 0; i < w.size(); ++i) err_units += std::fabs(double(w[i]) - wh[i]) / std::fabs(double(s[i / c.group]));
    GridAlignment acc;
    accumulate_grid_alignment(w.data(), rows, cols, c, 0.05, &acc);
    INFO("config " << c.bits << "/" << c.group);
    CHECK(acc.mean() == Approx(0.5 - err_units / double(w.size())).margin(1e-6));
    // Gaussian weights are not aligned with a grid fitted to each group: about chance (0.25, 2·band = 10 %).
    CHECK(acc.mean() == Approx(0.25).margin(0.02));
    CHECK(acc.near_share() == Approx(0.10).margin(0.03));
  }
}

TEST_CASE("excess kurtosis: hand values", "[drift]") {
  // {−1, 1}: m2 = 1, m4 = 1 → 1 − 3 = −2.  {0,0,0,±2}: mean 0, m2 = 8/5 ... use {−2, 0, 0, 0, 2}:
  // m2 = 8/5, m4 = 32/5 → (32/5)/(64/25) − 3 = 2.5 − 3 = −0.5.
  const float a[] = {-1, 1, -1, 1};
  CHECK(excess_kurtosis(a, 4) == Approx(-2.0));
  const float b[] = {-2, 0, 0, 0, 2};
  CHECK(excess_kurtosis(b, 5) == Approx(-0.5));
  const float c[] = {3, 3, 3};
  CHECK(excess_kurtosis(c, 3) == 0.0);
}

TEST_CASE("step numbers from checkpoint folder names", "[drift]") {
  CHECK(step_from_path("ckpts/step-000461") == 461);
  CHECK(step_from_path("ckpts/step-000461/") == 461);
  CHECK(step_from_path("/x/run3/global_step1200") == 1200);
  CHECK(step_from_path("checkpoint-12-final") == 12);
  CHECK(step_from_path("/a/b/final") == -1);
  CHECK(step_from_path("run7/model") == -1);  // only the last component counts
  auto o = checkpoint_order({"c/step-300", "c/step-20", "c/step-1000", "c/step-20"});
  CHECK(o == std::vector<std::size_t>{1, 3, 0, 2});
  auto keep = checkpoint_order({"c/step-300", "c/final", "c/step-20"});
  CHECK(keep == std::vector<std::size_t>{0, 1, 2});
}

namespace {
std::vector<DriftPoint> series(const std::vector<double>& ppl, const std::vector<double>& gap, double se = 0) {
  std::vector<DriftPoint> r;
  for (std::size_t i = 0; i < ppl.size(); ++i) r.push_back({ppl[i], gap[i], se});
  return r;
}
}  // namespace

TEST_CASE("verdict: adaptation, plateau, divergence", "[drift]") {
  // Gap minimum 7.5 % at row 3; row 4 is within the 1 pp margin; row 5 is 2.5 pp up while float PPL 9.44 is
  // within 1 % of its best 9.45; row 6 stays up.
  auto v = drift_verdict(series({20, 12, 10, 9.5, 9.45, 9.44, 9.43}, {30, 12, 8, 7.5, 7.6, 10, 14}));
  REQUIRE(v.divergence);
  CHECK(v.at == 5);
  CHECK(v.gap_min == 3);
  CHECK(v.rise_pp == Approx(2.5));
  CHECK(v.margin_pp == Approx(1.0));
  CHECK(v.confirmed);
}

TEST_CASE("verdict: no divergence without a sustained rise, or while float PPL improves", "[drift]") {
  // Monotone improvement of both.
  auto a = drift_verdict(series({20, 12, 10, 9.5}, {30, 12, 8, 7.5}));
  CHECK_FALSE(a.divergence);
  // A spike at row 4 that falls back at row 5: noise, not divergence.
  auto b = drift_verdict(series({20, 10, 9.5, 9.5, 9.5, 9.5}, {30, 8, 7.5, 7.6, 12, 7.8}));
  CHECK_FALSE(b.divergence);
  // The gap grows but float PPL is still improving fast (not phase 3).
  auto c = drift_verdict(series({20, 15, 10, 7, 5}, {10, 5, 8, 12, 15}));
  CHECK_FALSE(c.divergence);
  CHECK(c.reason.find("still improving") != std::string::npos);
  // The same rise as in the divergence case, but each gap has a 2 pp standard error: margin 2·√8 = 5.66 pp.
  auto d = drift_verdict(series({20, 12, 10, 9.5, 9.45, 9.44, 9.43}, {30, 12, 8, 7.5, 7.6, 10, 12}, 2.0));
  CHECK_FALSE(d.divergence);
  // A relative margin: a 30 % gap must rise by 3 pp, not 1.
  auto e = drift_verdict(series({9, 9, 9, 9}, {30, 30, 32, 32.5}));
  CHECK_FALSE(e.divergence);
  auto f = drift_verdict(series({9, 9, 9, 9}, {30, 30, 33.5, 34}));
  REQUIRE(f.divergence);
  CHECK(f.at == 2);
  CHECK(f.gap_min == 0);
  // Detected at the last row: reported, marked unconfirmed.
  auto g = drift_verdict(series({9, 9, 9}, {5, 5, 9}));
  REQUIRE(g.divergence);
  CHECK_FALSE(g.confirmed);
  CHECK_FALSE(drift_verdict(series({9}, {5})).divergence);
}

TEST_CASE("median gap and its bootstrap error", "[drift]") {
  std::vector<WindowResult> base, q, same;
  for (std::size_t i = 0; i < 9; ++i) {
    base.push_back({i, std::log(10.0 + double(i)), 10});
    q.push_back({i, std::log(1.1 * (10.0 + double(i))), 10});
  }
  // Every window 10 % worse: the median ratio is exactly 1.1 and every resample gives the same gap.
  auto e = median_gap(base, q, 100, 1);
  CHECK(e.gap_pct == Approx(10.0));
  CHECK(e.se_pct == Approx(0.0).margin(1e-9));
  // Mixed changes give a positive spread; seeded, so reproducible.
  std::vector<WindowResult> m = base;
  for (std::size_t i = 0; i < m.size(); ++i) m[i].nll += (i % 2 ? 0.2 : -0.05);
  auto e1 = median_gap(base, m, 200, 3), e2 = median_gap(base, m, 200, 3);
  CHECK(e1.se_pct > 0.5);
  CHECK(e1.se_pct == e2.se_pct);
  std::vector<WindowResult> shifted = q;
  shifted[0].index = 99;
  CHECK_THROWS(median_gap(base, shifted));
}

TEST_CASE("svg plot: ticks, axes, series, marks", "[drift]") {
  CHECK(nice_ticks(0, 10, 5) == std::vector<double>{0, 2, 4, 6, 8, 10});
  const auto t = nice_ticks(0.13, 0.61, 5);
  REQUIRE(t.size() == 5);
  for (std::size_t i = 0; i < t.size(); ++i) CHECK(t[i] == Approx(0.2 + 0.1 * double(i)));
  LinePlot p;
  p.title = "gap <&> ppl";
  p.log_x = true;
  p.y_label = "gap %";
  p.y2_label = "PPL";
  p.series.push_back({"gap 4/64", {100, 1000}, {5, 9}, false, "", false});
  p.series.push_back({"PPL", {100, 1000}, {12, NAN}, true, "", true});
  p.marks.push_back({500, "phase 3"});
  const std::string s = render_line_plot_svg(p);
  CHECK(s.rfind("<svg ", 0) == 0);
  CHECK(s.find("</svg>") != std::string::npos);
  CHECK(s.find("gap &lt;&amp;&gt; ppl") != std::string::npos);  // escaped
  CHECK(s.find("phase 3") != std::string::npos);
  CHECK(s.find("(right axis)") != std::string::npos);
  // Log axis ticks at 1, 2, 5 × 10^k inside the range.
  CHECK(s.find(">200<") != std::string::npos);
  CHECK(s.find(">500<") != std::string::npos);
  // Two points of the first series, one of the second (NaN skipped).
  std::size_t circles = 0;
  for (std::size_t k = s.find("<circle"); k != std::string::npos; k = s.find("<circle", k + 1)) ++circles;
  CHECK(circles == 3);
}

TEST_CASE("svg plot: log y axis in decades, marker-only series with labels", "[drift]") {
  LinePlot p;
  p.log_y = true;
  PlotSeries curve;
  curve.label = "squint";
  curve.x = {3, 4, 5};
  curve.y = {0.2, 0.02, 0.0015};
  PlotSeries pts;
  pts.label = "uniform";
  pts.points_only = true;
  pts.x = {4, 6};
  pts.y = {0.05, 0};  // y <= 0 has no place on a log axis: skipped
  pts.labels = {"4/64", "8/64"};
  p.series = {curve, pts};
  const std::string s = render_line_plot_svg(p);
  // Whole decades covering 1.5e-3 .. 0.2.
  for (const char* t : {">1e-3<", ">1e-2<", ">1e-1<", ">1e0<"}) CHECK(s.find(t) != std::string::npos);
  CHECK(s.find(">1e-4<") == std::string::npos);
  CHECK(s.find(">4/64<") != std::string::npos);
  CHECK(s.find(">8/64<") == std::string::npos);
  std::size_t paths = 0;
  for (std::size_t k = s.find("<path"); k != std::string::npos; k = s.find("<path", k + 1)) ++paths;
  CHECK(paths == 1);  // the curve's line only
}
