// tokenizer.json components against small vectors worked out by hand from the library's rules.
#include <catch2/catch.hpp>

#include "text/hf_tokenizer.h"
#include "text/pipeline.h"
#include "text/regex.h"
#include "util/error.h"

using namespace squint;
using namespace squint::text;

namespace {
// Byte-level (GPT-2 style): space is byte 0x20 -> U+0120 "Ġ", newline 0x0A -> U+010A "Ċ".
const char* kByteLevel = R"({
  "added_tokens": [{"id": 100, "content": "<|begin_of_text|>", "special": true}],
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
  "decoder": {"type": "ByteLevel"},
  "model": {"type": "BPE",
    "vocab": {"h": 0, "e": 1, "l": 2, "o": 3, "Ġ": 4, "w": 5, "r": 6, "d": 7, "he": 8, "ll": 9, "llo": 10,
              "hello": 11, "Ġw": 12, "Ġwo": 13, "Ċ": 14, "!": 15, "1": 16, "2": 17, "12": 18, "Ġ1": 19},
    "merges": ["h e", "l l", "ll o", "he llo", "Ġ w", "Ġw o", "1 2"]}
})";
// SentencePiece-style BPE with byte fallback (Llama 2 style): spaces are "▁", a leading "▁" is added.
const char* kSpBpe = R"({
  "added_tokens": [{"id": 1, "content": "<s>", "special": true}],
  "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                     {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
  "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
      {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
  "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
    "vocab": {"<unk>": 0, "<s>": 1, "▁": 2, "h": 3, "i": 4, "▁h": 5, "▁hi": 6, "<0x21>": 7, "<0xC3>": 8, "<0xA9>": 9},
    "merges": [["▁", "h"], ["▁h", "i"]]}
})";
}  // namespace

TEST_CASE("byte-level BPE: byte map, pre-tokenizer split, merges by rank, specials", "[tokenizer]") {
  CHECK(byte_to_unicode(' ') == "\xC4\xA0");   // U+0120
  CHECK(byte_to_unicode('\n') == "\xC4\x8A");  // U+010A
  CHECK(byte_to_unicode('A') == "A");
  auto t = HfTokenizer::from_json(kByteLevel, R"({"bos_token": "<|begin_of_text|>", "add_bos_token": true})", "t.json");
  // "hello world" -> pieces "hello", " world"; "hello": h e l l o -> (l l) -> (ll o) -> (h e) -> (he llo) = 11;
  // " world" -> Ġ w o r l d -> (Ġ w) -> (Ġw o): Ġwo r l d = 13 6 2 7.
  CHECK(t->encode("hello world") == std::vector<int>{11, 13, 6, 2, 7});
  // "a\nb"-like: "hello\nw!" -> "hello", "\n", "w", "!" (the newline is its own whitespace piece).
  CHECK(t->encode("hello\nw!") == std::vector<int>{11, 14, 5, 15});
  // Digits group as one piece with an optional leading space: " 12" -> Ġ 1 2 -> (1 2) -> Ġ 12; "Ġ12" is not
  // in the vocab as one token, so Ġ and 12 remain: 4 18.
  CHECK(t->encode("hello 12") == std::vector<int>{11, 4, 18});
  CHECK(t->encode("<|begin_of_text|>hello") == std::vector<int>{100, 11});
  CHECK(t->bos_id() == 100);
  CHECK(t->add_bos);
  CHECK(t->decode({11, 13, 6, 2, 7}) == "hello world");
}

TEST_CASE("SentencePiece-style BPE: leading ▁, merges, byte fallback", "[tokenizer]") {
  auto t = HfTokenizer::from_json(kSpBpe, R"({"bos_token": "<s>", "add_bos_token": true})", "t.json");
  // "hi!" -> "▁hi!" -> ▁ h i ! -> (▁ h) -> (▁h i) -> ▁hi, "!" is not in the vocab -> <0x21> = 7.
  CHECK(t->encode("hi!") == std::vector<int>{6, 7});
  // "é" is U+00E9 = bytes C3 A9 -> <0xC3> <0xA9>; the leading "▁" alone is token 2.
  CHECK(t->encode("é") == std::vector<int>{2, 8, 9});
  CHECK(t->bos_id() == 1);
  CHECK(t->decode({6, 7}) == "hi!");
  CHECK(t->decode({2, 8, 9}) == "é");
}

