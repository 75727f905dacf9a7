#pragma once
// Soft priors π (method.md §4): a base set, then user overrides (--prior PATTERN=VALUE, later ones win).
// Base sets: "flat" (every prior 1; the default since docs/quality.md measured it never worse than uniform
// at the same size on both real models) and "roles" (the published role priors: embedding/lm_head 10,
// vision 8, first layer 3, last layer 2). Norms and MoE routers are always kept (prior inf) in both; a --prior
// override can make a router quantizable, but only at 8 bits or more (plan/problem.cpp).
#include <string>
#include <utility>
#include <vector>

#include "analysis/analysis.h"

namespace squint {

constexpr const char* kDefaultPriorSet = "flat";
std::vector<std::string> prior_set_names();  // flat, roles
// Throws squint::Error "FLAG: unknown prior set 'X' (choose flat or roles)", the list from prior_set_names(),
// unless `name` is one of them (no "FLAG: " when `flag` is empty). Every face that takes a set name checks it so.
void check_prior_set(const std::string& name, const std::string& flag = "");
// The base prior of t under a set (throws squint::Error on an unknown set name).
double base_prior(const TensorAnalysis& t, const std::string& prior_set);
double default_prior(const TensorAnalysis& t, bool tied_embeddings);  // the "roles" set
// PATTERN: a glob (* and ?) over the whole tensor name, or "re:REGEX" (std::regex search).
bool prior_pattern_matches(const std::string& pattern, const std::string& name);
double tensor_prior(const TensorAnalysis& t, const std::string& prior_set,
                    const std::vector<std::pair<std::string, double>>& overrides);
// Parses "PATTERN=VALUE" (VALUE a number or "inf"); throws squint::Error.
std::pair<std::string, double> parse_prior_override(const std::string& s);

}  // namespace squint
