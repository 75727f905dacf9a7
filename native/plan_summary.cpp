#include "plan_summary.h"

#include <fmt/core.h>

#include <map>

#include "util/units.h"

namespace squint {

namespace {
std::string cell(const PlanTensor& t) {
  if (t.keep()) return "16";
  return fmt::format("{}/{}", t.bits, t.group_size);
}
}  // namespace

std::string plan_summary(const Plan& p, const Analysis& a, const std::string& unit) {
  std::string out;
  auto sz = [&](uint64_t b) { return unit.empty() || unit == "B" ? human_size(b) : format_size(b, unit); };
  out += fmt::format("size {} of budget {} ({:.1f}%), {:.3f} bits/weight effective, {:.3f} nominal\n",
                     sz(p.total_bytes), sz(p.budget_bytes),
                     p.budget_bytes ? 100.0 * static_cast<double>(p.total_bytes) / static_cast<double>(p.budget_bytes) : 0.0,
                     p.bpw_effective, p.bpw_nominal);
  out += fmt::format("objective {:.6g}, lower bound {:.6g}, gap {:.3g} ({}{})\n", p.objective, p.bound, p.gap, p.solver,
                     p.gap == 0 && p.solver == "exact" ? ", proven optimal" : "");
  std::map<int, uint64_t> mix;
  for (const auto& t : p.tensors) mix[t.bits] += t.params;
  out += "bits:";
  for (const auto& [b, n] : mix)
    out += fmt::format("  {}: {:.1f}%", b == kKeepBits ? std::string("keep") : std::to_string(b),
                       100.0 * static_cast<double>(n) / static_cast<double>(p.total_params ? p.total_params : 1));
  out += " of parameters\n";
  // Per-layer map over projection roles; other tensors listed below it.
  const std::vector<std::pair<Role, const char*>> cols = {
      {Role::AttnQ, "q"},      {Role::AttnK, "k"},       {Role::AttnV, "v"},     {Role::AttnO, "o"},
      {Role::AttnQKV, "qkv"},  {Role::MlpGate, "gate"},  {Role::MlpUp, "up"},    {Role::MlpDown, "down"},
      {Role::MlpGateUp, "gate_up"}, {Role::MoeExpert, "experts"}, {Role::SharedExpert, "shared"}, {Role::Router, "router"}};
  std::map<int, std::map<Role, std::string>> grid;
  std::map<Role, bool> used;
  std::vector<std::string> others;
  for (std::size_t i = 0; i < p.tensors.size() && i < a.tensors.size(); ++i) {
    const auto& t = p.tensors[i];
    const auto& ta = a.tensors[i];
    if (ta.shape.size() < 2) continue;
    bool in_grid = ta.role.layer >= 0;
    if (in_grid) {
      bool known = false;
      for (const auto& c : cols) known = known || c.first == ta.role.role;
      in_grid = known;
    }
    if (in_grid) {
      auto& s = grid[ta.role.layer][ta.role.role];
      const std::string c = cell(t);
      if (s.empty()) s = c;
      else if (s.find(c) == std::string::npos) s += "," + c;
      used[ta.role.role] = true;
    } else {
      others.push_back(fmt::format("  {:<48} {}", t.name, cell(t)));
    }
  }
  if (!grid.empty()) {
    out += "\nper layer (bits/group, 16 = kept):\n  layer";
    for (const auto& c : cols)
      if (used[c.first]) out += fmt::format(" {:>8}", c.second);
    out += "\n";
    for (const auto& [layer, row] : grid) {
      out += fmt::format("  {:>5}", layer);
      for (const auto& c : cols)
        if (used[c.first]) {
          auto it = row.find(c.first);
          out += fmt::format(" {:>8}", it == row.end() ? "-" : it->second);
        }
      out += "\n";
    }
  }
  if (!others.empty()) {
    out += "other tensors:\n";
    for (const auto& s : others) out += s + "\n";
  }
  return out;
}

}  // namespace squint
