#pragma once
// Planner flags shared by `plan`, `curve` and `quantize --budget`.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "plan/options.h"

namespace squint {

using PlanCli = PlanSettings;

// with_budget: add --budget/--bpw/--min-safe (plan, quantize) — curve has its own range flags. Returns the
// options that tune the plan (all but the budget), for a verb where they apply only in some mode (quantize:
// only with a budget). --preset/--bits/--group-sizes apply to MLX plans, --types to GGUF ones (applies.h).
std::vector<CLI::Option*> add_plan_options(CLI::App& app, PlanCli& o, bool with_budget);
PlanOptions make_plan_options(const PlanCli& o, bool need_budget);

}  // namespace squint
