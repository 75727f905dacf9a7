#include "plan_cli.h"

#include "applies.h"
#include "plan/priors.h"
#include "plan/problem.h"

namespace squint {

std::vector<CLI::Option*> add_plan_options(CLI::App& app, PlanCli& o, bool with_budget) {
  if (with_budget) {
    auto* b =
        always(app.add_option("--budget", o.budget, "total size: 24GB, 22.5GiB, 900MB or bytes (covers every tensor)"));
    auto* w = always(
        app.add_option("--bpw", o.bpw, "average bits per weight over all parameters")->check(CLI::PositiveNumber));
    auto* m = always(app.add_flag("--min-safe", o.min_safe, "the smallest plan with every tensor above the floor"));
    b->excludes(w)->excludes(m);
    w->excludes(m);
  }
  std::vector<CLI::Option*> tuning{
      always(app.add_option("--floor", o.floor, "SQNR floor in dB: configs below it are never chosen")
                 ->capture_default_str()),
      always(app.add_option("--objective", o.objective,
                            "params-mse (params·NRMSE², default) | mse (NRMSE²) | nrmse (published) | params | output "
                            "(needs analyze --features) | residual (lm_head/tied embedding weighted by the residual "
                            "stream's dilution of the rest); see docs/objectives.md")
                 ->check(CLI::IsMember(objective_names()))
                 ->capture_default_str()),
      only_with(app.add_option("--preset", o.preset, "MLX plans: mint8 (the published 7 configs + keep) or all")
                    ->check(CLI::IsMember({"mint8", "all"})),
                mode::mlx),
      // GGUF plans too: a ggml type has nominal bits and a block (Q4_K: 4, 256), so these select types.
      always(app.add_option("--bits", o.bits, "allowed bit widths, e.g. 3,4,8 (GGUF plans: the types' nominal bits)")
                 ->delimiter(',')
                 ->check(CLI::IsMember({2, 3, 4, 5, 6, 8}))),
      always(app.add_option("--group-sizes", o.groups, "allowed group sizes, e.g. 64,128 (GGUF block sizes: 32, 256)")
                 ->delimiter(',')
                 ->check(CLI::IsMember({32, 64, 128, 256}))),
      only_with(
          app.add_option("--types", o.types, "GGUF plans: allowed ggml types, e.g. Q4_K,Q6_K,Q8_0,IQ3_S (default: all the analysis measured)")
              ->delimiter(','),
          mode::gguf),
      always(
          app.add_option(
                 "--prior-set", o.prior_set,
                 "base priors: flat (all 1, default) | roles (published: embedding/lm_head 10, first layer 3, last 2)")
              ->check(CLI::IsMember(prior_set_names()))
              ->capture_default_str()),
      always(app.add_option("--prior", o.priors,
                            "PATTERN=VALUE: override the prior of matching tensors (glob or re:REGEX; inf = keep)")),
      always(app.add_option("--solver", o.solver, "exact (certified optimal) | greedy (the published baseline)")
                 ->check(CLI::IsMember({"exact", "greedy"}))
                 ->capture_default_str())};
  return tuning;
}

PlanOptions make_plan_options(const PlanCli& o, bool need_budget) { return plan_options_from(o, need_budget); }

}  // namespace squint
