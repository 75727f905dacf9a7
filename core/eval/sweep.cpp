#include "eval/sweep.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "convert/quantized_weights.h"
#include "model/stored_linear.h"
#include "plan/options.h"
#include "plan/plan_twins.h"
#include "plan/planner.h"
#include "plan/uniform.h"
#include "util/error.h"

namespace squint {

PlanOptions sweep_plan_options(const SweepSetting& s, uint64_t budget, double floor_db) {
  PlanSettings ps;
  ps.budget = std::to_string(budget);
  ps.floor = floor_db;
  ps.objective = s.objective;
  ps.prior_set = s.priors;  // validated by plan_options_from
  return plan_options_from(ps, true);
}

FloorGap floor_gap(const Analysis& a, double floor_db) {
  FloorGap g;
  std::vector<std::pair<double, int>> v;  // (SQNR, bits)
  for (const auto& t : a.tensors) {
    if (!t.measured) continue;
    for (const auto& r : t.results) {
      if (r.config.bits == 2) {
        g.max_2bit_db = g.has_2bit ? std::max(g.max_2bit_db, r.sqnr_db) : r.sqnr_db;
        g.has_2bit = true;
        g.above_floor_2bit += r.sqnr_db >= floor_db;
        v.emplace_back(r.sqnr_db, 2);
      } else if (r.config.bits == 3) {
        g.min_3bit_db = g.has_3bit ? std::min(g.min_3bit_db, r.sqnr_db) : r.sqnr_db;
        g.has_3bit = true;
        v.emplace_back(r.sqnr_db, 3);
      }
    }
  }
  if (!g.has_2bit || !g.has_3bit) return g;
  g.separated = g.max_2bit_db < g.min_3bit_db;
  // Largest empty interval between consecutive SQNRs, searched where the two populations meet.
  std::sort(v.begin(), v.end());
  const double lo = std::min(g.max_2bit_db, g.min_3bit_db), hi = std::max(g.max_2bit_db, g.min_3bit_db);
  for (std::size_t i = 0; i + 1 < v.size(); ++i) {
    if (v[i + 1].first < lo || v[i].first > hi) continue;
    if (v[i + 1].first - v[i].first > g.gap_hi - g.gap_lo) {
      g.gap_lo = v[i].first;
      g.gap_hi = v[i + 1].first;
    }
  }
  return g;
}

namespace {

struct Job {
  std::size_t row;
  Plan plan;
  bool noise = false;
};

}  // namespace

SweepResult run_sweep(const Checkpoint& ck, const Analysis& a, const ModelHparams& cfg, const EvalWindows& w,
                      const SweepOptions& opt) {
  if (a.fingerprint != ck.fingerprint) fail("the analysis was made for a different model than " + ck.location);
  SweepResult res;
  res.gap = floor_gap(a, opt.floor_db);
  const double params = static_cast<double>(a.total_params);

  // Sizes: every valid uniform config in the bpw range, then the given budgets; ascending.
  struct Size {
    uint64_t bytes;
    std::string name;
    std::optional<Plan> uniform;
    QConfig c{0, 0};
  };
  std::vector<Size> sizes;
  for (QConfig c : a.configs) {
    if (!uniform_config_valid(a, c)) continue;
    Plan u = uniform_plan(a, c);
    const double bpw = 8.0 * static_cast<double>(u.total_bytes) / params;
    if (bpw < opt.min_bpw || bpw > opt.max_bpw) continue;
    sizes.push_back({u.total_bytes, "uniform " + config_name(c), std::move(u), c});
  }
  for (uint64_t b : opt.budgets) sizes.push_back({b, "budget", std::nullopt, {0, 0}});
  std::stable_sort(sizes.begin(), sizes.end(), [](const Size& x, const Size& y) { return x.bytes < y.bytes; });

  std::vector<Job> jobs;
  PlanTwins twins;  // rows with the same plan as an earlier row
  auto add = [&](SweepRow row, std::optional<Plan> plan) {
    const std::size_t r = res.rows.size();
    if (plan) {
      row.bytes = plan->total_bytes;
      row.bpw = 8.0 * static_cast<double>(plan->total_bytes) / params;
      if (const auto twin = twins.add(*plan, r)) {
        const SweepRow& o = res.rows[*twin];
        row.note = "same plan as " + (o.kind == "uniform" ? o.size : o.setting + " at " + o.size);
      } else {
        jobs.push_back({r, std::move(*plan)});
      }
    }
    res.rows.push_back(std::move(row));
  };
  // One planning problem per setting, built on first use: it does not depend on the budget, and building
  // it (per-tensor choices, priors, weights) is most of a plan's cost when the sweep plans many sizes.
  std::vector<std::optional<PlanProblem>> problems(opt.settings.size());
  for (auto& s : sizes) {
    if (s.uniform) {
      SweepRow row;
      row.kind = "uniform";
      row.size = s.name;
      row.target_bytes = s.bytes;
      row.config = s.c;
      add(row, s.uniform);
    }
    for (std::size_t si = 0; si < opt.settings.size(); ++si) {
      const SweepSetting& st = opt.settings[si];
      SweepRow row;
      row.kind = "squint";
      row.size = s.name;
      row.target_bytes = s.bytes;
      row.setting = st.name();
      std::optional<Plan> p;
      try {
        const PlanOptions po = sweep_plan_options(st, s.bytes, opt.floor_db);
        if (!problems[si]) problems[si] = build_problem(a, po);
        p = make_plan(a, *problems[si], po);
      } catch (const InfeasibleError& e) {
        row.note = std::string("infeasible: ") + e.what();
      }
      add(row, std::move(p));
    }
  }
  // The matched-noise control: Gaussian noise with each tensor's SQNR under one uniform config.
  std::optional<Plan> noise_plan;
  QConfig nc = opt.noise_config;
  if (opt.noise_seeds > 0) {
    for (const auto& s : sizes)
      if (s.uniform && s.c == nc) noise_plan = s.uniform;
    if (!noise_plan)
      for (const auto& s : sizes)
        if (s.uniform) {
          noise_plan = s.uniform;
          nc = s.c;
          break;
        }
  }
  if (noise_plan)
    for (int k = 1; k <= opt.noise_seeds; ++k) {
      SweepRow row;
      row.kind = "noise";
      row.size = "uniform " + config_name(nc);
      row.target_bytes = noise_plan->total_bytes;
      row.config = nc;
      row.seed = static_cast<uint64_t>(k);
      row.bytes = noise_plan->total_bytes;
      row.bpw = 8.0 * static_cast<double>(row.bytes) / params;
      jobs.push_back({res.rows.size(), *noise_plan, true});
      res.rows.push_back(row);
    }

  // The float model once (F16/BF16 matrices in their stored precision); its log-probabilities are cached for
  // every comparison, and each candidate's model shares its unchanged matrices.
  Model base_model(cfg, float_weights(ck), stored_linears(ck, opt.parallel));
  EvalBase base(base_model, w, opt.parallel, opt.base_progress);
  res.base = ppl_stats(base.windows());
  res.windows = w.chosen.size();
  res.tokens = res.base.tokens;
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    SweepRow& row = res.rows[jobs[j].row];
    if (opt.progress) opt.progress(j, jobs.size(), row.kind == "squint" ? row.setting + " at " + row.size : row.size);
    WeightSource src;
    std::set<std::string> changed;  // the rest is shared with the float model
    if (jobs[j].noise) {
      std::map<std::string, double> sq;
      for (const auto& t : jobs[j].plan.tensors)
        if (!t.keep()) {
          sq[t.name] = t.sqnr_db;
          changed.insert(t.name);
        }
      WeightSource fl = float_weights(ck);
      const uint64_t seed = row.seed;
      src = [fl, sq, seed](const std::string& name, std::vector<int64_t>* shape, std::vector<float>* data) {
        if (!fl(name, shape, data)) return false;
        auto it = sq.find(name);
        if (it != sq.end()) add_matched_noise(data->data(), data->size(), it->second, seed, name);
        return true;
      };
    } else {
      src = quantized_weights(ck, jobs[j].plan, opt.parallel);
      changed = plan_changed_tensors(ck, jobs[j].plan);
    }
    Model m(cfg, src, shared_linears(base_model.weights(), changed));
    const EvalResult r = evaluate(m, w, opt.parallel, {}, &base);
    row.evaluated = true;
    row.ppl = r.ppl;
    row.kl = r.kl;
  }
  if (opt.progress) opt.progress(jobs.size(), jobs.size(), "");
  // Rows that share a plan share its numbers.
  for (const auto& [d, t] : twins.duplicates()) {
    res.rows[d].ppl = res.rows[t].ppl;
    res.rows[d].kl = res.rows[t].kl;
  }
  double kmin = 0, kmax = 0, pmin = 0, pmax = 0;
  bool first = true;
  for (const auto& row : res.rows)
    if (row.kind == "noise") {
      kmin = first ? row.kl.mean : std::min(kmin, row.kl.mean);
      kmax = first ? row.kl.mean : std::max(kmax, row.kl.mean);
      pmin = first ? row.kl.d_median_ppl : std::min(pmin, row.kl.d_median_ppl);
      pmax = first ? row.kl.d_median_ppl : std::max(pmax, row.kl.d_median_ppl);
      first = false;
    }
  res.noise_kl_spread = kmax - kmin;
  res.noise_ppl_spread = pmax - pmin;
  return res;
}

