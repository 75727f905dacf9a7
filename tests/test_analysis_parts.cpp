// `squint analyze --part K/N`, `--merge` and `--resume` through the CLI: a split analysis merges into the
// bytes of one run, the merge refuses what is not one split, and a run killed with SIGKILL (at a chosen
// tensor, or from outside at whatever moment) resumes to the bytes of an uninterrupted run.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "file_source.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;
namespace fs = std::filesystem;

namespace {

std::string analyze(const std::string& args, int want = 0) {
  std::string out;
  INFO(args);
  REQUIRE(run(cli() + " -q analyze " + args, &out) == want);
  return out;
}

// Runs the parts of a split into n, then merges them listed last to first; returns the merged bytes.
std::string split_and_merge(const TempDir& d, const std::string& model, const std::string& opts, int n) {
  std::string parts;
  for (int k = 1; k <= n; ++k) {
    const std::string p = d.str("part-" + std::to_string(k) + "-of-" + std::to_string(n) + ".json");
    analyze(model + " " + opts + " --part " + std::to_string(k) + "/" + std::to_string(n) + " -o " + p);
    CHECK_FALSE(fs::exists(p + ".journal"));
    parts = p + " " + parts;
  }
  analyze("--merge " + parts + "-o " + d.str("merged.json"));
  return read_text_file(d.str("merged.json"));
}

int file_lines(const std::string& path) {
  const std::string s = read_text_file(path);
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}
}  // namespace

TEST_CASE("analyze --part K/N then --merge: the bytes of one run (N = 1, 2, 3, 7, parts in any order)",
          "[parts][cli]") {
  TempDir d;
  REQUIRE(run(cli() + " -q synth " + d.str("moe") + " --preset moe") == 0);
  struct Case {
    std::string model, opts;
  };
  for (const Case& c : {Case{stories(), ""}, Case{d.str("moe"), "--format gguf"}}) {
    analyze(c.model + " " + c.opts + " -o " + d.str("single.json"));
    const std::string ref = read_text_file(d.str("single.json"));
    CHECK_FALSE(fs::exists(d.str("single.json.journal")));  // removed once OUT is written
    for (int n : {1, 2, 3, 7}) {
      INFO(c.model << " " << c.opts << " N=" << n);
      CHECK(split_and_merge(d, c.model, c.opts, n) == ref);
    }
  }
  // --json prints the part document; the summary names the part.
  std::string out;
  REQUIRE(run(cli() + " analyze " + stories() + " --part 2/3 --json", &out) == 0);
  CHECK_THAT(out, Catch::Contains("\"format\": \"squint.analysis_part\"") && Catch::Contains("part 2/3: analysed"));
}

TEST_CASE("analyze --merge refuses other models, options, builds, splits, missing and repeated parts", "[parts][cli]") {
  TempDir d;
  const std::string m = d.str("m");
  REQUIRE(run(cli() + " -q synth " + m + " --preset tiny --seed 1") == 0);
  REQUIRE(run(cli() + " -q synth " + d.str("m2") + " --preset tiny --seed 2") == 0);  // same names, other weights
  for (int k = 1; k <= 3; ++k) {
    const std::string K = std::to_string(k);
    analyze(m + " --part " + K + "/3 -o " + d.str("p" + K + ".json"));
    analyze(d.str("m2") + " --part " + K + "/3 -o " + d.str("seed" + K + ".json"));
    analyze(stories() + " --part " + K + "/3 -o " + d.str("stories" + K + ".json"));
    analyze(m + " --bits 4 --part " + K + "/3 -o " + d.str("bits" + K + ".json"));
    analyze(m + " --part " + K + "/4 -o " + d.str("four" + K + ".json"));
  }
  std::string v = read_text_file(d.str("p2.json"));
  v.replace(v.find("\"squint\": \"") + 11, 0, "9.9-");
  write_text(d.str("version2.json"), v);
  fs::copy_file(d.str("p2.json"), d.str("copy2.json"));
  analyze("--merge " + d.str("p3.json") + " " + d.str("p1.json") + " " + d.str("p2.json") + " -o " + d.str("ok.json"));

  struct Refusal {
    std::string files, says;
  };
  const std::string p1 = d.str("p1.json"), p2 = d.str("p2.json"), p3 = d.str("p3.json");
  for (const Refusal& r : {
           Refusal{p1 + " " + d.str("stories2.json") + " " + p3, "stories2.json: from another model (fingerprint"},
           Refusal{p1 + " " + d.str("seed2.json") + " " + p3, "seed2.json: from another model (same tensor names"},
           Refusal{p1 + " " + d.str("bits2.json") + " " + p3, "bits2.json: made with other options"},
           Refusal{p1 + " " + d.str("version2.json") + " " + p3, "version2.json: made by squint 9.9-"},
           Refusal{p1 + " " + d.str("four2.json") + " " + p3, "four2.json: part of a split into 4"},
           Refusal{p1 + " " + p3, "part 2/3 is missing"},
           Refusal{p1 + " " + p2 + " " + p2 + " " + p3, "part 2/3 given twice"},
           Refusal{p1 + " " + p2 + " " + d.str("copy2.json") + " " + p3, "copy2.json: part 2/3 given twice"},
           Refusal{d.str("ok.json"), "ok.json: not a squint analysis part"},
       }) {
    INFO(r.files);
    std::string out;
    CHECK(run(cli() + " analyze --merge " + r.files + " -o " + d.str("merged.json"), &out) == 2);
    CHECK_THAT(out, Catch::Contains(r.says));
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(d.str("merged.json")));
  }
  // The parts carry how they were measured: measurement options do not apply to a merge.
  std::string out;
  CHECK(run(cli() + " analyze --merge " + p1 + " " + p2 + " " + p3 + " --format gguf", &out) == 2);
  CHECK_THAT(out, Catch::Contains("--format applies only when measuring a model"));
  CHECK(run(cli() + " analyze " + m + " --part 4/3", &out) == 2);
  CHECK_THAT(out, Catch::Contains("is not K/N"));
  CHECK(run(cli() + " analyze " + m + " --part 1/3 --sqnr-table", &out) == 2);
}