TEST_CASE("a long word is cut only where no merge can cross: the ids of merging it whole", "[tokenizer]") {
  // No pre-tokenizer: the whole text is one word (as Llama 2 / Gemma 3 files make of wikitext). Words over
  // 256 bytes are cut before "▁" unless the character before it and "▁" occur together in a merge result:
  // "a▁" and "▁▁" are merge results, so only the "▁" after "b" is a cut point.
  auto t = HfTokenizer::from_json(R"({"added_tokens": [], "model": {"type": "BPE",
      "vocab": {"▁": 0, "a": 1, "b": 2, "a▁": 3, "▁b": 4, "▁▁": 5}, "merges": ["a ▁", "▁ ▁", "▁ b"]}})",
                                  "{}", "t.json");
  // "a▁b▁▁b": (a ▁) rank 0 -> a▁ b ▁ ▁ b; (▁ ▁) rank 1 -> a▁ b ▁▁ b; "▁▁ b" is no merge: 3 2 5 2. Cutting
  // before every "▁" would give a | ▁b | ▁ | ▁b = 1 4 0 4; cutting inside "▁▁" would give ... 4 3 2 0.
  const std::string unit = "a\u2581b\u2581\u2581b";
  CHECK(t->encode(unit) == std::vector<int>{3, 2, 5, 2});
  std::string text;
  std::vector<int> want;
  for (int i = 0; i < 60; ++i) {
    text += unit;
    want.insert(want.end(), {3, 2, 5, 2});
  }
  REQUIRE(text.size() > 256);
  CHECK(t->encode(text) == want);
}

// Every component and option, each in a small tokenizer.json, against the ids and decoded text the Hugging
// Face library gives (tests/golden/make_tokenizer_vectors.mjs; see tests/golden/README.md).
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

TEST_CASE("tokenizer.json components match the Hugging Face library's vectors", "[tokenizer]") {
  std::ifstream f(std::string(SQUINT_SOURCE_DIR) + "/tests/golden/tokenizer_vectors.json");
  REQUIRE(f);
  std::stringstream ss;
  ss << f.rdbuf();
  const auto doc = nlohmann::json::parse(ss.str());
  REQUIRE(doc["vectors"].size() >= 30);
  for (const auto& v : doc["vectors"]) {
    const std::string name = v["name"];
    INFO(name);
    auto t = HfTokenizer::from_json(v["tokenizer"].dump(), "", name);
    for (const auto& c : v["cases"]) {
      const std::string text = c["text"];
      INFO(text);
      CHECK(t->encode(text) == c["ids"].get<std::vector<int>>());
      CHECK(t->encode_special(text) == c["ids_special"].get<std::vector<int>>());
      CHECK(t->decode(c["ids"].get<std::vector<int>>()) == c["decoded"].get<std::string>());
    }
  }
}

TEST_CASE("tokenizer.json: unsupported components and malformed files are one-line errors", "[tokenizer]") {
  auto err = [](const std::string& js) {
    try {
      HfTokenizer::from_json(js, "", "t.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string model = R"("model": {"type": "BPE", "vocab": {"a": 0}, "merges": []})";
  CHECK(err("{" + model + R"(, "normalizer": {"type": "Precompiled"}})") == "t.json: unsupported normalizer 'Precompiled'");
  CHECK(err("{" + model + R"(, "pre_tokenizer": {"type": "UnicodeScripts"}})") == "t.json: unsupported pre_tokenizer 'UnicodeScripts'");
  CHECK(err("{" + model + R"(, "decoder": {"type": "CTC"}})") == "t.json: unsupported decoder 'CTC'");
  CHECK(err("{" + model + R"(, "post_processor": {"type": "Foo"}})") == "t.json: unsupported post_processor 'Foo'");
  CHECK(err(R"({"model": {"type": "Unigram", "vocab": []}})") == "t.json: unsupported model 'Unigram' (only BPE)");
  CHECK(err(R"({"model": {"type": "BPE", "dropout": 0.1, "vocab": {}, "merges": []}})").find("dropout") != std::string::npos);
  CHECK(err(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})").find("missing from the vocab") != std::string::npos);
  CHECK(err("{" + model + R"(, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a"}, "behavior": "Isolated"}})").find("does not compile") != std::string::npos);
  CHECK(err("not json").rfind("t.json: not valid JSON", 0) == 0);
  auto t = HfTokenizer::from_json("{" + model + "}", "", "t.json");
  CHECK_THROWS_WITH(t->encode("\xFF"), "t.json: the text is not valid UTF-8");
}

TEST_CASE("Oniguruma's whitespace class is Unicode White_Space, also under PCRE2", "[tokenizer]") {
  CHECK(squint::text::onig_to_pcre2(R"(\s+(?!\S)|[^\s\p{L}])") ==
        R"([\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+(?![^\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}])|[^\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\p{L}])");
  squint::text::Regex re(R"(\s+)");
  // U+180E (Mongolian vowel separator) is not White_Space: PCRE2's own \s would match it.
  CHECK(re.find_all("a\xE1\xA0\x8E" "b").empty());
  CHECK(re.find_all("a\xE3\x80\x80" "b").size() == 1);  // ideographic space is
}
