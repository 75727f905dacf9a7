#pragma once
// Tokenizer metadata for a GGUF file, as llama.cpp's convert_hf_to_gguf.py writes it:
//  - SentencePiece tokenizer.model -> tokenizer.ggml.model "llama" (tokens, scores, token_type 1-6, padded with
//    [PADi] UNUSED entries up to the model's vocab size). The model proto is decoded here (a minimal protobuf
//    reader: pieces and trainer ids only), so this stays portable core code without libsentencepiece.
//  - tokenizer.json byte-level BPE -> "gpt2" (tokens, merges, pre-tokenizer name); another BPE -> "llama" when it
//    has the 256 <0xXX> byte tokens llama.cpp's loader needs, else "none" (no vocabulary: run from token ids).
#include <cstdint>
#include <string>
#include <vector>

#include "io/gguf.h"

namespace squint {

struct SpPiece {
  std::string piece;
  float score = 0;
  int type = 1;  // sentencepiece ModelProto.SentencePiece.Type: 1 normal, 2 unknown, 3 control, 4 user, 5 unused, 6 byte
};
struct SpModel {
  std::vector<SpPiece> pieces;
  int unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  int model_type = 1;  // 1 unigram, 2 BPE
  bool add_dummy_prefix = true, remove_extra_whitespaces = true;
};
// Decodes a serialized sentencepiece ModelProto; throws squint::Error naming `source` on malformed input.
SpModel parse_sentencepiece_model(const std::string& bytes, const std::string& source);

struct TokenizerOptions {
  int vocab_size = 0;       // the model's embedding rows (config vocab_size); 0 = the tokenizer's own size
  bool add_bos = true, add_eos = false;
  int bos = -1, eos = -1;   // overrides from config.json (-1 = the tokenizer's)
  bool llama_vocab_without_bytes = false;  // negative control only: the 'llama' form even without byte tokens
};

// tokenizer.ggml.* keys for a SentencePiece model; `warnings` gets one line per approximation.
std::vector<GgufKV> gguf_tokenizer_sentencepiece(const SpModel& sp, const TokenizerOptions& o,
                                                 std::vector<std::string>& warnings);
// tokenizer.ggml.* keys for a Hugging Face tokenizer.json (BPE); `config` is tokenizer_config.json (may be empty).
std::vector<GgufKV> gguf_tokenizer_hf(const std::string& tokenizer_json, const std::string& config,
                                      const std::string& model_type, const TokenizerOptions& o,
                                      std::vector<std::string>& warnings, const std::string& source);

}  // namespace squint
