#include "plan/uniform.h"

#include "plan/options.h"
#include "plan/planner.h"

namespace squint {

Plan uniform_plan(const Analysis& a, QConfig c) {
  // The same settings as `plan --bits B --group-sizes G --min-safe --floor 0`, so the same plan.json bytes.
  PlanSettings s;
  s.min_safe = true;
  s.floor = 0;
  s.bits = {c.bits};
  s.groups = {c.group};
  return make_plan(a, plan_options_from(s, true));
}

bool uniform_config_valid(const Analysis& a, QConfig c) {
  for (const auto& t : a.tensors)
    if (t.measured && t.find(c)) return true;
  return false;
}

}  // namespace squint
