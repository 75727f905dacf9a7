// libFuzzer: the plan.json and analysis.json readers (and planning from a fuzzed analysis).
#include <cstdint>
#include <string>

#include "analysis/analysis_json.h"
#include "plan/planner.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  try {
    squint::parse_plan(s, "fuzz-plan.json");
  } catch (const squint::Error&) {
  }
  try {
    squint::Analysis a = squint::parse_analysis(s, "fuzz-analysis.json");
    if (a.tensors.size() < 64) {
      squint::PlanOptions o;
      o.min_safe = true;
      squint::make_plan(a, o);
    }
  } catch (const squint::Error&) {
  }
  return 0;
}
