#include "plan/uniform.h"

#include "plan/options.h"
#include "plan/planner.h"

namespace squint {

Plan uniform_plan(const Analysis& a, QConfig c) {
  // The same settings as `plan --bits B --group-sizes G [--types T] --min-safe --floor 0`, so the same plan.json bytes.
  PlanSettings s;
  s.min_safe = true;
  s.floor = 0;
  s.bits = {c.bits};
  s.groups = {c.group};
  // GGUF types share bits/block (Q4_0, Q4_1, IQ4_NL are all 4/32): name the type, or min-safe would mix them.
  if (c.gguf()) s.types = {ggml_type_info(c.type)->name};
  return make_plan(a, plan_options_from(s, true));
}

bool uniform_config_valid(const Analysis& a, QConfig c) {
  for (const auto& t : a.tensors)
    if (t.measured && t.find(c)) return true;
  return false;
}

}  // namespace squint
