#include "plan/solver.h"

#include <algorithm>
#include <cmath>
#include <span>

namespace squint {

namespace {

double cost_of(const PlanProblem& p, const std::vector<std::size_t>& choice) {
  double c = 0;
  for (std::size_t i = 0; i < p.items.size(); ++i) c += p.items[i].options[choice[i]].cost;
  return c;
}

uint64_t bytes_of(const PlanProblem& p, const std::vector<std::size_t>& choice) {
  uint64_t b = 0;
  for (std::size_t i = 0; i < p.items.size(); ++i) b += p.items[i].options[choice[i]].bytes;
  return b;
}

struct LpResult {
  std::vector<std::size_t> choice;  // integer part of the LP solution (hull points)
  double lambda = 0;
  double bound = 0;
  std::size_t next = 0;             // first segment not taken
};

LpResult lp_relaxation(const PlanProblem& p, uint64_t budget) {
  LpResult r;
  r.choice.assign(p.items.size(), 0);
  const auto& segs = p.segments;
  uint64_t used = p.min_bytes;
  double cost = cost_of(p, r.choice);
  std::size_t s = 0;
  for (; s < segs.size(); ++s) {
    const HullSegment& g = segs[s];
    if (used + g.db > budget) break;
    used += g.db;
    cost -= g.eff * static_cast<double>(g.db);
    r.choice[g.item] = g.to;
  }
  r.next = s;
  if (s < segs.size()) {
    r.lambda = segs[s].eff;
    r.bound = cost - r.lambda * static_cast<double>(budget - used);
  } else {
    r.lambda = 0;
    r.bound = cost;
  }
  return r;
}

}  // namespace

Solution solve_greedy(const PlanProblem& p, uint64_t budget) {
  // The published allocator: everything starts at its cheapest safe option; repeatedly apply the upgrade
  // with the best cost saved per extra byte among those that still fit. A heap holds each item's best
  // upgrade; stale entries (item moved, or no longer fits) are recomputed when they surface.
  Solution s;
  s.solver = "greedy";
  s.choice.assign(p.items.size(), 0);
  uint64_t used = p.min_bytes;
  struct Up {
    double eff;
    std::size_t item, from, to;
  };
  auto worse = [](const Up& a, const Up& b) {
    if (a.eff != b.eff) return a.eff < b.eff;
    if (a.item != b.item) return a.item > b.item;
    return a.to > b.to;
  };
  auto best_upgrade = [&](std::size_t i, Up* up) {
    const auto& o = p.items[i].options;
    const auto& cur = o[s.choice[i]];
    const uint64_t room = budget - used;
    bool found = false;
    for (std::size_t k = s.choice[i] + 1; k < o.size(); ++k) {
      const uint64_t db = o[k].bytes - cur.bytes;
      if (db > room) break;
      const double e = (cur.cost - o[k].cost) / static_cast<double>(db);
      if (!found || e > up->eff) {
        *up = {e, i, s.choice[i], k};
        found = true;
      }
    }
    return found;
  };
  std::vector<Up> heap;
  for (std::size_t i = 0; i < p.items.size(); ++i) {
    Up u;
    if (best_upgrade(i, &u)) heap.push_back(u);
  }
  std::make_heap(heap.begin(), heap.end(), worse);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), worse);
    Up u = heap.back();
    heap.pop_back();
    const auto& o = p.items[u.item].options;
    const bool stale = s.choice[u.item] != u.from || o[u.to].bytes - o[u.from].bytes > budget - used;
    if (stale) {
      Up v;
      if (best_upgrade(u.item, &v)) {
        heap.push_back(v);
        std::push_heap(heap.begin(), heap.end(), worse);
      }
      continue;
    }
    used += o[u.to].bytes - o[u.from].bytes;
    s.choice[u.item] = u.to;
    Up v;
    if (best_upgrade(u.item, &v)) {
      heap.push_back(v);
      std::push_heap(heap.begin(), heap.end(), worse);
    }
  }
  s.bytes = bytes_of(p, s.choice);
  s.objective = cost_of(p, s.choice);
  s.bound = lp_relaxation(p, budget).bound;
  s.proven = false;
  return s;
}

