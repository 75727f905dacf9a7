#pragma once
// mlx-lm's naming rules for a converted model: module paths and MoE expert stacks (formats.md A.2-A.5).
#include <optional>
#include <string>

namespace squint {

// "P.weight" -> "P"; other names unchanged.
std::string module_path(const std::string& weight_name);

// Separately stored MoE experts ("X.experts.E.proj.weight") and the stacked name MLX's switch layers load
// ("X.switch_mlp.proj'.weight", with Mixtral's w1/w2/w3 renamed gate_proj/down_proj/up_proj when X ends in
// "block_sparse_moe", as mlx-lm's mixtral.py sanitize() does).
struct ExpertName {
  std::string stacked;  // stacked weight name
  int expert = -1;
};
std::optional<ExpertName> expert_stack_name(const std::string& name);
// Inverse: the per-expert name for expert e of a stacked weight (for dequantize / gate).
std::optional<std::string> unstacked_expert_name(const std::string& stacked_name, int expert);

}  // namespace squint
