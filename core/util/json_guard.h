#pragma once
// Untrusted JSON documents (tokenizer.json, plan.json, analysis.json) are read with nlohmann's get<int> and
// value(key, 0u); converting a float outside the target's range is undefined behaviour (found by the
// fuzzers: "stop": 88888888888888888880, "version": 1.7e38). No field squint reads needs a float of
// magnitude 2^31 or more, nor a NaN, so such documents are refused before they are interpreted.
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace squint {

template <class Json>
void check_json_numbers(const Json& j, const std::string& source) {
  if (j.is_number_float()) {
    const double x = j.template get<double>();
    if (!(std::fabs(x) < 2147483648.0)) fail(source + ": a number is out of range (" + j.dump() + ")");
  } else if (j.is_structured()) {
    for (const auto& v : j) check_json_numbers(v, source);
  }
}

}  // namespace squint
