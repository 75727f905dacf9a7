#include "plan/priors.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <regex>

#include "util/choices.h"
#include "util/error.h"

namespace squint {

double default_prior(const TensorAnalysis& t, bool tied_embeddings) {
  switch (t.role.role) {
    case Role::Norm: return std::numeric_limits<double>::infinity();
    case Role::Embedding: return 10;  // tied or not: as lm_head it would get 10 too
    case Role::LmHead: return 10;
    case Role::Router: return std::numeric_limits<double>::infinity();  // see base_prior
    case Role::Vision: return 8;
    default: break;
  }
  (void)tied_embeddings;
  if (t.role.first_layer) return 3;
  if (t.role.last_layer) return 2;
  return 1;
}

std::vector<std::string> prior_set_names() { return {"flat", "roles"}; }

void check_prior_set(const std::string& name, const std::string& flag) {
  check_one_of(name, prior_set_names(), "prior set", flag);
}

double base_prior(const TensorAnalysis& t, const std::string& prior_set) {
  if (prior_set == "roles") return default_prior(t, false);
  // MoE routers (and Qwen2-MoE's shared-expert gate) are kept in every set: they are tiny, so a params-weighted
  // objective gives them no weight, yet every routing decision goes through them (llama.cpp keeps them F32,
  // mlx-lm's Qwen3-MoE 8-bit). --prior may lower it; the planner still never gives them fewer than 8 bits.
  if (prior_set == "flat")
    return t.role.role == Role::Norm || t.role.role == Role::Router ? std::numeric_limits<double>::infinity() : 1.0;
  check_prior_set(prior_set);
  fail("internal error: prior set '" + prior_set + "' is listed but has no rule");
}

namespace {
bool glob(const char* p, const char* s) {
  // Iterative glob with backtracking on the last '*'.
  const char *star = nullptr, *ss = nullptr;
  while (*s) {
    if (*p == '?' || *p == *s) {
      ++p;
      ++s;
    } else if (*p == '*') {
      star = p++;
      ss = s;
    } else if (star) {
      p = star + 1;
      s = ++ss;
    } else {
      return false;
    }
  }
  while (*p == '*') ++p;
  return *p == '\0';
}
}  // namespace

bool prior_pattern_matches(const std::string& pattern, const std::string& name) {
  if (pattern.rfind("re:", 0) == 0) return std::regex_search(name, std::regex(pattern.substr(3)));
  return glob(pattern.c_str(), name.c_str());
}

double tensor_prior(const TensorAnalysis& t, const std::string& prior_set,
                    const std::vector<std::pair<std::string, double>>& overrides) {
  double p = base_prior(t, prior_set);
  for (const auto& [pat, v] : overrides)
    if (prior_pattern_matches(pat, t.name)) p = v;
  return p;
}

std::pair<std::string, double> parse_prior_override(const std::string& s) {
  auto eq = s.rfind('=');
  if (eq == std::string::npos || eq == 0) fail("--prior '" + s + "': expected PATTERN=VALUE (e.g. '*.down_proj*=4', 're:lm_head=inf')");
  std::string pat = s.substr(0, eq), val = s.substr(eq + 1);
  if (pat.rfind("re:", 0) == 0) {
    try {
      std::regex r(pat.substr(3));
    } catch (const std::regex_error& e) {
      fail("--prior '" + s + "': invalid regular expression (" + e.what() + ")");
    }
  }
  if (val == "inf" || val == "Inf" || val == "INF") return {pat, std::numeric_limits<double>::infinity()};
  char* end = nullptr;
  double v = std::strtod(val.c_str(), &end);
  if (val.empty() || *end != '\0' || !(v > 0)) fail("--prior '" + s + "': VALUE must be a positive number or inf");
  return {pat, v};
}

}  // namespace squint
