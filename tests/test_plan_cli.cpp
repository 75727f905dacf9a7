// End-to-end: `squint plan` / `squint curve` on the shared stories260K checkpoint.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "file_source.h"
#include "plan/plan.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;

namespace {


}  // namespace

// stories260K's down_proj (input dimension 172) fits no group size and stays in F16, and its 64-wide
// tensors carry a large scale overhead: its smallest safe size is about 6.1 bpw, so plans use --bpw 7.
TEST_CASE("plan --bpw 7 on stories260K writes a valid plan within budget", "[plan][cli]") {
  TempDir d;
  const std::string ana = d.str("analysis.json");
  std::string out;
  REQUIRE(run(cli() + " analyze " + stories() + " -q -o " + ana, &out) == 0);

  const std::string pj = d.str("plan.json");
  REQUIRE(run(cli() + " plan " + ana + " --bpw 7 -o " + pj, &out) == 0);
  CHECK(out.find("gap") != std::string::npos);
  const std::string text = read_text_file(pj);
  Plan p = parse_plan(text, pj);
  CHECK(p.solver == "exact");
  CHECK(p.budget_bytes > 0);
  CHECK(p.total_bytes <= p.budget_bytes);
  CHECK(p.gap == 0);
  CHECK(p.bound <= p.objective + 1e-12);
  uint64_t sum = 0, params = 0;
  for (const auto& t : p.tensors) {
    sum += t.bytes;
    params += t.params;
    if (!t.keep()) CHECK(t.sqnr_db >= 9.0);
  }
  CHECK(sum == p.total_bytes);
  CHECK(params == p.total_params);
  // The budget is bpw × params / 8 bytes.
  CHECK(p.budget_bytes == static_cast<uint64_t>(7.0 * static_cast<double>(p.total_params) / 8.0));
  // Serialising the parsed plan gives back the same bytes (the writer is canonical).
  CHECK(serialize_plan(p) == text);

  // Planning from the checkpoint (analysis runs first) gives the identical plan.json.
  const std::string pj2 = d.str("plan2.json");
  REQUIRE(run(cli() + " plan " + stories() + " -q --bpw 7 -o " + pj2, &out) == 0);
  CHECK(read_text_file(pj2) == text);

  // The greedy baseline is never better than the exact solver.
  const std::string pg = d.str("greedy.json");
  REQUIRE(run(cli() + " plan " + ana + " -q --bpw 7 --solver greedy -o " + pg, &out) == 0);
  Plan g = parse_plan(read_text_file(pg), pg);
  CHECK(g.total_bytes <= g.budget_bytes);
  CHECK(p.objective <= g.objective + 1e-12);
}

TEST_CASE("plan with an impossible budget exits 2 naming the smallest safe size", "[plan][cli]") {
  TempDir d;
  const std::string pj = d.str("plan.json");
  std::string out;
  CHECK(run(cli() + " plan " + stories() + " --budget 1KB -o " + pj, &out) == 2);
  CHECK(out.find("squint: error:") != std::string::npos);
  CHECK(out.find("KB") != std::string::npos);
  CHECK(out.find("smallest") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(pj));

  // Given in bpw, the error answers in bpw (the smallest safe size, above the 4 bpw asked for).
  CHECK(run(cli() + " plan " + stories() + " --bpw 4", &out) == 2);
  CHECK(out.find("4.0000 bpw") != std::string::npos);
  CHECK(out.find("smallest safe size 6.") != std::string::npos);
}

TEST_CASE("curve on stories260K: losses fall as the budget grows", "[plan][cli]") {
  TempDir d;
  const std::string ana = d.str("analysis.json");
  std::string out;
  REQUIRE(run(cli() + " analyze " + stories() + " -q -o " + ana, &out) == 0);
  const std::string cj = d.str("curve.json");
  REQUIRE(run(cli() + " curve " + ana + " --points 6 --calibrate 400KB:10.5 --json " + cj,
              &out) == 0);
  auto j = nlohmann::json::parse(read_text_file(cj));
  REQUIRE(j.contains("points"));
  const auto& pts = j["points"];
  REQUIRE(pts.size() >= 2);
  for (std::size_t i = 1; i < pts.size(); ++i)
    CHECK(pts[i]["loss"].get<double>() <= pts[i - 1]["loss"].get<double>() + 1e-12);
  for (const auto& pt : pts) CHECK(pt["bound"].get<double>() <= pt["loss"].get<double>() + 1e-12);
}
