// No loss: a conversion killed at any moment leaves no OUT or a complete one; inputs are never modified.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "test_util.h"

using namespace squint::test;
namespace fs = std::filesystem;

namespace {
std::string fingerprint_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  struct stat st;
  stat(p.c_str(), &st);
  return std::to_string(h) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

pid_t spawn(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}
}  // namespace

TEST_CASE("SIGKILL during quantize leaves no OUT or a complete model", "[hardening][slow]") {
  TempDir d;
  // One Llama-3-8B layer takes about a second to quantize in a release build, so the kills below land mid-write;
  // under ASan a 16x smaller layer takes as long (the full one made this test 6 of CI's 30 minutes).
#ifdef SQUINT_SANITIZED
  const std::string shape = " --hidden 1024 --intermediate 3584 --heads 8 --kv-heads 2";
#else
  const std::string shape;
#endif
  REQUIRE(run(cli() + " -q synth " + d.str("m") + " --preset llama3-8b --layers 1 --vocab 1024" + shape) == 0);
  REQUIRE(run(cli() + " -q analyze " + d.str("m") + " --bits 4 --group-sizes 64 -o " + d.str("a.json")) == 0);
  REQUIRE(run(cli() + " -q plan " + d.str("a.json") + " --min-safe -o " + d.str("p.json")) == 0);
  const std::string before = fingerprint_file(d.path / "m" / "model.safetensors");
  int complete = 0, absent = 0;
  // Kills at several moments, then one run left to finish (whatever the build's speed, e.g. under ASan).
  for (int delay_ms : {30, 120, 250, 400, 700, 1200, -1}) {
    const fs::path out = d.path / ("out" + std::to_string(delay_ms < 0 ? 99999 : delay_ms));
    pid_t pid = spawn({cli(), "-q", "-j", "1", "quantize", d.str("m"), "--plan", d.str("p.json"), "-o", out.string()});
    if (delay_ms >= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      kill(pid, SIGKILL);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (delay_ms < 0) CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0));
    INFO("killed after " << delay_ms << " ms");
    if (fs::exists(out)) {
      ++complete;
      std::string msg;
      CHECK(run(cli() + " -q gate " + d.str("m") + " " + out.string(), &msg) == 0);
    } else {
      ++absent;
    }
    // Whatever is left is under a hidden temporary name, never something that looks like the output.
    for (const auto& e : fs::directory_iterator(d.path)) {
      const std::string n = e.path().filename().string();
      if (n.rfind(".out", 0) == 0) CHECK(n.find(".tmp-") != std::string::npos);
    }
  }
  CHECK(absent >= 1);    // the early kills land mid-write
  CHECK(complete >= 1);  // the last one runs to the end
  CHECK(fingerprint_file(d.path / "m" / "model.safetensors") == before);
}

TEST_CASE("inputs keep their bytes and mtimes through analyze, plan, quantize, gate, dequantize, eval", "[hardening]") {
  TempDir d;
  const std::string src = shared_dir() + "/models/stories260K";
  fs::copy(src, d.path / "m", fs::copy_options::recursive);
  for (const auto& e : fs::directory_iterator(d.path / "m"))
    if (e.is_regular_file()) fs::permissions(e.path(), fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  std::map<std::string, std::string> before;
  for (const auto& e : fs::directory_iterator(d.path / "m"))
    if (e.is_regular_file()) before[e.path().filename()] = fingerprint_file(e.path());
  const std::string m = d.str("m");
  REQUIRE(run(cli() + " -q analyze " + m + " -o " + d.str("a.json")) == 0);
  REQUIRE(run(cli() + " -q plan " + m + " --bpw 7 -o " + d.str("p.json")) == 0);
  REQUIRE(run(cli() + " -q quantize " + m + " --plan " + d.str("p.json") + " -o " + d.str("q")) == 0);
  REQUIRE(run(cli() + " -q gate " + m + " " + d.str("q")) == 0);
  REQUIRE(run(cli() + " -q dequantize " + d.str("q") + " -o " + d.str("dq")) == 0);
  write_text(d.path / "t.txt", "Once upon a time there was a cat.\n\nThe cat sat on a mat and was happy.\n");
  REQUIRE(run(cli() + " -q eval " + m + " --text " + d.str("t.txt") + " --seq-len 8") == 0);
  for (const auto& [name, fp] : before) CHECK(fingerprint_file(d.path / "m" / name) == fp);
  // And an existing OUT is refused without --force.
  std::string out;
  CHECK(run(cli() + " -q quantize " + m + " --plan " + d.str("p.json") + " -o " + d.str("q"), &out) == 2);
  CHECK_THAT(out, Catch::Contains("--force"));
}