TEST_CASE("a run killed by SIGKILL resumes from its journal to the bytes of an uninterrupted run", "[parts][cli]") {
  TempDir d;
  analyze(stories() + " -o " + d.str("ref.json"));
  const std::string ref = read_text_file(d.str("ref.json"));
  const std::string out = d.str("a.json"), journal = out + ".journal";

  SECTION("killed after a chosen tensor, resumed; a torn last line is dropped") {
    for (int after : {1, 20, 46}) {
      INFO("killed after " << after);
      CHECK(run("SQUINT_TEST_KILL_AFTER_TENSORS=" + std::to_string(after) + " " + cli() + " -q analyze " + stories() +
                " -o " + out) == 128 + 9);
      CHECK_FALSE(fs::exists(out));
      REQUIRE(file_lines(journal) == after + 1);  // its header and one line per tensor
      if (after == 20) {                     // as if killed in the middle of writing tensor 21's line
        std::string j = read_text_file(journal);
        write_text(journal, j + j.substr(j.find('\n') + 1, 300));
      }
      std::string log;
      REQUIRE(run(cli() + " analyze " + stories() + " --resume -o " + out, &log) == 0);
      CHECK_THAT(log, Catch::Contains(std::to_string(after) + " resumed from"));
      if (after == 20) CHECK_THAT(log, Catch::Contains("dropped its last line"));
      CHECK(read_text_file(out) == ref);
      CHECK_FALSE(fs::exists(journal));
      fs::remove(out);
    }
  }
  SECTION("killed from outside at whatever moment it has reached") {
    const std::string tiny3m = shared_dir() + "/models/tinystories-3M";
    analyze(tiny3m + " --format gguf -o " + d.str("gref.json"));
    // GGUF candidates on one thread: about a second for 39 tensors, killed once two are recorded.
    const std::string script = "(" + cli() + " -q -j1 analyze " + tiny3m + " --format gguf -o " + out +
                               " & p=$!; while [ \"$(cat " + journal +
                               " 2>/dev/null | wc -l)\" -lt 3 ]; do kill -0 $p || break;"
                               " sleep 0.002; done; kill -9 $p; wait $p; echo rc=$?)";
    std::string log;
    run(script, &log);
    REQUIRE_THAT(log, Catch::Contains("rc=137"));
    CHECK_FALSE(fs::exists(out));
    CHECK(file_lines(journal) >= 3);
    REQUIRE(run(cli() + " -q analyze " + tiny3m + " --format gguf --resume -o " + out) == 0);
    CHECK(read_text_file(out) == read_text_file(d.str("gref.json")));
  }
  SECTION("a part killed and resumed merges with the others into the single run") {
    const std::string p2 = d.str("p2.json");
    CHECK(run("SQUINT_TEST_KILL_AFTER_TENSORS=5 " + cli() + " -q analyze " + stories() + " --part 2/3 -o " + p2) ==
          137);
    analyze(stories() + " --part 2/3 --resume -o " + p2);
    analyze(stories() + " --part 1/3 -o " + d.str("p1.json"));
    analyze(stories() + " --part 3/3 -o " + d.str("p3.json"));
    analyze("--merge " + d.str("p1.json") + " " + p2 + " " + d.str("p3.json") + " -o " + out);
    CHECK(read_text_file(out) == ref);
  }
  SECTION("a journal of another run is refused with --resume and replaced without") {
    CHECK(run("SQUINT_TEST_KILL_AFTER_TENSORS=5 " + cli() + " -q analyze " + stories() + " --bits 4 -o " + out) == 137);
    const std::string before = read_text_file(journal);
    std::string log;
    CHECK(run(cli() + " analyze " + stories() + " --resume -o " + out, &log) == 2);
    CHECK_THAT(log, Catch::Contains(journal + ": made with other options"));
    CHECK(read_text_file(journal) == before);  // left as it was
    CHECK_FALSE(fs::exists(out));
    REQUIRE(run(cli() + " analyze " + stories() + " -o " + out, &log) == 0);
    CHECK_THAT(log, Catch::Contains("replacing the journal of an interrupted run"));
    CHECK(read_text_file(out) == ref);
    CHECK_FALSE(fs::exists(journal));
    CHECK(run(cli() + " analyze " + stories() + " --resume", &log) == 2);
    CHECK_THAT(log, Catch::Contains("--resume: needs -o OUT"));
  }
}
