#pragma once
// The two solvers for the multiple-choice knapsack of plan/problem.h (plan/planner.h turns their
// solutions into plans).
//
// exact: the LP relaxation (greedy over each item's lower convex hull) gives the Lagrange multiplier λ*
// and the lower bound L; a greedy fill gives an incumbent U; reduced-cost fixing at λ* removes every option
// that cannot be in a solution better than U; a Pareto-frontier DP over (bytes, cost) on the remaining
// options then finds the optimum and proves it (gap 0). If the frontier outgrows its cap, the incumbent is
// returned with the bound L and the true remaining gap.
// greedy: the published one-pass greedy over upgrade efficiencies (baseline).
#include <cstdint>
#include <string>
#include <vector>

#include "plan/problem.h"

namespace squint {

struct Solution {
  std::vector<std::size_t> choice;  // option index per item
  uint64_t bytes = 0;
  double objective = 0;
  double bound = 0;    // proven lower bound on the optimal objective
  bool proven = false;
  std::string solver;
};

// max_states: the deterministic work limit of the DP (0: LP + greedy fill only, bound still reported).
constexpr std::size_t kDefaultMaxStates = 1u << 18;
// guard: when the DP is truncated, also run the published greedy and keep the better (exact never loses).
Solution solve_exact(const PlanProblem& p, uint64_t budget, std::size_t max_states = kDefaultMaxStates,
                     bool guard = true);
Solution solve_greedy(const PlanProblem& p, uint64_t budget);

}  // namespace squint
