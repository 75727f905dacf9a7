#include "convert/gguf_tokenizer.h"

#include <cstring>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "util/byte_level.h"
#include "util/error.h"
#include "util/json_guard.h"

namespace squint {

namespace {

// Protobuf wire format, just enough for sentencepiece's ModelProto.
struct Pb {
  const uint8_t* p;
  const uint8_t* end;
  const std::string& src;
  [[noreturn]] void bad(const std::string& why) const { fail(src + ": not a valid SentencePiece model (" + why + ")"); }
  bool done() const { return p >= end; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) bad("truncated varint");
      const uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    bad("varint longer than 10 bytes");
  }
  // Next field: returns (field number, wire type).
  std::pair<uint64_t, int> tag() {
    const uint64_t t = varint();
    return {t >> 3, static_cast<int>(t & 7)};
  }
  Pb sub() {
    const uint64_t n = varint();
    if (n > static_cast<uint64_t>(end - p)) bad("length-delimited field runs past the end");
    Pb s{p, p + n, src};
    p += n;
    return s;
  }
  uint32_t fixed32() {
    if (end - p < 4) bad("truncated fixed32");
    uint32_t v;
    std::memcpy(&v, p, 4);
    p += 4;
    return v;
  }
  void skip(int wire) {
    switch (wire) {
      case 0: varint(); break;
      case 1: if (end - p < 8) bad("truncated fixed64"); p += 8; break;
      case 2: sub(); break;
      case 5: fixed32(); break;
      default: bad("unsupported wire type " + std::to_string(wire));
    }
  }
};

int as_int32(uint64_t v) { return static_cast<int>(static_cast<int32_t>(static_cast<uint32_t>(v))); }

GgufKV kv(std::string k, GgufValue v) { return {std::move(k), std::move(v)}; }

}  // namespace

SpModel parse_sentencepiece_model(const std::string& bytes, const std::string& source) {
  SpModel m;
  Pb r{reinterpret_cast<const uint8_t*>(bytes.data()), reinterpret_cast<const uint8_t*>(bytes.data()) + bytes.size(), source};
  while (!r.done()) {
    auto [field, wire] = r.tag();
    if (field == 1 && wire == 2) {
      Pb s = r.sub();
      SpPiece pc;
      while (!s.done()) {
        auto [f, w] = s.tag();
        if (f == 1 && w == 2) {
          Pb t = s.sub();
          pc.piece.assign(reinterpret_cast<const char*>(t.p), static_cast<std::size_t>(t.end - t.p));
        } else if (f == 2 && w == 5) {
          uint32_t u = s.fixed32();
          std::memcpy(&pc.score, &u, 4);
        } else if (f == 3 && w == 0) {
          pc.type = as_int32(s.varint());
          if (pc.type < 1 || pc.type > 6) r.bad("piece type " + std::to_string(pc.type));
        } else {
          s.skip(w);
        }
      }
      m.pieces.push_back(std::move(pc));
    } else if (field == 2 && wire == 2) {  // TrainerSpec
      Pb s = r.sub();
      while (!s.done()) {
        auto [f, w] = s.tag();
        if (w == 0 && (f == 3 || f == 40 || f == 41 || f == 42 || f == 43)) {
          const int v = as_int32(s.varint());
          if (f == 3) m.model_type = v;
          if (f == 40) m.unk_id = v;
          if (f == 41) m.bos_id = v;
          if (f == 42) m.eos_id = v;
          if (f == 43) m.pad_id = v;
        } else {
          s.skip(w);
        }
      }
    } else if (field == 3 && wire == 2) {  // NormalizerSpec
      Pb s = r.sub();
      while (!s.done()) {
        auto [f, w] = s.tag();
        if (w == 0 && f == 3) m.add_dummy_prefix = s.varint() != 0;
        else if (w == 0 && f == 4) m.remove_extra_whitespaces = s.varint() != 0;
        else s.skip(w);
      }
    } else {
      r.skip(wire);
    }
  }
  if (m.pieces.empty()) r.bad("no pieces");
  return m;
}

