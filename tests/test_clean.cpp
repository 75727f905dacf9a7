// Temporaries of killed runs (".NAME.tmp-PID-*") are removed by the next run for that target and by
// `squint clean DIR`; those of live runs are left alone.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "test_util.h"

using namespace squint::test;
namespace fs = std::filesystem;

namespace {
// A pid that certainly ran and has exited (reaped), so no process holds it right now.
long dead_pid() {
  pid_t p = fork();
  if (p == 0) _exit(0);
  int st = 0;
  waitpid(p, &st, 0);
  return static_cast<long>(p);
}
}  // namespace

TEST_CASE("stale temporaries of killed runs are removed by the next run and by squint clean", "[hardening]") {
  TempDir d;
  const std::string m = shared_dir() + "/models/stories260K";
  REQUIRE(run(cli() + " -q plan " + m + " --bpw 7 -o " + d.str("p.json")) == 0);
  const fs::path stale_q = d.path / (".q.tmp-" + std::to_string(dead_pid()) + "-0badf00d");
  const fs::path stale_x = d.path / (".x.json.tmp-" + std::to_string(dead_pid()) + "-0badf00d");
  const fs::path live = d.path / (".y.tmp-" + std::to_string(static_cast<long>(getpid())) + "-0badf00d");
  for (const auto& p : {stale_q, live}) {
    fs::create_directory(p);
    write_text(p / "model.safetensors", "half-written");
  }
  write_text(stale_x, "{\"half\":");
  // The next quantize into q removes q's stale temporary, and only that one.
  REQUIRE(run(cli() + " -q quantize " + m + " --plan " + d.str("p.json") + " -o " + d.str("q")) == 0);
  CHECK_FALSE(fs::exists(stale_q));
  CHECK(fs::exists(stale_x));
  CHECK(fs::exists(live));
  // clean removes every stale one, keeps the live run's, and leaves real outputs alone.
  std::string out;
  REQUIRE(run(cli() + " clean " + d.str(), &out) == 0);
  CHECK_THAT(out, Catch::Contains("removed " + stale_x.string()));
  CHECK_FALSE(fs::exists(stale_x));
  CHECK(fs::exists(live));
  CHECK(fs::exists(d.path / "q" / "config.json"));
  CHECK(fs::exists(d.path / "p.json"));
  CHECK(run(cli() + " clean " + d.str("p.json"), &out) == 2);
}