nlohmann::json sweep_json(const SweepResult& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& x : r.rows) {
    nlohmann::json j = {{"kind", x.kind}, {"size", x.size}, {"target_bytes", x.target_bytes}, {"bytes", x.bytes},
                        {"bpw", x.bpw}, {"note", x.note}};
    if (x.kind != "squint") j["config"] = {{"bits", x.config.bits}, {"group_size", x.config.group}};
    if (x.kind == "squint") j["setting"] = x.setting;
    if (x.kind == "noise") j["seed"] = x.seed;
    if (x.bytes > 0) {
      j["median_ppl"] = x.ppl.median_ppl;
      j["mean_ppl"] = x.ppl.mean_ppl;
      j["kl"] = kl_json(x.kl);
    }
    rows.push_back(j);
  }
  return {{"format", "squint.sweep"},
          {"version", 1},
          {"windows", r.windows},
          {"tokens", r.tokens},
          {"float", {{"median_ppl", r.base.median_ppl}, {"mean_ppl", r.base.mean_ppl}}},
          {"floor_gap",
           {{"max_2bit_db", r.gap.max_2bit_db},
            {"min_3bit_db", r.gap.min_3bit_db},
            {"separated", r.gap.separated},
            {"largest_empty_interval_db", {r.gap.gap_lo, r.gap.gap_hi}},
            {"2bit_configs_above_floor", r.gap.above_floor_2bit}}},
          {"noise_spread", {{"kl_mean", r.noise_kl_spread}, {"delta_median_ppl_pct", r.noise_ppl_spread}}},
          {"rows", rows}};
}

std::string sweep_csv(const SweepResult& r) {
  std::string s = "kind,size,target_bytes,setting,bits,group_size,seed,bytes,bpw,kl_mean,kl_median,kl_p99,top1,median_ppl,mean_ppl,note\n";
  char b[512];
  for (const auto& x : r.rows) {
    std::snprintf(b, sizeof b, "%s,%s,%llu,%s,%d,%d,%llu,%llu,%.6f,%.8g,%.8g,%.8g,%.6f,%.6f,%.6f,\"%s\"\n", x.kind.c_str(),
                  x.size.c_str(), static_cast<unsigned long long>(x.target_bytes), x.setting.c_str(), x.config.bits,
                  x.config.group, static_cast<unsigned long long>(x.seed), static_cast<unsigned long long>(x.bytes), x.bpw,
                  x.kl.mean, x.kl.median, x.kl.p99, x.kl.top1, x.ppl.median_ppl, x.ppl.mean_ppl, x.note.c_str());
    s += b;
  }
  return s;
}

}  // namespace squint