Solution solve_exact(const PlanProblem& p, uint64_t budget, std::size_t max_states, bool guard) {
  Solution s;
  s.solver = "exact";
  LpResult lp = lp_relaxation(p, budget);
  // Incumbent: the LP's integer part, then every later hull step that still fits.
  std::vector<std::size_t> inc = lp.choice;
  uint64_t used = bytes_of(p, inc);
  for (std::size_t k = lp.next; k < p.segments.size(); ++k) {
    const HullSegment& g = p.segments[k];
    if (inc[g.item] == g.from && used + g.db <= budget) {
      inc[g.item] = g.to;
      used += g.db;
    }
  }
  double U = cost_of(p, inc);
  const double L = lp.bound;
  s.choice = inc;
  s.bound = L;
  const double eps = 1e-12 * std::max(1.0, std::abs(U));
  if (lp.next >= p.segments.size() || U - L <= eps) {
    s.proven = true;
    s.bound = U;
  } else {
    // Reduced costs at λ*: any solution x costs at least L + Σ rc(x), so options with rc > U − L are out.
    const double lam = lp.lambda, G = U - L;
    // Surviving options live in two flat arrays (one allocation per solve, not per item: a live re-plan
    // or a sweep calls this many times).
    struct Free {
      std::size_t item;
      std::span<const std::size_t> opts;
      std::span<const double> rc;
    };
    struct Range {
      std::size_t item, off, n;
    };
    std::vector<std::size_t> flat_opts;
    std::vector<double> flat_rc;
    std::vector<Range> ranges;
    std::vector<std::size_t> base(p.items.size());
    for (std::size_t i = 0; i < p.items.size(); ++i) {
      const auto& o = p.items[i].options;
      double m = o[0].cost + lam * static_cast<double>(o[0].bytes);
      for (const auto& x : o) m = std::min(m, x.cost + lam * static_cast<double>(x.bytes));
      const std::size_t off = flat_opts.size();
      for (std::size_t k = 0; k < o.size(); ++k) {
        const double rc = o[k].cost + lam * static_cast<double>(o[k].bytes) - m;
        if (rc <= G + eps) {
          flat_opts.push_back(k);
          flat_rc.push_back(rc);
        }
      }
      const std::size_t n = flat_opts.size() - off;
      base[i] = n == 0 ? inc[i] : flat_opts[off];
      if (n > 1) {
        ranges.push_back({i, off, n});
      } else {
        flat_opts.resize(off);
        flat_rc.resize(off);
      }
    }
    std::vector<Free> free;
    free.reserve(ranges.size());
    for (const Range& r : ranges)
      free.push_back({r.item, std::span<const std::size_t>(flat_opts.data() + r.off, r.n),
                      std::span<const double>(flat_rc.data() + r.off, r.n)});
    // Pareto DP over (bytes, cost) of the free items. A partial state is pruned when its reduced cost
    // plus λ* times the slack it must leave exceeds U − L, or when the rest cannot fit: every full solution
    // x costs at least L + Σ rc(x) + λ*·(B − bytes(x)). Items with the widest byte spread go first, so the
    // window of useful byte totals narrows quickly.
    std::stable_sort(free.begin(), free.end(), [&](const Free& x, const Free& y) {
      const auto& ox = p.items[x.item].options;
      const auto& oy = p.items[y.item].options;
      return ox[x.opts.back()].bytes - ox[x.opts.front()].bytes > oy[y.opts.back()].bytes - oy[y.opts.front()].bytes;
    });
    uint64_t fixed_bytes = 0;
    double fixed_cost = 0;
    std::vector<bool> is_free(p.items.size(), false);
    for (const auto& f : free) is_free[f.item] = true;
    for (std::size_t i = 0; i < p.items.size(); ++i)
      if (!is_free[i]) {
        fixed_bytes += p.items[i].options[base[i]].bytes;
        fixed_cost += p.items[i].options[base[i]].cost;
      }
    std::vector<uint64_t> min_rest(free.size() + 1, 0), max_rest(free.size() + 1, 0);
    for (std::size_t k = free.size(); k-- > 0;) {
      const auto& o = p.items[free[k].item].options;
      min_rest[k] = min_rest[k + 1] + o[free[k].opts.front()].bytes;
      max_rest[k] = max_rest[k + 1] + o[free[k].opts.back()].bytes;
    }
    struct State {
      uint64_t bytes;
      double cost, rc;
      uint32_t parent, opt;
    };
    // max_states is a deterministic work limit (never a clock: plans must be identical everywhere). Past
    // it the best solution seen is returned with its honest gap.
    std::size_t total_states = 0;
    std::vector<std::vector<State>> layers;
    layers.push_back({{fixed_bytes, fixed_cost, 0.0, 0, 0}});
    bool complete = fixed_bytes + min_rest[0] <= budget;
    std::vector<State> next;
    for (std::size_t k = 0; complete && k < free.size(); ++k) {
      const auto& f = free[k];
      const auto& o = p.items[f.item].options;
      next.clear();
      const auto& prev = layers.back();
      for (uint32_t si = 0; si < prev.size(); ++si)
        for (uint32_t j = 0; j < f.opts.size(); ++j) {
          const State& st = prev[si];
          const PlanOption& x = o[f.opts[j]];
          State ns{st.bytes + x.bytes, st.cost + x.cost, st.rc + f.rc[j], si, j};
          if (ns.rc > G + eps || ns.bytes + min_rest[k + 1] > budget) continue;
          const uint64_t reach = ns.bytes + max_rest[k + 1];
          if (reach < budget && ns.rc + lam * static_cast<double>(budget - reach) > G + eps) continue;
          next.push_back(ns);
        }
      std::sort(next.begin(), next.end(), [](const State& a, const State& b) {
        if (a.bytes != b.bytes) return a.bytes < b.bytes;
        if (a.cost != b.cost) return a.cost < b.cost;
        if (a.parent != b.parent) return a.parent < b.parent;
        return a.opt < b.opt;
      });
      std::vector<State> pareto;
      for (const auto& st : next)
        if (pareto.empty() || st.cost < pareto.back().cost) pareto.push_back(st);
      total_states += pareto.size();
      if (total_states > max_states || pareto.empty()) {
        complete = false;
        break;
      }
      layers.push_back(std::move(pareto));
    }
    // Reconstructs a full solution from state `si` of the deepest layer (later items at their base option).
    const std::size_t depth = layers.size() - 1;
    auto rebuild = [&](std::size_t si) {
      std::vector<std::size_t> ch = base;
      for (std::size_t q = depth; q-- > 0;) {
        const State& st = layers[q + 1][si];
        ch[free[q].item] = free[q].opts[st.opt];
        si = st.parent;
      }
      return ch;
    };
    uint64_t rest_bytes = 0;
    double rest_cost = 0;
    for (std::size_t q = depth; q < free.size(); ++q) {
      rest_bytes += p.items[free[q].item].options[base[free[q].item]].bytes;
      rest_cost += p.items[free[q].item].options[base[free[q].item]].cost;
    }
    const auto& last = layers.back();
    std::size_t best = last.size();
    for (std::size_t k = 0; k < last.size(); ++k)
      if (last[k].bytes + rest_bytes <= budget && (best == last.size() || last[k].cost < last[best].cost)) best = k;
    if (best < last.size() && depth > 0 && last[best].cost + rest_cost <= U) {
      std::vector<std::size_t> ch = rebuild(best);
      const double c = cost_of(p, ch);
      if (c <= U) {
        s.choice = ch;
        U = c;
      }
    }
    s.proven = complete && depth == free.size();
  }
  s.bytes = bytes_of(p, s.choice);
  s.objective = cost_of(p, s.choice);
  if (s.proven) s.bound = s.objective;
  // Never worse than the published greedy (it can only win if the DP was truncated).
  if (!s.proven && guard) {
    Solution g = solve_greedy(p, budget);
    if (g.objective < s.objective) {
      s.choice = g.choice;
      s.bytes = g.bytes;
      s.objective = g.objective;
    }
  }
  return s;
}

}  // namespace squint
