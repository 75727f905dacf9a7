#pragma once
// The name a misspelt one most likely meant ("--budjet" -> "--budget"), for "did you mean" in messages.
#include <string>
#include <string_view>
#include <vector>

namespace squint {

// Edit distance with adjacent transpositions (optimal string alignment): "--bugdet" is one step from "--budget".
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `given`: within an edit distance of max(2, |given| / 3), else the only candidate
// that starts with `given`; empty when neither (or on a tie between equally close candidates).
std::string closest_name(std::string_view given, const std::vector<std::string>& candidates);

}  // namespace squint
