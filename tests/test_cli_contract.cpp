// The CLI output contract (README "Output contract", native/output.h): --json = JSON on stdout, -o FILE = the
// same document in a file, diagnostics and "wrote" on stderr, format/version in every document, no timings.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "file_source.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;

namespace {


// stdout only (stderr dropped) and stderr only.
// (run() appends 2>&1 to the whole command, hence the groups.)
int run_stdout(const std::string& cmd, std::string* out) { return run("{ " + cmd + " 2>/dev/null; }", out); }
int run_stderr(const std::string& cmd, std::string* err) { return run("{ " + cmd + " 2>&1 >/dev/null; }", err); }

void check_document(const std::string& text, const std::string& format) {
  auto j = nlohmann::json::parse(text);
  CHECK(j["format"] == format);
  CHECK(j["version"].is_number_integer());
}

}  // namespace

TEST_CASE("bare squint lists the verbs (exit 2), --version names the build", "[cli]") {
  std::string out;
  CHECK(run(cli(), &out) == 2);
  for (const char* v : {"synth", "inspect", "analyze", "plan", "curve", "quantize", "gate", "dequantize", "eval",
                        "generate", "compare"})
    CHECK_THAT(out, Catch::Contains(std::string("\n  ") + v + " "));
  REQUIRE(run_stdout(cli() + " --version", &out) == 0);
  CHECK_THAT(out, Catch::StartsWith("squint "));
  CHECK_THAT(out, Catch::Contains("kernel AVX2") || Catch::Contains("kernel scalar"));
  for (const char* v : {"synth", "inspect", "analyze", "plan", "curve", "quantize", "gate", "dequantize", "eval",
                        "generate", "compare"})
    CHECK(run(cli() + " " + v + " --help", &out) == 0);
}

TEST_CASE("the JSON document: --json on stdout, -o FILE the same bytes, wrote on stderr", "[cli]") {
  TempDir d;
  std::string out, err;
  // inspect
  REQUIRE(run_stdout(cli() + " inspect " + stories() + " --json", &out) == 0);
  check_document(out, "squint.inspect");
  REQUIRE(run_stdout(cli() + " inspect " + stories() + " -o " + d.str("i.json"), &err) == 0);
  CHECK(read_text_file(d.str("i.json")) == out);
  // analyze -> plan: stdout carries only the document, stderr the "wrote" line and the timing
  REQUIRE(run_stdout(cli() + " analyze " + stories() + " --json -o " + d.str("a.json"), &out) == 0);
  CHECK(read_text_file(d.str("a.json")) == out);
  check_document(out, "squint.analysis");
  REQUIRE(run_stderr(cli() + " plan " + d.str("a.json") + " --bpw 7 -o " + d.str("p.json"), &err) == 0);
  CHECK_THAT(err, Catch::Contains("wrote " + d.str("p.json")));
  CHECK_THAT(err, Catch::Contains("solved"));
  REQUIRE(run_stdout(cli() + " plan " + d.str("a.json") + " --bpw 7 --json", &out) == 0);
  CHECK(out == read_text_file(d.str("p.json")));
  CHECK(out.find("wrote") == std::string::npos);
  // the SQNR table as a document
  REQUIRE(run_stdout(cli() + " analyze " + stories() + " --sqnr-table-json", &out) == 0);
  check_document(out, "squint.sqnr_table");
  // gate and curve: --json on stdout
  REQUIRE(run_stdout(cli() + " gate " + stories() + " --plan " + d.str("p.json") + " --json", &out) == 0);
  check_document(out, "squint.gate");
  REQUIRE(run_stdout(cli() + " curve " + d.str("a.json") + " --points 3 --json", &out) == 0);
  check_document(out, "squint.curve");
}

TEST_CASE("the old `--json FILE` of gate/curve/eval still writes FILE, with a deprecation note", "[cli]") {
  TempDir d;
  std::string out, err;
  REQUIRE(run(cli() + " -q plan " + stories() + " --bpw 7 -o " + d.str("p.json"), &out) == 0);
  REQUIRE(run_stderr(cli() + " gate " + stories() + " --plan " + d.str("p.json") + " --json " + d.str("g.json"), &err) == 0);
  CHECK_THAT(err, Catch::Contains("deprecated"));
  check_document(read_text_file(d.str("g.json")), "squint.gate");
  REQUIRE(run(cli() + " -q curve " + stories() + " --points 2 --json=" + d.str("c.json"), &out) == 0);
  check_document(read_text_file(d.str("c.json")), "squint.curve");
  // -q silences the note too
  CHECK(out.find("deprecated") == std::string::npos);
}

