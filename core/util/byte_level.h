#pragma once
// GPT-2's byte-level alphabet (Hugging Face tokenizers' ByteLevel, llama.cpp's unicode_byte_to_utf8): each byte
// is one printable code point (itself when printable, else 256 + n). Shared by the tokenizer pipeline and the
// GGUF vocabulary writer, which stores tokens of a 'gpt2' vocabulary in it.
#include <cstdint>
#include <string>

namespace squint {

const std::string& byte_level_char(unsigned char b);  // UTF-8 of byte b's code point
int byte_level_byte(uint32_t cp);                     // the byte of a code point, -1 when not in the alphabet
std::string byte_level_encode(const std::string& bytes);

}  // namespace squint
