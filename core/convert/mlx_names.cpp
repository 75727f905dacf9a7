#include "convert/mlx_names.h"

#include <cctype>

namespace squint {

namespace {

const char* kMixtralProj[][2] = {{"w1", "gate_proj"}, {"w2", "down_proj"}, {"w3", "up_proj"}};

}  // namespace

std::string module_path(const std::string& n) { return n.ends_with(".weight") ? n.substr(0, n.size() - 7) : n; }

std::optional<ExpertName> expert_stack_name(const std::string& name) {
  if (!name.ends_with(".weight")) return std::nullopt;
  const std::string key = ".experts.";
  auto p = name.rfind(key);
  if (p == std::string::npos) return std::nullopt;
  std::size_t q = p + key.size();
  int e = 0;
  std::size_t d = q;
  while (d < name.size() && isdigit(static_cast<unsigned char>(name[d]))) e = e * 10 + (name[d++] - '0');
  if (d == q || d >= name.size() || name[d] != '.') return std::nullopt;
  std::string proj = name.substr(d + 1, name.size() - 7 - (d + 1));
  if (proj.empty() || proj.find('.') != std::string::npos) return std::nullopt;
  const std::string prefix = name.substr(0, p);
  if (prefix.ends_with("block_sparse_moe"))
    for (auto& m : kMixtralProj)
      if (proj == m[0]) proj = m[1];
  return ExpertName{prefix + ".switch_mlp." + proj + ".weight", e};
}

std::optional<std::string> unstacked_expert_name(const std::string& stacked, int expert) {
  const std::string key = ".switch_mlp.";
  auto p = stacked.rfind(key);
  if (p == std::string::npos || !stacked.ends_with(".weight")) return std::nullopt;
  const std::string prefix = stacked.substr(0, p);
  std::string proj = stacked.substr(p + key.size(), stacked.size() - 7 - (p + key.size()));
  if (proj.empty() || proj.find('.') != std::string::npos) return std::nullopt;
  if (prefix.ends_with("block_sparse_moe"))
    for (auto& m : kMixtralProj)
      if (proj == m[1]) proj = m[0];
  return prefix + ".experts." + std::to_string(expert) + "." + proj + ".weight";
}

}  // namespace squint
