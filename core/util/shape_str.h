#pragma once
// "[2, 3]": how a tensor shape is spelled in messages and tables, once for every reader and verb.
#include <string>
#include <vector>

namespace squint {

template <class T>
std::string shape_str(const std::vector<T>& s) {
  std::string o = "[";
  for (std::size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + "]";
}

}  // namespace squint
