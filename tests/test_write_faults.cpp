// Nothing half-written, for every verb that writes: SQUINT_TEST_FAIL_WRITE=N (native/atomic_output.h) makes
// the Nth write of the run and every later one fail as on a full disk. For each verb the test finds how many
// writes a successful run makes (the smallest N that no longer fails), then checks runs failing at the
// first, second, middle and last writes (at every write when there are at most 40, and at every probe on the
// way): exit 2, "No space left on device" in the error, every output either exactly as it was before the run
// or exactly what a successful run writes (never a mix, never partial), and no temporary left in the output
// folder. A run that reached its Nth write (the hook says so on stderr) and still exited 0 swallowed a failed
// write: also an error.
#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <set>

#include "file_source.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;
namespace fs = std::filesystem;

namespace {

std::string ref_text() { return stories() + "/REFERENCE.txt"; }

struct Output {
  std::string path;
  bool dir = false;
};

// A file's bytes, or a folder's listing with every file's bytes (recursive, sorted), or "<absent>".
std::string snapshot(const Output& o) {
  if (!fs::exists(o.path)) return "<absent>";
  if (!fs::is_directory(o.path)) return "file:" + read_text_file(o.path);
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(o.path))
    names.push_back(fs::relative(e.path(), o.path).string());
  std::sort(names.begin(), names.end());
  std::string s = "dir:";
  for (const auto& n : names) {
    const fs::path p = fs::path(o.path) / n;
    s += "\n" + n + (fs::is_directory(p) ? "/" : "=" + read_text_file(p.string()));
  }
  return s;
}

// Every output exists before the run with other content: a failed run must leave it as it was.
void put_old(const std::vector<Output>& outs) {
  for (const auto& o : outs) {
    fs::remove_all(o.path);
    if (o.dir) {
      fs::create_directories(o.path);
      write_text(fs::path(o.path) / "old.txt", "old\n");
    } else {
      write_text(o.path, "old\n");
    }
  }
}

std::vector<std::string> temporaries(const std::vector<Output>& outs) {
  std::set<std::string> dirs;
  for (const auto& o : outs) dirs.insert(fs::path(o.path).parent_path().string());
  std::vector<std::string> found;
  for (const auto& d : dirs)
    for (const auto& e : fs::directory_iterator(d))
      if (e.path().filename().string().find(".tmp-") != std::string::npos) found.push_back(e.path().string());
  return found;
}

// Runs `cmd` with writes failing from the Nth on (0: no fault).
int run_failing(const std::string& cmd, long n, std::string* log) {
  return run((n > 0 ? "SQUINT_TEST_FAIL_WRITE=" + std::to_string(n) + " " : std::string()) + cmd, log);
}

// The whole check for one verb; returns the number of writes a successful run makes. A verb of up to 40
// writes is failed at every one of them; `some_error_names`: one of the failures' messages must contain it.
long check_verb(const std::string& cmd, const std::vector<Output>& outs, const std::string& some_error_names = "") {
  INFO(cmd);
  std::string log;
  put_old(outs);
  std::vector<std::string> old;
  for (const auto& o : outs) old.push_back(snapshot(o));
  REQUIRE(run_failing(cmd, 0, &log) == 0);
  std::vector<std::string> good;
  for (const auto& o : outs) good.push_back(snapshot(o));
  for (std::size_t i = 0; i < outs.size(); ++i) REQUIRE(good[i] != old[i]);

  std::string all_logs;
  auto failing_run = [&](long n) {  // true when the run with faults from n on still failed
    INFO("SQUINT_TEST_FAIL_WRITE=" << n);
    put_old(outs);
    const int rc = run_failing(cmd, n, &log);
    CHECK(temporaries(outs).empty());
    const bool injected = log.find("squint: test hook: write ") != std::string::npos;
    if (injected) CHECK(rc != 0);  // a write failed: the run must not report success
    if (rc == 0) {
      for (std::size_t i = 0; i < outs.size(); ++i) CHECK(snapshot(outs[i]) == good[i]);
      return false;
    }
    CHECK(rc == 2);
    CHECK_THAT(log, Catch::Contains("squint: error: ") && Catch::Contains("No space left on device"));
    bool some_untouched = false;
    for (std::size_t i = 0; i < outs.size(); ++i) {
      const std::string s = snapshot(outs[i]);
      CHECK((s == old[i] || s == good[i]));
      some_untouched |= s == old[i];
    }
    CHECK(some_untouched);
    all_logs += log;
    return true;
  };
  // Smallest n that succeeds: the run makes n - 1 writes.
  long hi = 1;
  while (failing_run(hi)) {
    hi *= 2;
    REQUIRE(hi < (1 << 20));
  }
  long lo = hi / 2;  // fails (or 0)
  while (hi - lo > 1) {
    const long mid = (lo + hi) / 2;
    (failing_run(mid) ? lo : hi) = mid;
  }
  const long writes = hi - 1;
  REQUIRE(writes >= 1);  // the verb writes through the hooked writers at all
  std::set<long> ns{1, 2, (writes + 1) / 2, writes - 1, writes};
  for (long n = 1; writes <= 40 && n <= writes; ++n) ns.insert(n);
  for (long n : ns)
    if (n >= 1 && n <= writes) CHECK(failing_run(n));
  if (!some_error_names.empty()) CHECK_THAT(all_logs, Catch::Contains(some_error_names));
  return writes;
}

