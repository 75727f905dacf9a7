#pragma once
// The tokenizer a GGUF file carries in its tokenizer.ggml.* metadata, so `eval FILE.gguf` needs no
// --tokenizer:
//  - "llama": a SentencePiece BPE vocabulary (tokens, scores, token_type) run like libsentencepiece
//    (text/spm.h); tokenizer.ggml.add_space_prefix (default true) and remove_extra_whitespaces (default
//    false, llama.cpp's defaults; squint writes the tokenizer.model's setting) select the normalization.
//  - "gpt2": byte-level BPE (tokens, merges) with the split rule of tokenizer.ggml.pre (gpt-2, llama-bpe,
//    qwen2, smollm), run by the tokenizer.json pipeline (text/hf_tokenizer.h) as the original file would be;
//    control and user-defined tokens are matched in the text as the original's added tokens.
// BOS/EOS come from tokenizer.ggml.{bos,eos}_token_id and add_{bos,eos}_token (llama.cpp's defaults when
// absent: "llama" adds BOS, "gpt2" does not). Missing or inconsistent metadata and other models/pre-
// tokenizers are one squint::Error naming the file.
#include <memory>

#include "eval/tokenizer.h"
#include "io/gguf.h"

namespace squint::text {

std::unique_ptr<Tokenizer> tokenizer_from_gguf(const GgufFile& g);

}  // namespace squint::text
