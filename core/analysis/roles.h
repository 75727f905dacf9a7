#pragma once
// What a tensor is, from its name: role, layer, expert. Covers the naming of Llama, Mistral/Mixtral,
// Qwen2/3 (+MoE), Gemma, GLM, Phi, GPT-NeoX and their multimodal wrappers.
#include <string>

#include "io/checkpoint.h"

namespace squint {

enum class Role {
  Embedding, LmHead, AttnQ, AttnK, AttnV, AttnO, AttnQKV, MlpGate, MlpUp, MlpDown, MlpGateUp,
  MoeExpert, SharedExpert, Router, Norm, Vision, Other
};

const char* role_name(Role r);
Role parse_role(const std::string& s);

struct TensorRole {
  Role role = Role::Other;
  int layer = -1;      // -1: not in a numbered layer
  int expert = -1;     // index of a separately stored MoE expert, -1 otherwise
  bool stacked_experts = false;  // 3-D [E, out, in] expert stack
  std::string projection;        // for experts: "gate_proj" / "w1" / ... (empty otherwise)
  // Items the planner must give one shared config: every expert of one (layer, projection) maps to the
  // same key; other tensors map to their own name.
  std::string group_key;
  bool first_layer = false;
  bool last_layer = false;
};

TensorRole classify_tensor(const TensorInfo& t, const ModelConfig& cfg);

}  // namespace squint
