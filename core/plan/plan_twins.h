#pragma once
// Lists of candidate plans that evaluate each distinct plan once (the lab's sweep, measured selection): a plan
// whose per-tensor choices (plan_choice_key) repeat an earlier item's is that item's duplicate and takes its
// twin's numbers after the evaluations. Twins are kept by index, not found again by a note's label (sweep
// labels such as "mse/flat at budget" are not unique when several budgets are given).
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plan/plan.h"

namespace squint {

class PlanTwins {
 public:
  // Item `i` holds plan `p`: the index of the earlier item with the same choices, or nullopt (item `i` is
  // the one evaluated for them).
  std::optional<std::size_t> add(const Plan& p, std::size_t i);
  // (duplicate, twin) index pairs in the order added; every twin is a first occurrence.
  const std::vector<std::pair<std::size_t, std::size_t>>& duplicates() const { return dups_; }

 private:
  std::map<std::string, std::size_t> first_;
  std::vector<std::pair<std::size_t, std::size_t>> dups_;
};

}  // namespace squint
