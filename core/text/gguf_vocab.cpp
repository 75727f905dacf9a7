#include "text/gguf_vocab.h"

#include <nlohmann/json.hpp>
#include <unordered_set>

#include "text/hf_tokenizer.h"
#include "text/spm.h"
#include "util/error.h"

namespace squint::text {

namespace {

using nlohmann::json;

struct Meta {
  const GgufFile& g;
  std::string where(const std::string& key) const { return g.file + ": " + key; }
  const GgufValue* array(const std::string& key, bool required) const {
    const GgufValue* v = g.find(key);
    if (!v) {
      if (required) fail(g.file + ": no " + key + " in the GGUF metadata");
      return nullptr;
    }
    if (v->type != GgufValueType::ARRAY) fail(where(key) + " is a " + gguf_value_type_name(v->type) + ", not an array");
    return v;
  }
  std::vector<std::string> strings(const std::string& key, bool required) const {
    std::vector<std::string> out;
    const GgufValue* v = array(key, required);
    if (!v) return out;
    if (v->elem != GgufValueType::STRING) fail(where(key) + " is not an array of strings");
    out.reserve(v->arr.size());
    for (const auto& e : v->arr) out.push_back(e.str);
    return out;
  }
  int id(const std::string& key, std::size_t n) const {
    const GgufValue* v = g.find(key);
    if (!v) return -1;
    const int64_t x = v->as_int(where(key));
    if (x < 0 || x >= static_cast<int64_t>(n))
      fail(where(key) + " = " + std::to_string(x) + " is not a token id (vocabulary of " + std::to_string(n) + ")");
    return static_cast<int>(x);
  }
  bool flag(const std::string& key, bool dflt) const {
    const GgufValue* v = g.find(key);
    return v ? v->as_bool(where(key)) : dflt;
  }
};

std::unique_ptr<Tokenizer> sentencepiece(const Meta& m, std::vector<std::string> tokens) {
  const std::size_t n = tokens.size();
  SpmVocab v;
  v.pieces = std::move(tokens);
  const GgufValue* scores = m.array("tokenizer.ggml.scores", true);
  if (!scores->arr.empty() && !scores->arr[0].is_float()) fail(m.where("tokenizer.ggml.scores") + " is not an array of floats");
  for (const auto& e : scores->arr) v.scores.push_back(static_cast<float>(e.as_double(m.where("tokenizer.ggml.scores"))));
  const GgufValue* types = m.array("tokenizer.ggml.token_type", true);
  for (const auto& e : types->arr) {
    const int64_t t = e.as_int(m.where("tokenizer.ggml.token_type"));
    if (t < 1 || t > 6) fail(m.where("tokenizer.ggml.token_type") + " has type " + std::to_string(t) + " (sentencepiece types are 1-6)");
    v.types.push_back(static_cast<int>(t));
  }
  v.unk = m.id("tokenizer.ggml.unknown_token_id", n);
  v.bos = m.id("tokenizer.ggml.bos_token_id", n);
  v.eos = m.id("tokenizer.ggml.eos_token_id", n);
  v.add_dummy_prefix = m.flag("tokenizer.ggml.add_space_prefix", true);
  v.remove_extra_whitespaces = m.flag("tokenizer.ggml.remove_extra_whitespaces", false);
  const bool add_bos = m.flag("tokenizer.ggml.add_bos_token", true);
  if (add_bos && v.bos < 0) fail(m.g.file + ": tokenizer.ggml.add_bos_token is set but there is no tokenizer.ggml.bos_token_id");
  if (m.flag("tokenizer.ggml.add_eos_token", false)) fail(m.g.file + ": tokenizer.ggml.add_eos_token is not supported for 'llama' vocabularies");
  auto t = std::make_unique<SpmTokenizer>(std::move(v), m.g.file);
  t->add_bos = add_bos;
  return t;
}

// The pre-tokenizer (and normalizer) of the tokenizer.json families llama.cpp names by tokenizer.ggml.pre.
bool pre_tokenizer_for(const std::string& pre, json& pre_tok, json& normalizer, bool& ignore_merges) {
  const json byte_level_regex = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  auto split_then_bytes = [](const char* regex) {
    return json{{"type", "Sequence"},
                {"pretokenizers",
                 {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}},
                  {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
  };
  normalizer = nullptr;
  ignore_merges = false;
  if (pre == "gpt-2") {
    pre_tok = byte_level_regex;
  } else if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") {
    // Llama 3's tokenizer.json (llama.cpp: LLAMA_VOCAB_PRE_TYPE_LLAMA3, ignore_merges)
    pre_tok = split_then_bytes(
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
    ignore_merges = true;
  } else if (pre == "qwen2") {
    // Qwen2/Qwen3's tokenizer.json: one digit at a time, NFC first
    pre_tok = split_then_bytes(
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
    normalizer = {{"type", "NFC"}};
  } else if (pre == "smollm") {
    pre_tok = {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level_regex}}};
  } else {
    return false;
  }
  return true;
}

std::unique_ptr<Tokenizer> byte_level_bpe(const Meta& m, const std::vector<std::string>& tokens) {
  const std::size_t n = tokens.size();
  const GgufValue* pre_v = m.g.find("tokenizer.ggml.pre");
  const std::string pre = pre_v ? pre_v->as_string(m.where("tokenizer.ggml.pre")) : std::string("default");
  json pre_tok, normalizer;
  bool ignore_merges = false;
  if (!pre_tokenizer_for(pre, pre_tok, normalizer, ignore_merges))
    fail(m.where("tokenizer.ggml.pre") + " '" + pre + "' is not a pre-tokenizer squint reproduces (gpt-2, llama-bpe, qwen2, smollm)");
  const std::vector<std::string> merges = m.strings("tokenizer.ggml.merges", true);
  std::vector<int64_t> types(n, 1);
  if (const GgufValue* tv = m.array("tokenizer.ggml.token_type", false)) {
    if (tv->arr.size() != n)
      fail(m.where("tokenizer.ggml.token_type") + " has " + std::to_string(tv->arr.size()) + " entries for " + std::to_string(n) + " tokens");
    for (std::size_t i = 0; i < n; ++i) types[i] = tv->arr[i].as_int(m.where("tokenizer.ggml.token_type"));
  }
  json vocab = json::object(), added = json::array();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& s = tokens[i];
    if (s.empty()) fail(m.where("tokenizer.ggml.tokens") + " has an empty token (id " + std::to_string(i) + ")");
    if (!vocab.contains(s)) vocab[s] = i;
    // Control and user-defined tokens are the original's added tokens; "[PADi]" fills unassigned ids.
    const bool pad = s == "[PAD" + std::to_string(i) + "]";
    if ((types[i] == 3 || types[i] == 4) && !pad)
      added.push_back({{"id", i}, {"content", s}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", false}, {"special", types[i] == 3}});
  }
  json merge_list = json::array();
  for (const auto& mg : merges) {
    const auto sp = mg.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 == mg.size() || mg.find(' ', sp + 1) != std::string::npos)
      fail(m.where("tokenizer.ggml.merges") + " entry '" + mg + "' is not two tokens separated by one space");
    merge_list.push_back(mg);
  }
  const int bos = m.id("tokenizer.ggml.bos_token_id", n), eos = m.id("tokenizer.ggml.eos_token_id", n);
  const bool llama3 = ignore_merges;  // llama.cpp adds BOS by default for the Llama 3 pre-tokenizer only
  const bool add_bos = m.flag("tokenizer.ggml.add_bos_token", llama3), add_eos = m.flag("tokenizer.ggml.add_eos_token", false);
  if (add_bos && bos < 0) fail(m.g.file + ": tokenizer.ggml.add_bos_token is set but there is no tokenizer.ggml.bos_token_id");
  if (add_eos && eos < 0) fail(m.g.file + ": tokenizer.ggml.add_eos_token is set but there is no tokenizer.ggml.eos_token_id");
  json post = nullptr;
  if (add_bos || add_eos) {
    json single = json::array(), specials = json::object();
    auto special = [&](const char* name, int id) {
      single.push_back({{"SpecialToken", {{"id", name}, {"type_id", 0}}}});
      specials[name] = {{"id", name}, {"ids", {id}}, {"tokens", {tokens[static_cast<std::size_t>(id)]}}};
    };
    if (add_bos) special("<bos>", bos);
    single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
    if (add_eos) special("<eos>", eos);
    post = {{"type", "TemplateProcessing"}, {"single", single}, {"pair", single}, {"special_tokens", specials}};
  }
  const json doc = {{"version", "1.0"},
                    {"added_tokens", added},
                    {"normalizer", normalizer},
                    {"pre_tokenizer", pre_tok},
                    {"post_processor", post},
                    {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
                    {"model",
                     {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                      {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
                      {"ignore_merges", ignore_merges}, {"vocab", vocab}, {"merges", merge_list}}}};
  std::string text;
  try {
    text = doc.dump();
  } catch (const json::exception&) {  // a token or merge that is not UTF-8 (found by fuzz_gguf)
    fail(m.where("tokenizer.ggml.tokens") + " holds a token or merge that is not valid UTF-8");
  }
  return HfTokenizer::from_json(text, "", m.g.file);
}

}  // namespace

std::unique_ptr<Tokenizer> tokenizer_from_gguf(const GgufFile& g) {
  Meta m{g};
  const GgufValue* model = g.find("tokenizer.ggml.model");
  if (!model) fail(g.file + ": no tokenizer in the GGUF metadata (tokenizer.ggml.model)");
  const std::string kind = model->as_string(m.where("tokenizer.ggml.model"));
  if (kind == "none" || kind == "no_vocab")
    fail(g.file + ": has no vocabulary (tokenizer.ggml.model = " + kind + ": an ids-only file)");
  std::vector<std::string> tokens = m.strings("tokenizer.ggml.tokens", true);
  if (tokens.empty()) fail(m.where("tokenizer.ggml.tokens") + " is empty");
  for (const char* key : {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"})
    if (const GgufValue* v = m.array(key, false); v && v->arr.size() != tokens.size())
      fail(m.where(key) + " has " + std::to_string(v->arr.size()) + " entries for " + std::to_string(tokens.size()) + " tokens");
  if (kind == "llama") return sentencepiece(m, std::move(tokens));
  if (kind == "gpt2") return byte_level_bpe(m, tokens);
  fail(m.where("tokenizer.ggml.model") + " '" + kind + "' is not supported (squint reads 'llama' and 'gpt2')");
}

}  // namespace squint::text
