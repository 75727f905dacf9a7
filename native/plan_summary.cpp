#include "plan_summary.h"

#include <fmt/core.h>

#include <algorithm>

#include "plan/preview.h"
#include "util/units.h"

namespace squint {

// Text layout of core's plan preview (the page draws the same preview).
std::string plan_summary(const Plan& p, const Analysis& a, const std::string& unit) {
  const PlanPreview v = plan_preview(p, a);
  std::string out;
  auto sz = [&](uint64_t b) { return show_size(b, unit); };
  // GGUF: a type's bits per weight are its bytes (Q4_K: 4.5), so there is no separate "nominal" figure.
  out += p.format == QFormat::Gguf
             ? fmt::format("size {} of budget {} ({:.1f}%), {:.3f} bits/weight\n", sz(v.total_bytes),
                           sz(v.budget_bytes), v.budget_percent, v.bpw_effective)
             : fmt::format("size {} of budget {} ({:.1f}%), {:.3f} bits/weight effective, {:.3f} nominal\n",
                           sz(v.total_bytes), sz(v.budget_bytes), v.budget_percent, v.bpw_effective, v.bpw_nominal);
  out += fmt::format("objective {:.6g}, lower bound {:.6g}, gap {:.3g} ({}{})\n", v.objective, v.bound, v.gap, v.solver,
                     v.proven_optimal ? ", proven optimal" : "");
  if (p.format != QFormat::Gguf) {  // a GGUF plan's mix is by type (its "bits" would be nominal, Q4_K's 4 for 4.5)
    out += "bits:";
    for (const auto& m : v.mix)
      out +=
          fmt::format("  {}: {:.1f}%", m.bits == kKeepBits ? std::string("keep") : std::to_string(m.bits), m.percent);
    out += " of parameters\n";
  }
  if (!v.type_mix.empty()) {  // GGUF: the mix by type, kept tensors under the float type the file holds them in
    out += "types:";
    for (const auto& m : v.type_mix) out += fmt::format("  {}: {:.1f}%", m.type, m.percent);
    out += " of parameters\n";
  }
  if (!v.rows.empty()) {
    out += p.format == QFormat::Gguf ? "\nper layer (GGUF type; F16, BF16 or F32 = kept in that float type):\n  layer"
                                     : "\nper layer (bits/group, 16 = kept):\n  layer";
    // Each column as wide as its name or its widest label (at least 8): "experts.down", "Q4_K,Q5_K".
    std::vector<std::size_t> width;
    for (std::size_t c = 0; c < v.columns.size(); ++c) {
      width.push_back(std::max<std::size_t>(8, v.columns[c].size()));
      for (const auto& r : v.rows) width[c] = std::max(width[c], r.cells[c].label.size());
    }
    for (std::size_t c = 0; c < v.columns.size(); ++c) out += fmt::format(" {:>{}}", v.columns[c], width[c]);
    out += "\n";
    for (const auto& r : v.rows) {
      out += fmt::format("  {:>5}", r.layer);
      for (std::size_t c = 0; c < r.cells.size(); ++c)
        out += fmt::format(" {:>{}}", r.cells[c].tensors.empty() ? std::string("-") : r.cells[c].label, width[c]);
      out += "\n";
    }
  }
  if (!v.others.empty()) {
    out += "other tensors:\n";
    for (std::size_t i : v.others) out += fmt::format("  {:<48} {}\n", p.tensors[i].name, v.labels[i]);
  }
  return out;
}

}  // namespace squint
