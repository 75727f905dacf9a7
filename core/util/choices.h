#pragma once
// A name that must be one of a fixed list (objectives, prior sets): one check, one message,
// "--flag: unknown <what> 'x' (choose a, b or c)", the list always the one the code accepts.
#include <algorithm>
#include <string>
#include <vector>

#include "util/error.h"

namespace squint {

inline void check_one_of(const std::string& name, const std::vector<std::string>& choices, const std::string& what,
                         const std::string& flag) {
  if (std::find(choices.begin(), choices.end(), name) != choices.end()) return;
  std::string list;
  for (std::size_t i = 0; i < choices.size(); ++i)
    list += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  fail((flag.empty() ? "" : flag + ": ") + "unknown " + what + " '" + name + "' (choose " + list + ")");
}

}  // namespace squint
