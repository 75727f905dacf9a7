#pragma once
// Human-readable views of a plan: size vs budget, bit mix, the per-layer × per-projection bit map.
#include <string>

#include "analysis/analysis.h"
#include "plan/plan.h"

namespace squint {

// Sizes in `budget_unit` (the unit of --budget; "" without one: show_size's default, core/util/units.h).
std::string plan_summary(const Plan& p, const Analysis& a, const std::string& budget_unit);

}  // namespace squint
