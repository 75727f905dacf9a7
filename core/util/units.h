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
// The one convention for sizes shown to people (plan, quantize, sweep, curve, the page; JSON holds exact bytes):
// in the unit the user wrote when they wrote one (--budget 2MB: MB; plain bytes: bytes), else in decimal units
// (KB, MB, GB, TB: 10^3 steps, 2 decimals), the units budgets are usually written in.
std::string show_size(uint64_t bytes, const std::string& user_unit = "");
// The default unit of show_size: B below 1 KB, else KB, MB, GB or TB with 2 decimals.
std::string human_size(uint64_t bytes);

}  // namespace squint
