#pragma once
// Sizes as users write them: 24GB (10^9), 22.5GiB (2^30), 900MB, 512MiB, 123456 (bytes).
#include <cstdint>
#include <optional>
#include <string>

namespace squint {

// Returns nullopt on a malformed size. The unit suffix is case-insensitive; "B" alone means bytes.
std::optional<uint64_t> parse_size(const std::string& s);
// The unit the user wrote ("GB", "GiB", "MB", "B", ...), for answering in the same unit.
std::string size_unit_of(const std::string& s);
// Formats bytes in a unit: format_size(24e9, "GB") = "24.00 GB".
std::string format_size(uint64_t bytes, const std::string& unit);
// Human default: GiB/MiB/KiB with 2 decimals.
std::string human_size(uint64_t bytes);

}  // namespace squint