TEST_CASE("eval document has no timings, two runs are byte-identical", "[cli][eval]") {
  TempDir d;
  const std::string text = d.str("t.txt");
  write_text(text, "Once upon a time, there was a little girl named Lily.\n\nShe loved to play outside in the park. "
                   "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n");
  std::string a, b, err;
  REQUIRE(run_stdout(cli() + " eval " + stories() + " --text " + text + " --seq-len 16 --json", &a) == 0);
  REQUIRE(run_stdout(cli() + " -j 1 eval " + stories() + " --text " + text + " --seq-len 16 --json", &b) == 0);
  check_document(a, "squint.eval");
  CHECK(a == b);
  CHECK(a.find("per_second") == std::string::npos);
  REQUIRE(run_stderr(cli() + " eval " + stories() + " --text " + text + " --seq-len 16 -o " + d.str("e.json"), &err) == 0);
  CHECK_THAT(err, Catch::Contains("tokens/s"));
  CHECK(read_text_file(d.str("e.json")) == a);
}

TEST_CASE("sweep and drift: --json on stdout, -o FILE the same bytes (both flags: both), table only for people",
          "[cli][sweep][drift]") {
  TempDir d;
  const std::string s = stories();
  const std::string sweep = cli() + " sweep " + s + " --text " + s + "/REFERENCE.txt" +
                            " --seq-len 32 --samples 2 --noise-seeds 1 --min-bpw 6.5 --max-bpw 7";
  const std::string drift = cli() + " drift " + s + " " + s + " --keep-order --configs 4/32";
  for (const auto& [cmd, format] : {std::pair{sweep, "squint.sweep"}, std::pair{drift, "squint.drift"}}) {
    INFO(cmd);
    std::string js, both, table, err;
    REQUIRE(run_stdout(cmd + " --json", &js) == 0);
    check_document(js, format);
    CHECK(js.find("wrote") == std::string::npos);
    CHECK(js.find("\n  \"format\"") != std::string::npos);  // json_document(): 2-space indent like every verb
    // -o and --json together: the document on stdout and in the file; "wrote" on stderr only.
    REQUIRE(run_stdout(cmd + " --json -o " + d.str("b.json"), &both) == 0);
    CHECK(both == js);
    CHECK(read_text_file(d.str("b.json")) == js);
    REQUIRE(run_stderr(cmd + " -o " + d.str("c.json"), &err) == 0);
    CHECK_THAT(err, Catch::Contains("wrote " + d.str("c.json")));
    CHECK(read_text_file(d.str("c.json")) == js);
    // Without --json stdout is the table, never JSON; threads do not change the bytes.
    REQUIRE(run_stdout(cmd + " -j 1 -o " + d.str("one.json"), &table) == 0);
    CHECK(table.find("\"format\"") == std::string::npos);
    CHECK(!table.empty());
    CHECK(read_text_file(d.str("one.json")) == js);
  }
}

