#pragma once
// Planner flags shared by `plan`, `curve` and `quantize --budget`.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "plan/plan.h"

namespace squint {

struct PlanCli {
  std::string budget;
  double bpw = 0;
  bool min_safe = false;
  double floor = 9.0;
  std::string objective = "nrmse";
  std::string preset;
  std::vector<int> bits, groups;
  std::vector<std::string> priors;
  std::string solver = "exact";
};

// with_budget: add --budget/--bpw/--min-safe (plan, quantize) — curve has its own range flags.
void add_plan_options(CLI::App& app, PlanCli& o, bool with_budget);
PlanOptions make_plan_options(const PlanCli& o, bool need_budget);

}  // namespace squint
