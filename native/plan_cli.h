#pragma once
// Planner flags shared by `plan`, `curve` and `quantize --budget`.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "plan/options.h"

namespace squint {

using PlanCli = PlanSettings;

// with_budget: add --budget/--bpw/--min-safe (plan, quantize) — curve has its own range flags.
void add_plan_options(CLI::App& app, PlanCli& o, bool with_budget);
PlanOptions make_plan_options(const PlanCli& o, bool need_budget);

}  // namespace squint
