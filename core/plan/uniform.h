#pragma once
// "Uniform" quantization as docs/eval.md defines it: every tensor that can take config c takes it (the
// plan restricted to c, smallest safe size, floor 0), the rest kept. The baseline every squint plan is
// measured against at the same size.
#include "plan/plan.h"

namespace squint {

Plan uniform_plan(const Analysis& a, QConfig c);
// Whether any tensor of the analysis can take c (else the uniform "model" is just the float model cast).
bool uniform_config_valid(const Analysis& a, QConfig c);

}  // namespace squint
