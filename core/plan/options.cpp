#include "plan/options.h"

#include <algorithm>

#include "plan/priors.h"
#include "plan/problem.h"
#include "util/error.h"
#include "util/units.h"

namespace squint {

void check_config_filters(const std::vector<int>& bits, const std::vector<int>& groups, QFormat format,
                          bool with_imatrix) {
  const std::vector<QConfig> all = format == QFormat::Gguf ? all_gguf_configs(with_imatrix) : all_configs();
  const std::string fmt = format == QFormat::Gguf ? "GGUF type" : "MLX config";
  auto offered = [&](auto field) {
    std::vector<int> v;
    for (QConfig c : all)
      if (std::find(v.begin(), v.end(), field(c)) == v.end()) v.push_back(field(c));
    std::sort(v.begin(), v.end());
    std::string s;
    for (int x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
    return std::make_pair(v, s);
  };
  const auto [bv, bs] = offered([](QConfig c) { return c.bits; });
  const auto [gv, gs] = offered([](QConfig c) { return c.group; });
  for (int b : bits)
    if (std::find(bv.begin(), bv.end(), b) == bv.end())
      fail("--bits " + std::to_string(b) + ": no " + fmt + " has " + std::to_string(b) + " bits (" + bs + ")");
  for (int g : groups)
    if (std::find(gv.begin(), gv.end(), g) == gv.end())
      fail("--group-sizes " + std::to_string(g) + ": no " + fmt + " has " +
           (format == QFormat::Gguf ? "blocks" : "groups") + " of " + std::to_string(g) + " (" + gs + ")");
}

PlanOptions plan_options_from(const PlanSettings& o, bool need_budget) {
  PlanOptions p;
  if (need_budget) {
    const int given = !o.budget.empty() + (o.bpw > 0) + o.min_safe;
    if (given > 1) fail("give one budget: --budget SIZE, --bpw BITS or --min-safe");
    if (!o.budget.empty()) {
      auto b = parse_size(o.budget);
      if (!b) fail("--budget: cannot read '" + o.budget + "' as a size (e.g. 24GB, 22.5GiB, 900MB, 123456789)");
      p.budget_bytes = *b;
      p.budget_spec = o.budget;
    } else if (o.bpw > 0) {
      p.bpw = o.bpw;
    } else if (o.min_safe) {
      p.min_safe = true;
    } else {
      fail("give a budget: --budget SIZE, --bpw BITS or --min-safe");
    }
  }
  p.floor_db = o.floor;
  check_objective(o.objective, "--objective");
  p.objective = o.objective;
  check_prior_set(o.prior_set, "--prior-set");
  p.prior_set = o.prior_set;
  p.solver = o.solver;
  for (const auto& s : o.priors) p.priors.push_back(parse_prior_override(s));
  std::vector<QConfig> base;
  if (o.preset == "mint8") base = {{2, 32}, {3, 64}, {4, 32}, {4, 64}, {4, 128}, {8, 64}, {8, 128}};
  else if (o.preset.empty() || o.preset == "all") base = all_configs();
  else fail("unknown preset '" + o.preset + "' (all, mint8)");
  // GGUF candidates too: an MLX analysis never offers them and a GGUF one never offers MLX configs, so one
  // option set serves both (the plan records only its own format's configs). mint8 is MLX only.
  if (o.preset != "mint8")
    for (QConfig c : all_gguf_configs(/*with_imatrix=*/true)) base.push_back(c);  // the analysis says which it has
  std::vector<GgmlType> types;
  for (const auto& n : o.types) {
    const GgmlTypeInfo* t = ggml_type_from_name(n);
    if (!t || t->block == 1) fail("--types: unknown GGUF quantization type '" + n + "' (e.g. Q4_K, Q6_K, IQ4_XS)");
    types.push_back(t->type);
  }
  for (QConfig c : base) {
    const bool bok = o.bits.empty() || std::find(o.bits.begin(), o.bits.end(), c.bits) != o.bits.end();
    const bool gok = o.groups.empty() || std::find(o.groups.begin(), o.groups.end(), c.group) != o.groups.end();
    const bool tok = !c.gguf() || types.empty() || std::find(types.begin(), types.end(), c.type) != types.end();
    if (bok && gok && tok) p.configs.push_back(c);
  }
  if (p.configs.empty()) fail("--bits/--group-sizes/--preset leave no config to choose from");
  return p;
}

}  // namespace squint
