#pragma once
// Planner options from user-level settings — one function for the CLI flags and the page's controls, so
// the same settings give the same PlanOptions and therefore the same plan.json bytes.
#include <string>
#include <vector>

#include "plan/plan.h"

namespace squint {

struct PlanSettings {
  std::string budget;  // "24GB", "22.5GiB", "900MB", bytes; or empty
  double bpw = 0;
  bool min_safe = false;
  double floor = 9.0;
  std::string objective = "params-mse";
  std::string prior_set = "flat";  // flat | roles (plan/priors.h)
  std::string preset;  // "", "all" or "mint8"
  std::vector<int> bits, groups;
  std::vector<std::string> types;   // GGUF type names to allow ("Q4_K"); empty = all (MLX unaffected)
  std::vector<std::string> priors;  // PATTERN=VALUE
  std::string solver = "exact";
};

// need_budget: exactly one of budget/bpw/min_safe must be set (else squint::Error).
PlanOptions plan_options_from(const PlanSettings& s, bool need_budget);

// A --bits or --group-sizes value that no candidate of `format` has would be dropped without a word (MLX groups
// are 32, 64 and 128; GGUF blocks 32 and 256): refused, naming the value and what the format offers.
// with_imatrix: the GGUF candidates an importance matrix adds (IQ1_S --bits 1, ...) count as offered.
void check_config_filters(const std::vector<int>& bits, const std::vector<int>& groups, QFormat format,
                          bool with_imatrix = false);

}  // namespace squint