const std::string kQuiet = " -q -j 2 ";

// Inputs the verbs read: d/p.json (a 7 bpw plan of stories260K) and d/q (that plan quantized).
void plan_and_quantize(const TempDir& d) {
  REQUIRE(run(cli() + kQuiet + "plan " + stories() + " --bpw 7 -o " + d.str("p.json")) == 0);
  REQUIRE(run(cli() + kQuiet + "quantize " + stories() + " --plan " + d.str("p.json") + " -o " + d.str("q")) == 0);
}

}  // namespace

TEST_CASE("a full disk leaves nothing half-written: files (analyze, plan, inspect, gate, curve, eval, compare, "
          "generate, tokenize)",
          "[hardening][faults][slow]") {
  TempDir d;
  const std::string q = kQuiet;
  plan_and_quantize(d);
  REQUIRE(run(cli() + q + "eval " + stories() + " --text " + ref_text() + " --seq-len 16 --samples 2 -o " + d.str("e.json")) == 0);
  const std::string f = d.str("out.json");
  check_verb(cli() + q + "analyze " + stories() + " -o " + f, {{f}});  // and its journal, f.journal
  check_verb(cli() + q + "analyze " + stories() + " --part 2/3 -o " + f, {{f}});
  std::string parts;
  for (const char* k : {"1", "2", "3"}) {
    parts += " " + d.str(std::string("part") + k + ".json");
    REQUIRE(run(cli() + q + "analyze " + stories() + " --part " + k + "/3 -o " +
                d.str(std::string("part") + k + ".json")) == 0);
  }
  check_verb(cli() + q + "analyze --merge" + parts + " -o " + f, {{f}});
  check_verb(cli() + q + "plan " + stories() + " --bpw 7 -o " + f, {{f}});
  check_verb(cli() + q + "inspect " + stories() + " -o " + f, {{f}});
  check_verb(cli() + q + "gate " + stories() + " " + d.str("q") + " --floor 0 -o " + f, {{f}});
  check_verb(cli() + q + "curve " + stories() + " --points 3 -o " + f + " --csv " + d.str("c.csv"), {{f}, {d.str("c.csv")}});
  check_verb(cli() + q + "eval " + stories() + " --text " + ref_text() + " --seq-len 16 --samples 2 -o " + f, {{f}});
  check_verb(cli() + q + "compare " + d.str("e.json") + " " + d.str("e.json") + " -o " + f, {{f}});
  check_verb(cli() + q + "generate " + stories() + " --prompt Once -n 4 -o " + f, {{f}});
  check_verb(cli() + q + "tokenize " + stories() + " --text " + ref_text() + " -o " + f, {{f}});
}

TEST_CASE("a full disk leaves nothing half-written: sweep and drift (-o, --csv, --plot)", "[hardening][faults][slow]") {
  TempDir d;
  const std::string q = kQuiet;
  const std::vector<Output> outs{{d.str("r.json")}, {d.str("r.csv")}, {d.str("r.svg")}};
  const std::string to = " -o " + outs[0].path + " --csv " + outs[1].path + " --plot " + outs[2].path;
  check_verb(cli() + q + "sweep " + stories() + " --text " + ref_text() +
                 " --seq-len 32 --samples 2 --noise-seeds 1 --min-bpw 6.5 --max-bpw 7" + to,
             outs);
  check_verb(cli() + q + "drift " + stories() + " " + stories() + " --keep-order --configs 4/32" + to, outs);
}

TEST_CASE("a full disk leaves nothing half-written: folders and GGUF (quantize, synth, dequantize, convert-gguf)",
          "[hardening][faults][slow]") {
  TempDir d;
  const std::string q = kQuiet;
  plan_and_quantize(d);
  const Output out{d.str("out"), true};
  // MLX: shards, then the index, config.json and the copied tokenizer files.
  const long w = check_verb(cli() + q + "quantize " + stories() + " --plan " + d.str("p.json") + " -o " + out.path + " --force",
                            {out});
  CHECK(w > 3);
  check_verb(cli() + q + "quantize " + stories() + " --bpw 7 --save-plan " + d.str("sp.json") + " -o " + out.path + " --force",
             {{d.str("sp.json")}, out});
  check_verb(cli() + q + "quantize " + stories() + " --format gguf --type Q8_0 -o " + d.str("m.gguf") + " --force",
             {{d.str("m.gguf")}});
  check_verb(cli() + q + "dequantize " + d.str("q") + " -o " + out.path + " --force", {out});
  check_verb(cli() + q + "convert-gguf " + d.str("q") + " -o " + d.str("c.gguf") + " --force --report " + d.str("r.json"),
             {{d.str("c.gguf")}, {d.str("r.json")}});
  check_verb(cli() + q + "imatrix " + stories() + " --text " + ref_text() + " --seq-len 16 --samples 2 -o " +
                 d.str("im.gguf") + " --force --report " + d.str("ir.json"),
             {{d.str("im.gguf")}, {d.str("ir.json")}});
  // synth writes config.json through the atomic folder writer: a full disk there is an error naming it, not
  // a truncated config.json.
  check_verb(cli() + q + "synth " + out.path + " --preset tiny --force", {out}, out.path + ": cannot write config.json");
}
