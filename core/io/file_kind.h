#pragma once
// What a file is, in words, for messages that say it instead of failing on the wrong parser ("x.gguf is a GGUF
// file; analyze takes a safetensors model" rather than "header length 14064895815 exceeds the 100 MB limit").
// Bytes in, words out: portable, so the CLI and the page can name files alike.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace squint {

enum class FileKind { Unknown, Gguf, Safetensors, Json, SentencePiece };

// From the first bytes (16 are enough) and the file's name.
FileKind sniff_file_kind(const uint8_t* head, std::size_t n, std::string_view name);

// A JSON document in words, with an article: "a squint plan (plan.json)", "a tokenizer.json", "a model
// config.json", "a safetensors shard index", "a JSON file".
std::string describe_json(const nlohmann::json& j);

// The kind in words when the content is not read further ("a GGUF file", "a safetensors file", ...).
std::string describe_kind(FileKind k);

}  // namespace squint
