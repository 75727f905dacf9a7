#include "plan/plan_twins.h"

#include "plan/planner.h"

namespace squint {

std::optional<std::size_t> PlanTwins::add(const Plan& p, std::size_t i) {
  auto [it, fresh] = first_.emplace(plan_choice_key(p), i);
  if (fresh) return std::nullopt;
  dups_.emplace_back(i, it->second);
  return it->second;
}

}  // namespace squint
