#include "analysis/roles.h"

#include <regex>

namespace squint {

namespace {
struct RoleName {
  Role r;
  const char* n;
};
constexpr RoleName kRoles[] = {
    {Role::Embedding, "embedding"}, {Role::LmHead, "lm_head"},     {Role::AttnQ, "attn_q"},
    {Role::AttnK, "attn_k"},        {Role::AttnV, "attn_v"},       {Role::AttnO, "attn_o"},
    {Role::AttnQKV, "attn_qkv"},    {Role::MlpGate, "mlp_gate"},   {Role::MlpUp, "mlp_up"},
    {Role::MlpDown, "mlp_down"},    {Role::MlpGateUp, "mlp_gate_up"}, {Role::MoeExpert, "moe_expert"},
    {Role::SharedExpert, "shared_expert"}, {Role::Router, "router"}, {Role::Norm, "norm"},
    {Role::Vision, "vision"},       {Role::Other, "other"},
};

bool has(const std::string& s, const char* sub) { return s.find(sub) != std::string::npos; }

// The last path component before ".weight" (or the whole tail).
std::string leaf(const std::string& name) {
  std::string n = name;
  for (const char* suf : {".weight", ".bias", ".scales", ".biases"}) {
    std::string s(suf);
    if (n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0) {
      n.resize(n.size() - s.size());
      break;
    }
  }
  auto k = n.find_last_of('.');
  return k == std::string::npos ? n : n.substr(k + 1);
}
}  // namespace

const char* role_name(Role r) {
  for (const auto& x : kRoles)
    if (x.r == r) return x.n;
  return "other";
}

Role parse_role(const std::string& s) {
  for (const auto& x : kRoles)
    if (s == x.n) return x.r;
  return Role::Other;
}

TensorRole classify_tensor(const TensorInfo& t, const ModelConfig& cfg) {
  TensorRole tr;
  const std::string& n = t.name;
  tr.group_key = n;
  static const std::regex layer_re(R"((?:^|\.)(?:layers|h|blocks|block|layer)\.(\d+)\.)");
  static const std::regex expert_re(R"(\.experts\.(\d+)\.)");
  std::smatch m;
  if (std::regex_search(n, m, layer_re)) tr.layer = std::stoi(m[1].str());
  const std::string lf = leaf(n);
  const bool vision = has(n, "vision") || has(n, "visual") || has(n, "image_encoder") || has(n, "vit.") ||
                      has(n, "multi_modal_projector") || has(n, "mm_projector");

  if (t.shape.size() < 2) {
    tr.role = (has(n, "norm") || has(n, "ln_") || has(lf, "ln")) ? Role::Norm : Role::Other;
    if (vision) tr.role = Role::Vision;
  } else if (vision) {
    tr.role = Role::Vision;
  } else if (has(n, "embed_tokens") || has(n, "wte") || has(n, "word_embeddings") || lf == "embed_in" ||
             has(n, "tok_embeddings") || (has(n, "embedding") && !has(n, "position"))) {
    tr.role = Role::Embedding;
  } else if (has(n, "lm_head") || lf == "embed_out" || lf == "output") {
    tr.role = Role::LmHead;
  } else if (has(n, "shared_expert") && !has(n, "shared_expert_gate")) {
    tr.role = Role::SharedExpert;
  } else if (has(n, "experts")) {
    tr.role = Role::MoeExpert;
    tr.projection = lf;
    if (std::regex_search(n, m, expert_re)) {
      tr.expert = std::stoi(m[1].str());
      tr.group_key = std::regex_replace(n, expert_re, ".experts.*.");
    } else {
      tr.stacked_experts = t.shape.size() >= 3;
    }
  } else if (lf == "gate" || lf == "router" || has(n, "block_sparse_moe.gate") || has(n, "mlp.gate.") ||
             has(n, "shared_expert_gate") || (lf == "classifier" && has(n, "router"))) {
    tr.role = Role::Router;
  } else if (lf == "q_proj" || lf == "wq" || lf == "query") {
    tr.role = Role::AttnQ;
  } else if (lf == "k_proj" || lf == "wk" || lf == "key") {
    tr.role = Role::AttnK;
  } else if (lf == "v_proj" || lf == "wv" || lf == "value") {
    tr.role = Role::AttnV;
  } else if (lf == "o_proj" || lf == "wo" || (lf == "dense" && has(n, "attention")) || lf == "out_proj" ||
             (lf == "dense" && has(n, "self_attn"))) {
    tr.role = Role::AttnO;
  } else if (lf == "qkv_proj" || lf == "query_key_value" || lf == "c_attn" || lf == "Wqkv") {
    tr.role = Role::AttnQKV;
  } else if (lf == "gate_proj" || lf == "w1") {
    tr.role = Role::MlpGate;
  } else if (lf == "up_proj" || lf == "w3" || lf == "fc1" || lf == "dense_h_to_4h" || lf == "c_fc") {
    tr.role = Role::MlpUp;
  } else if (lf == "down_proj" || lf == "w2" || lf == "fc2" || lf == "dense_4h_to_h" ||
             (lf == "c_proj" && has(n, "mlp"))) {
    tr.role = Role::MlpDown;
  } else if (lf == "gate_up_proj") {
    tr.role = Role::MlpGateUp;
  } else if (has(n, "norm")) {
    tr.role = Role::Norm;
  } else {
    tr.role = Role::Other;
  }
  if (tr.layer >= 0) {
    tr.first_layer = tr.layer == 0;
    tr.last_layer = cfg.num_layers > 0 && tr.layer == cfg.num_layers - 1;
  }
  return tr;
}

}  // namespace squint