TEST_CASE("quiet (-q) means the same for every verb: nothing for people, the same documents, files and exit codes",
          "[cli]") {
  TempDir d;
  const std::string s = stories(), win = " --text " + s + "/REFERENCE.txt --seq-len 32 --samples 2";
  REQUIRE(run(cli() + " -q plan " + s + " --bpw 7 -o " + d.str("p.json")) == 0);
  REQUIRE(run(cli() + " -q quantize " + s + " --plan " + d.str("p.json") + " -o " + d.str("q")) == 0);
  REQUIRE(run(cli() + " -q eval " + s + win + " -o " + d.str("e1.json")) == 0);
  REQUIRE(run(cli() + " -q eval " + d.str("q") + win + " -o " + d.str("e2.json")) == 0);
  struct Verb {
    std::string args;  // the verb and its arguments, without -q, --json or -o
    int rc = 0;
    std::string json_args;  // for --json when it differs (analyze: --sqnr-table and --json both print on stdout)
  };
  // Every verb that prints a table or summary for people on stdout (and writes a JSON document).
  const std::vector<Verb> verbs = {
      {"inspect " + s},
      {"analyze " + s + " --bits 4 --group-sizes 64 --sqnr-table", 0, "analyze " + s + " --bits 4 --group-sizes 64"},
      {"plan " + s + " --bpw 7"},
      {"curve " + s + " --points 2"},
      {"gate " + s + " " + d.str("q")},
      {"gate " + s + " " + d.str("q") + " --floor 60", 1},  // a failing gate: the exit code is the answer
      {"eval " + s + win},
      {"compare " + d.str("e1.json") + " " + d.str("e2.json")},
      {"sweep " + s + win + " --noise-seeds 1 --min-bpw 6.5 --max-bpw 7 --priors default"},  // + a deprecation note
      {"drift " + s + " " + s + " --keep-order --configs 4/32"},
  };
  int k = 0;
  for (const auto& v : verbs) {
    INFO(v.args);
    const std::string loud = d.str("loud" + std::to_string(k) + ".json"), quiet = d.str("quiet" + std::to_string(k) + ".json");
    ++k;
    std::string out, err, js;
    // Without -q: a table on stdout.
    REQUIRE(run_stdout(cli() + " " + v.args + " -o " + loud, &out) == v.rc);
    CHECK(!out.empty());
    // With -q: nothing on stdout or stderr, the same document in the file.
    REQUIRE(run_stdout(cli() + " -q " + v.args + " -o " + quiet, &out) == v.rc);
    CHECK(out.empty());
    REQUIRE(run_stderr(cli() + " -q " + v.args + " -o " + quiet, &err) == v.rc);
    CHECK(err.empty());
    CHECK(read_text_file(quiet) == read_text_file(loud));
    // -q --json: the document on stdout, unchanged.
    REQUIRE(run_stdout(cli() + " -q " + (v.json_args.empty() ? v.args : v.json_args) + " --json", &js) == v.rc);
    CHECK(js == read_text_file(loud));
  }
  // Verbs that write a folder or file: silent under -q, the same bytes.
  std::string out;
  REQUIRE(run(cli() + " convert-gguf " + d.str("q") + " -o " + d.str("q.gguf") + " --report " + d.str("r2.json"), &out) == 0);
  CHECK(!out.empty());
  const std::string gguf = read_text_file(d.str("q.gguf"));
  REQUIRE(run(cli() + " -q convert-gguf " + d.str("q") + " -f -o " + d.str("q.gguf") + " --report " + d.str("r.json"), &out) == 0);
  CHECK(out.empty());
  CHECK(read_text_file(d.str("q.gguf")) == gguf);
  CHECK(read_text_file(d.str("r.json")) == read_text_file(d.str("r2.json")));
  const std::string im = " imatrix " + s + win + " -f -o " + d.str("im.gguf") + " --report ";
  REQUIRE(run_stdout(cli() + im + d.str("ir2.json"), &out) == 0);
  CHECK(!out.empty());
  const std::string imf = read_text_file(d.str("im.gguf"));
  REQUIRE(run(cli() + " -q" + im + d.str("ir.json"), &out) == 0);
  CHECK(out.empty());
  CHECK(read_text_file(d.str("im.gguf")) == imf);
  CHECK(read_text_file(d.str("ir.json")) == read_text_file(d.str("ir2.json")));
  REQUIRE(run(cli() + " -q inspect " + d.str("q.gguf"), &out) == 0);  // a GGUF file: the same rule
  CHECK(out.empty());
  REQUIRE(run(cli() + " -q dequantize " + d.str("q") + " -o " + d.str("dq"), &out) == 0);
  CHECK(out.empty());
  REQUIRE(run(cli() + " -q synth " + d.str("syn") + " --preset tiny", &out) == 0);
  CHECK(out.empty());
  // clean: the list of removed temporaries is for people; -q removes silently.
  write_text(d.path / ".z.json.tmp-2147480000-0badf00d", "half-written");
  REQUIRE(run(cli() + " -q clean " + d.str(), &out) == 0);
  CHECK(out.empty());
  CHECK_FALSE(std::filesystem::exists(d.path / ".z.json.tmp-2147480000-0badf00d"));
  // Data a verb exists to print stays: generate's text (its table-free result) under -q.
  REQUIRE(run_stdout(cli() + " -q generate " + s + " --prompt Once -n 4", &out) == 0);
  CHECK(!out.empty());
}
