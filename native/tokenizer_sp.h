#pragma once
// SentencePiece tokenizer.model through Debian's libsentencepiece, and the loader that picks a model's
// tokenizer and BOS rule (tokenizer_config.json add_bos_token, default true).
#include <memory>
#include <string>

#include "eval/tokenizer.h"

namespace squint {

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& path);
// The tokenizer of the model folder `dir`: tokenizer.model (SentencePiece) if present, else tokenizer.json
// (Hugging Face BPE); throws squint::Error when there is neither.
std::unique_ptr<Tokenizer> load_model_tokenizer(const std::string& dir);

}  // namespace squint