std::vector<GgufKV> gguf_tokenizer_sentencepiece(const SpModel& sp, const TokenizerOptions& o,
                                                 std::vector<std::string>& warnings) {
  const int n = o.vocab_size > 0 ? o.vocab_size : static_cast<int>(sp.pieces.size());
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (int i = 0; i < n; ++i) {
    if (i < static_cast<int>(sp.pieces.size())) {
      const SpPiece& p = sp.pieces[static_cast<std::size_t>(i)];
      tokens.push_back(p.piece);
      scores.push_back(p.score);
      // convert_hf_to_gguf: unknown, control, unused and byte keep their type; everything else is normal.
      types.push_back(p.type == 2 || p.type == 3 || p.type == 5 || p.type == 6 ? p.type : 1);
    } else {  // the model has more embedding rows than the tokenizer has pieces
      tokens.push_back("[PAD" + std::to_string(i) + "]");
      scores.push_back(-10000.0f);
      types.push_back(5);
    }
  }
  if (static_cast<int>(sp.pieces.size()) > n)
    warnings.push_back("tokenizer.model has " + std::to_string(sp.pieces.size()) + " pieces, more than the model's " +
                       std::to_string(n) + " embedding rows; the extra pieces are dropped");
  std::vector<GgufKV> out = {kv("tokenizer.ggml.model", GgufValue::string("llama")),
                             kv("tokenizer.ggml.pre", GgufValue::string("default")),
                             kv("tokenizer.ggml.tokens", GgufValue::strings(tokens)),
                             kv("tokenizer.ggml.scores", GgufValue::f32s(scores)),
                             kv("tokenizer.ggml.token_type", GgufValue::i32s(types))};
  auto id = [&](const char* key, int v) {
    if (v >= 0 && v < n) out.push_back(kv(key, GgufValue::u32(static_cast<uint32_t>(v))));
  };
  id("tokenizer.ggml.bos_token_id", o.bos >= 0 ? o.bos : sp.bos_id);
  id("tokenizer.ggml.eos_token_id", o.eos >= 0 ? o.eos : sp.eos_id);
  id("tokenizer.ggml.unknown_token_id", sp.unk_id);
  id("tokenizer.ggml.padding_token_id", sp.pad_id);
  out.push_back(kv("tokenizer.ggml.add_bos_token", GgufValue::boolean(o.add_bos)));
  out.push_back(kv("tokenizer.ggml.add_eos_token", GgufValue::boolean(o.add_eos)));
  if (!sp.add_dummy_prefix) out.push_back(kv("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false)));
  // llama.cpp's key (read for every vocabulary, default false); squint's GGUF tokenizer (core/text/gguf_vocab)
  // uses it to normalize like libsentencepiece, which collapses and strips spaces when the model says so.
  if (sp.remove_extra_whitespaces) out.push_back(kv("tokenizer.ggml.remove_extra_whitespaces", GgufValue::boolean(true)));
  return out;
}

namespace {

// llama.cpp's pre-tokenizer name for a tokenizer.json, from its pre_tokenizer (convert_hf_to_gguf.py decides
// by hashing a tokenization; the families squint evaluates are told apart by their split rules).
std::string bpe_pre_name(const nlohmann::json& pre, const std::string& model_type, bool* sure) {
  *sure = true;
  const std::string s = pre.dump();
  if (s.find("\\\\p{N}{1,3}") != std::string::npos) return model_type == "qwen2" || model_type == "qwen3" ? "qwen2" : "llama-bpe";
  if (s.find("\\\\p{N}") != std::string::npos) return "qwen2";
  if (s.find("\"Digits\"") != std::string::npos && s.find("\"individual_digits\":true") != std::string::npos) return "smollm";
  if (pre.is_object() && pre.value("type", "") == "ByteLevel") return "gpt-2";
  *sure = false;
  return "default";
}

// llama.cpp's SentencePiece vocabulary maps bytes to <0xXX> tokens (llama_vocab::byte_to_token).
bool has_all_byte_tokens(const std::vector<std::string>& tokens) {
  std::set<std::string> have(tokens.begin(), tokens.end());
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    const std::string t = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
    if (!have.count(t)) return false;
  }
  return true;
}

}  // namespace

std::vector<GgufKV> gguf_tokenizer_hf(const std::string& tokenizer_json, const std::string& config,
                                      const std::string& model_type, const TokenizerOptions& o,
                                      std::vector<std::string>& warnings, const std::string& source) {
  auto j = nlohmann::json::parse(tokenizer_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(source + ": not valid JSON");
  const auto& model = j.contains("model") ? j["model"] : nlohmann::json();
  if (!model.is_object() || model.value("type", "BPE") != "BPE" || !model.contains("vocab") || !model["vocab"].is_object())
    fail(source + ": only BPE tokenizer.json files convert to GGUF");
  std::map<int, std::string> by_id;
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
    const int id = json_is_int<int>(it.value()) ? json_int<int>(it.value(), source) : -1;
    if (id < 0 || id > (1 << 24)) fail(source + ": vocab id of '" + it.key() + "' is not a small non-negative integer");
    by_id[id] = it.key();
  }
  std::map<int, bool> added_special;  // id -> special
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const auto& a : j["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") || !a["content"].is_string())
        fail(source + ": malformed added_tokens entry");
      const int id = json_int<int>(a["id"], source + ": added token id");
      if (id < 0 || id > (1 << 24)) fail(source + ": added token id out of range");
      by_id[id] = a["content"].get<std::string>();
      added_special[id] = a.value("special", false);
    }
  int n = by_id.empty() ? 0 : by_id.rbegin()->first + 1;
  if (o.vocab_size > n) n = o.vocab_size;
  if (o.vocab_size > 0 && n > o.vocab_size)
    warnings.push_back(source + ": " + std::to_string(n) + " token ids, more than the model's " + std::to_string(o.vocab_size) + " embedding rows");
  std::vector<std::string> tokens(static_cast<std::size_t>(n));
  std::vector<int32_t> types(static_cast<std::size_t>(n), 1);
  for (int i = 0; i < n; ++i) {
    auto it = by_id.find(i);
    if (it == by_id.end()) {
      tokens[static_cast<std::size_t>(i)] = "[PAD" + std::to_string(i) + "]";
      types[static_cast<std::size_t>(i)] = 4;  // as convert_hf_to_gguf: USER_DEFINED
      continue;
    }
    tokens[static_cast<std::size_t>(i)] = it->second;
    auto ad = added_special.find(i);
    if (ad != added_special.end()) types[static_cast<std::size_t>(i)] = ad->second ? 3 : 4;
  }
  std::vector<std::string> merges;
  if (model.contains("merges") && model["merges"].is_array())
    for (const auto& m : model["merges"]) {
      if (m.is_string()) merges.push_back(m.get<std::string>());
      else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
        merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      else fail(source + ": malformed merge entry");
    }
  const auto pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : nlohmann::json();
  const bool byte_level = pre.dump().find("\"ByteLevel\"") != std::string::npos ||
                          (j.contains("decoder") && j["decoder"].dump().find("\"ByteLevel\"") != std::string::npos);
  std::vector<GgufKV> out;
  if (byte_level && !merges.empty()) {
    bool sure = true;
    const std::string pname = bpe_pre_name(pre, model_type, &sure);
    if (!sure) warnings.push_back(source + ": pre-tokenizer not recognised; written as llama.cpp's 'default' (token ids are exact, text tokenization may differ)");
    out = {kv("tokenizer.ggml.model", GgufValue::string("gpt2")), kv("tokenizer.ggml.pre", GgufValue::string(pname)),
           kv("tokenizer.ggml.tokens", GgufValue::strings(tokens)), kv("tokenizer.ggml.token_type", GgufValue::i32s(types)),
           kv("tokenizer.ggml.merges", GgufValue::strings(merges))};
  } else if (!has_all_byte_tokens(tokens) && !o.llama_vocab_without_bytes) {
    // No exact GGUF form, and not the 256 <0xXX> byte tokens either: as a 'llama' vocabulary it made llama.cpp's
    // process abort (its SentencePiece tokenizer looks up byte tokens with .at() for any character it lacks,
    // std::out_of_range). llama.cpp's BPE skips bytes it has no token for, so the vocabulary is written as
    // 'gpt2' with each normal token's bytes in the byte-level alphabet (decoding gives back its exact bytes;
    // special tokens stay as they are, as llama.cpp prints them raw) and the merges likewise.
    warnings.push_back(source + ": " + (byte_level ? "byte-level BPE without merges" : "BPE that is not byte-level") +
                       " without byte tokens has no exact GGUF form; written as a 'gpt2' vocabulary in the byte-level "
                       "alphabet that keeps every id and its bytes (running from token ids is exact, text "
                       "tokenization may differ)");
    std::vector<std::string> enc(tokens.size());
    // (A byte-level BPE's tokens are in that alphabet already.)
    auto encode = [&](const std::string& t) { return byte_level ? t : byte_level_encode(t); };
    for (std::size_t i = 0; i < tokens.size(); ++i) enc[i] = types[i] == 1 ? encode(tokens[i]) : tokens[i];
    std::vector<std::string> enc_merges;
    for (const auto& m : merges) {
      const auto sp = m.find(' ');
      enc_merges.push_back(sp == std::string::npos ? encode(m) : encode(m.substr(0, sp)) + " " + encode(m.substr(sp + 1)));
    }
    // Pre-tokenizer 'gpt-2': one llama.cpp and squint both run (text tokenization is approximate anyway).
    out = {kv("tokenizer.ggml.model", GgufValue::string("gpt2")), kv("tokenizer.ggml.pre", GgufValue::string("gpt-2")),
           kv("tokenizer.ggml.tokens", GgufValue::strings(enc)), kv("tokenizer.ggml.token_type", GgufValue::i32s(types)),
           kv("tokenizer.ggml.merges", GgufValue::strings(enc_merges))};
  } else {
    // Not expressible as GGUF's byte-level BPE: the closest vocabulary that keeps every id and string is a
    // SentencePiece-style one whose scores rank pieces by id (earlier = merged first); it has the byte tokens
    // llama.cpp's loader looks up.
    warnings.push_back(source + ": " + (byte_level ? "byte-level BPE without merges" : "BPE that is not byte-level") +
                       " has no exact GGUF form; written as a 'llama' vocabulary that keeps every id and string "
                       "(running from token ids is exact, text tokenization may differ)");
    std::vector<float> scores(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      scores[static_cast<std::size_t>(i)] = -static_cast<float>(i);
      const std::string& t = tokens[static_cast<std::size_t>(i)];
      if (t.size() == 6 && t.rfind("<0x", 0) == 0 && t[5] == '>') types[static_cast<std::size_t>(i)] = 6;
    }
    out = {kv("tokenizer.ggml.model", GgufValue::string("llama")), kv("tokenizer.ggml.pre", GgufValue::string("default")),
           kv("tokenizer.ggml.tokens", GgufValue::strings(tokens)), kv("tokenizer.ggml.scores", GgufValue::f32s(scores)),
           kv("tokenizer.ggml.token_type", GgufValue::i32s(types))};
  }
  // Special ids: config.json overrides, else tokenizer_config.json's token strings.
  auto cfg = nlohmann::json::parse(config.empty() ? "{}" : config, nullptr, false);
  auto lookup = [&](const char* key) -> int {
    if (!cfg.is_object() || !cfg.contains(key)) return -1;
    const auto& v = cfg[key];
    std::string s = v.is_string() ? v.get<std::string>() : (v.is_object() && v.contains("content") && v["content"].is_string() ? v["content"].get<std::string>() : "");
    for (int i = 0; i < n; ++i)
      if (!s.empty() && tokens[static_cast<std::size_t>(i)] == s) return i;
    return -1;
  };
  const int bos = o.bos >= 0 ? o.bos : lookup("bos_token"), eos = o.eos >= 0 ? o.eos : lookup("eos_token");
  const int unk = lookup("unk_token"), pad = lookup("pad_token");
  auto id = [&](const char* key, int v) {
    if (v >= 0 && v < n) out.push_back(kv(key, GgufValue::u32(static_cast<uint32_t>(v))));
  };
  id("tokenizer.ggml.bos_token_id", bos);
  id("tokenizer.ggml.eos_token_id", eos);
  id("tokenizer.ggml.unknown_token_id", unk);
  id("tokenizer.ggml.padding_token_id", pad);
  out.push_back(kv("tokenizer.ggml.add_bos_token", GgufValue::boolean(o.add_bos)));
  out.push_back(kv("tokenizer.ggml.add_eos_token", GgufValue::boolean(o.add_eos)));
  return out;
}

}  // namespace squint
