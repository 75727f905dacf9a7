#include "plan/problem.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "plan/priors.h"
#include "util/choices.h"
#include "util/error.h"
#include "util/json_guard.h"

namespace squint {

std::vector<std::string> objective_names() {
  return {"nrmse", "params", "output", "mse", "params-mse", "norm", "calibrated", "residual"};
}

void check_objective(const std::string& name, const std::string& flag) {
  check_one_of(name, objective_names(), "objective", flag);
}

bool objective_squares_error(const std::string& objective) {
  return objective == "mse" || objective == "params-mse" || objective == "norm" || objective == "calibrated" ||
         objective == "residual";
}

const char* objective_column_weighting(const std::string& objective) {
  if (objective == "norm") return "norm";
  if (objective == "calibrated") return "calibrated";
  return nullptr;
}

double option_nrmse(const std::string& objective, const ConfigResult& r) {
  return objective_column_weighting(objective) && r.weighted_nrmse >= 0 ? r.weighted_nrmse : r.nrmse;
}

double objective_distortion(const std::string& objective, double nrmse) {
  return objective_squares_error(objective) ? nrmse * nrmse : nrmse;
}

ObjectiveContext objective_context(const Analysis& a) {
  ObjectiveContext c;
  for (const auto& x : a.tensors) {
    c.measured += x.measured;
    c.layers = std::max(c.layers, x.role.layer + 1);
  }
  return c;
}

double objective_weight(const std::string& objective, const TensorAnalysis& t, const Analysis& a) {
  return objective_weight(objective, t, a, objective_context(a));
}

double objective_weight(const std::string& objective, const TensorAnalysis& t, const Analysis& a, const ObjectiveContext& ctx) {
  if (objective == "nrmse" || objective == "mse") return 1.0;
  if (objective == "params" || objective == "params-mse" || objective == "norm" || objective == "calibrated") {
    const std::size_t n = ctx.measured;
    // The parameters the forward pass uses: a tied embedding is used twice, as the input embedding and as
    // the lm_head, so its error enters the model twice (an untied model would count two such matrices).
    const double uses = t.role.role == Role::Embedding && a.tied_embeddings ? 2.0 : 1.0;
    return a.total_params ? uses * static_cast<double>(t.params) * static_cast<double>(n) / static_cast<double>(a.total_params) : 1.0;
  }
  if (objective == "residual") {
    // Relative noise reaching the logits: the lm_head's own relative error directly; every other matrix's
    // through the final hidden state h = embedding + Σ branch outputs (attention and MLP of each layer),
    // where, with the B + 1 terms of equal energy and uncorrelated (the data-free assumption), a term's
    // relative error is diluted by 1/(B + 1). Scaled by B + 1: 1 per matrix inside the model, B + 1 for
    // the lm_head, B + 2 for a tied embedding (both uses).
    const double head = 2.0 * ctx.layers + 1;
    if (t.role.role == Role::LmHead) return head;
    if (t.role.role == Role::Embedding) return a.tied_embeddings ? head + 1 : 1.0;
    return 1.0;
  }
  if (objective == "output") {
    const auto& f = t.features;
    if (f.is_object() && f.contains("output_noise")) {
      // features come from an analysis file: untrusted, so every access is checked.
      const auto& on = f["output_noise"];
      const nlohmann::json cfg = on.is_object() ? on.value("config", nlohmann::json::object()) : nlohmann::json::object();
      QConfig c{json_int_or<int>(cfg, "bits", 0, t.name + ": output_noise"),
                json_int_or<int>(cfg, "group_size", 0, t.name + ": output_noise")};
      const ConfigResult* r = t.find(c);
      const double fo = on.is_object() && on.contains("f_out") && on["f_out"].is_number() ? on["f_out"].get<double>() : 0.0;
      if (r && r->nrmse > 0 && fo > 0) return fo / r->nrmse;
    }
    return 1.0;
  }
  check_objective(objective);
  fail("internal error: objective '" + objective + "' is listed but has no weight");
}

namespace {

void prune_dominated(std::vector<PlanOption>& v) {
  std::stable_sort(v.begin(), v.end(), [](const PlanOption& a, const PlanOption& b) {
    if (a.bytes != b.bytes) return a.bytes < b.bytes;
    if (a.cost != b.cost) return a.cost < b.cost;
    if (a.bits != b.bits) return a.bits < b.bits;
    if (a.group != b.group) return a.group < b.group;
    return static_cast<int>(a.type) < static_cast<int>(b.type);
  });
  std::vector<PlanOption> out;
  for (const auto& o : v)
    if (out.empty() || o.cost < out.back().cost) out.push_back(o);
  v.swap(out);
}

// Lower convex hull of an item's Pareto options (bytes ascending, cost descending): indices.
std::vector<std::size_t> lower_hull(const std::vector<PlanOption>& o) {
  std::vector<std::size_t> h;
  for (std::size_t k = 0; k < o.size(); ++k) {
    while (h.size() >= 2) {
      const auto& a = o[h[h.size() - 2]];
      const auto& b = o[h.back()];
      const auto& c = o[k];
      // b is above the segment a–c (or on it): drop it. Cross-multiplied slopes, in double.
      const double lhs = (b.cost - a.cost) * static_cast<double>(c.bytes - a.bytes);
      const double rhs = (c.cost - a.cost) * static_cast<double>(b.bytes - a.bytes);
      if (lhs >= rhs) h.pop_back();
      else break;
    }
    h.push_back(k);
  }
  return h;
}

}  // namespace

PlanProblem build_problem(const Analysis& a, const PlanOptions& opt) {
  PlanProblem p;
  p.floor_db = opt.floor_db;
  p.total_params = 0;
  for (const auto& t : a.tensors) p.total_params += t.params;
  check_objective(opt.objective);
  const ObjectiveContext ctx = objective_context(a);
  if (const char* need = objective_column_weighting(opt.objective); need && a.column_weighting != need)
    fail(std::string("objective '") + opt.objective + "' needs an analysis made with " +
         (std::string(need) == "norm" ? "`analyze --norm-weights`" : "`analyze --calibrate TEXT`") +
         (a.column_weighting.empty() ? " (this one has no column weights)"
                                     : " (this one has '" + a.column_weighting + "' weights)"));

  // Items in analysis order; experts that must share a config join the item of their first member.
  std::map<std::string, std::size_t> by_key;
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    const auto& t = a.tensors[i];
    const std::string key = t.measured ? t.role.group_key : t.name;
    auto it = by_key.find(key);
    if (it == by_key.end() || !t.measured) {
      by_key[key] = p.items.size();
      PlanItem item;
      item.key = key;
      item.tensors.push_back(i);
      p.items.push_back(std::move(item));
    } else {
      p.items[it->second].tensors.push_back(i);
    }
  }

