// libFuzzer: the plan.json and analysis.json readers (and planning from a fuzzed analysis), and what squint says a
// file is (io/file_kind.h: the first bytes, then a JSON document in words).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/analysis_json.h"
#include "io/file_kind.h"
#include "plan/planner.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  if (squint::sniff_file_kind(data, size, "fuzz.json") == squint::FileKind::Json) {
    const auto j = nlohmann::json::parse(s, nullptr, false);
    if (!j.is_discarded() && squint::describe_json(j).empty()) __builtin_trap();
  }
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
