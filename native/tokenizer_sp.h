#pragma once
// SentencePiece tokenizer.model through Debian's libsentencepiece, and the loader that picks a model's
// tokenizer and its special-token rule (used by eval, generate and tokenize alike).
#include <memory>
#include <string>

#include "eval/tokenizer.h"

namespace squint {

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& path);
// The tokenizer of `path`: a model folder (tokenizer.model if present, else tokenizer.json, each with the
// folder's tokenizer_config.json) or one of those files, or a .gguf file (the tokenizer in its metadata,
// core/text/gguf_vocab.h; an error there suggests --tokenizer). SentencePiece: BOS when add_bos_token (default
// true). tokenizer.json: its post_processor, or add_bos_token when it has none. Throws squint::Error.
std::unique_ptr<Tokenizer> load_model_tokenizer(const std::string& path);

}  // namespace squint