  for (auto& item : p.items) {
    uint64_t keep_bytes = 0, params = 0;
    double keep_d = 0, keep_db = kMaxSqnrDb, prior = 0, weight = 0;
    bool measured = true;
    for (std::size_t ti : item.tensors) {
      const auto& t = a.tensors[ti];
      keep_bytes += t.keep_bytes;
      params += t.params;
      keep_d += static_cast<double>(t.params) * objective_distortion(opt.objective, t.keep_nrmse);
      keep_db = std::min(keep_db, t.keep_sqnr_db);
      prior = std::max(prior, tensor_prior(t, opt.prior_set, opt.priors));
      weight += static_cast<double>(t.params) * objective_weight(opt.objective, t, a, ctx);
      measured = measured && t.measured;
    }
    item.params = params;
    item.prior = prior;
    item.weight = params ? weight / static_cast<double>(params) : 1.0;
    PlanOption keep;
    keep.bytes = keep_bytes;
    keep.d = params ? keep_d / static_cast<double>(params) : 0.0;
    keep.sqnr_db = keep_db;
    const auto& first = a.tensors[item.tensors.front()];
    if (!measured) {
      item.fixed = true;
      item.fixed_reason = first.reason.empty() ? "not measured; kept" : first.reason;
    } else if (std::isinf(prior)) {
      item.fixed = true;
      item.fixed_reason = "prior inf: always kept";
    }
    if (item.fixed) {
      keep.cost = 0;
      item.options = {keep};
      continue;
    }
    keep.cost = prior * item.weight * keep.d;
    std::vector<PlanOption> opts{keep};
    // A config is an option only if every member measured it and every member clears the floor.
    for (const auto& r0 : first.results) {
      if (!opt.allows(r0.config)) continue;
      if (first.role.role == Role::Router && r0.config.bits < 8) continue;  // routers: 8 bits or more (priors.h)
      PlanOption o;
      o.bits = r0.config.bits;
      o.group = r0.config.group;
      o.format = r0.config.format;
      o.type = r0.config.type;
      o.sqnr_db = kMaxSqnrDb;
      double d = 0;
      bool all = true;
      for (std::size_t ti : item.tensors) {
        const ConfigResult* r = a.tensors[ti].find(r0.config);
        if (!r) {
          all = false;
          break;
        }
        o.bytes += r->bytes;
        d += static_cast<double>(a.tensors[ti].params) * objective_distortion(opt.objective, option_nrmse(opt.objective, *r));
        o.sqnr_db = std::min(o.sqnr_db, r->sqnr_db);
      }
      if (!all) continue;
      if (o.sqnr_db < opt.floor_db) {
        ++item.dropped_by_floor;
        continue;
      }
      o.d = params ? d / static_cast<double>(params) : 0.0;
      o.cost = prior * item.weight * o.d;
      opts.push_back(o);
    }
    prune_dominated(opts);
    item.options = std::move(opts);
    if (item.options.size() == 1) {
      item.fixed = true;
      item.fixed_reason = item.dropped_by_floor ? "no config clears the SQNR floor; kept" : "no allowed config is smaller; kept";
    }
  }
  finish_problem(p);
  return p;
}

void finish_problem(PlanProblem& p) {
  p.min_bytes = p.max_bytes = 0;
  p.segments.clear();
  for (const auto& item : p.items) {
    p.min_bytes += item.options.front().bytes;
    p.max_bytes += item.options.back().bytes;
  }
  for (std::size_t i = 0; i < p.items.size(); ++i) {
    const auto& o = p.items[i].options;
    if (o.size() < 2) continue;
    auto h = lower_hull(o);
    for (std::size_t k = 0; k + 1 < h.size(); ++k) {
      const uint64_t db = o[h[k + 1]].bytes - o[h[k]].bytes;
      p.segments.push_back({i, h[k], h[k + 1], (o[h[k]].cost - o[h[k + 1]].cost) / static_cast<double>(db), db});
    }
  }
  std::sort(p.segments.begin(), p.segments.end(), [](const HullSegment& a, const HullSegment& b) {
    if (a.eff != b.eff) return a.eff > b.eff;
    if (a.item != b.item) return a.item < b.item;
    return a.from < b.from;
  });
}

}  // namespace squint
