#pragma once
// Untrusted JSON documents (tokenizer.json, plan.json, analysis.json, config.json, safetensors headers) are
// read with nlohmann, whose get<int>/get<uint64_t>/value(key, 0) of a float static_casts it: a float outside
// the target's range is undefined behaviour (found by the fuzzers: "stop": 88888888888888888880,
// "version": 1.7e38, a plan's "bytes": 8.4e48), and an integer outside it silently wraps (bits 2^32 + 4
// would read as 4). Every integer field squint reads therefore goes through json_int: a JSON integer, or a
// float with an integral value, inside T's range; anything else is a one-line error naming the field.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace squint {

// tokenizer.json holds no number of magnitude 2^31 or more nor a NaN; such a document is refused whole
// before it is interpreted (its many small integer fields are read in many places).
template <class Json>
void check_json_numbers(const Json& j, const std::string& source) {
  if (j.is_number_float()) {
    const double x = j.template get<double>();
    if (!(std::fabs(x) < 2147483648.0)) fail(source + ": a number is out of range (" + j.dump() + ")");
  } else if (j.is_structured()) {
    for (const auto& v : j) check_json_numbers(v, source);
  }
}

// True if v is an integer (or an integral float) representable as T.
template <class T>
bool json_is_int(const nlohmann::json& v) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  using L = std::numeric_limits<T>;
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(L::max());
  if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) return x >= 0 && static_cast<uint64_t>(x) <= static_cast<uint64_t>(L::max());
    else return x >= static_cast<int64_t>(L::min()) && x <= static_cast<int64_t>(L::max());
  }
  if (v.is_number_float()) {
    const double x = v.get<double>();
    // Compared in double: L::max() + 1 is a power of two, exact as a double.
    const double hi = std::ldexp(1.0, L::digits);
    const double lo = std::is_signed_v<T> ? -hi : 0.0;
    return std::isfinite(x) && x == std::floor(x) && x >= lo && x < hi;
  }
  return false;
}

// v as T, or fail("<what>: expected an integer ..., got <v>").
template <class T>
T json_int(const nlohmann::json& v, const std::string& what) {
  if (!json_is_int<T>(v)) {
    std::string shown = v.dump();
    if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
    fail(what + ": expected an integer in [" + std::to_string(std::numeric_limits<T>::min()) + ", " +
         std::to_string(std::numeric_limits<T>::max()) + "], got " + shown);
  }
  if (v.is_number_float()) return static_cast<T>(v.get<double>());  // in range and integral: checked above
  if (v.is_number_unsigned()) return static_cast<T>(v.get<uint64_t>());
  return static_cast<T>(v.get<int64_t>());
}

// obj[key] as T if present (and not null), else def; a present field of the wrong kind is an error.
template <class T>
T json_int_or(const nlohmann::json& obj, const char* key, T def, const std::string& ctx) {
  if (!obj.is_object()) return def;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  return json_int<T>(*it, ctx + ": field '" + key + "'");
}

// obj.at(key) as T; a missing field is an error too.
template <class T>
T json_int_at(const nlohmann::json& obj, const char* key, const std::string& ctx) {
  if (!obj.is_object() || !obj.contains(key)) fail(ctx + ": missing field '" + key + "'");
  return json_int<T>(obj.at(key), ctx + ": field '" + key + "'");
}

template <class T>
std::vector<T> json_int_array(const nlohmann::json& v, const std::string& what) {
  if (!v.is_array()) fail(what + ": expected an array of integers, got " + v.dump().substr(0, 40));
  std::vector<T> out;
  out.reserve(v.size());
  for (const auto& x : v) out.push_back(json_int<T>(x, what));
  return out;
}

}  // namespace squint
