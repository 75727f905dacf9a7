#pragma once
// Soft priors π by role (method.md §4) and user overrides (--prior PATTERN=VALUE, later ones win).
#include <string>
#include <utility>
#include <vector>

#include "analysis/analysis.h"

namespace squint {

double default_prior(const TensorAnalysis& t, bool tied_embeddings);
// PATTERN: a glob (* and ?) over the whole tensor name, or "re:REGEX" (std::regex search).
bool prior_pattern_matches(const std::string& pattern, const std::string& name);
double tensor_prior(const TensorAnalysis& t, bool tied_embeddings,
                    const std::vector<std::pair<std::string, double>>& overrides);
// Parses "PATTERN=VALUE" (VALUE a number or "inf"); throws squint::Error.
std::pair<std::string, double> parse_prior_override(const std::string& s);

}  // namespace squint
