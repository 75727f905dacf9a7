#include "plan/preview.h"

#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

namespace squint {

namespace {
// Column order of the per-layer map (the order a reader scans a Llama block in).
const std::vector<std::pair<Role, const char*>>& map_columns() {
  static const std::vector<std::pair<Role, const char*>> cols = {
      {Role::AttnQ, "q"},        {Role::AttnK, "k"},         {Role::AttnV, "v"},           {Role::AttnO, "o"},
      {Role::AttnQKV, "qkv"},    {Role::MlpGate, "gate"},    {Role::MlpUp, "up"},          {Role::MlpDown, "down"},
      {Role::MlpGateUp, "gate_up"}, {Role::MoeExpert, "experts"}, {Role::SharedExpert, "shared"}, {Role::Router, "router"}};
  return cols;
}

// Experts and shared experts get one column per projection ("experts.gate", ...): the experts of one
// projection share one config, so a layer of 128 experts is three cells, each with one label.
bool split_by_projection(Role r) { return r == Role::MoeExpert || r == Role::SharedExpert; }

// gate / up / down / gate_up for the projection names of Llama-style and Mixtral experts, else the name itself.
std::string projection_of(const TensorAnalysis& t) {
  std::string p = t.role.projection;
  if (p.empty()) {
    p = t.name.ends_with(".weight") ? t.name.substr(0, t.name.size() - 7) : t.name;
    p = p.substr(p.find_last_of('.') + 1);
  }
  static const std::pair<const char*, const char*> kNames[] = {
      {"gate_proj", "gate"}, {"w1", "gate"}, {"up_proj", "up"},          {"w3", "up"},
      {"down_proj", "down"}, {"w2", "down"}, {"gate_up_proj", "gate_up"}};
  for (const auto& [from, to] : kNames)
    if (p == from) return to;
  return p;
}
// Order of the projection columns within a role.
int projection_rank(const std::string& p) {
  static const char* kOrder[] = {"gate", "up", "down", "gate_up"};
  for (int i = 0; i < 4; ++i)
    if (p == kOrder[i]) return i;
  return 4;
}
}  // namespace

std::string choice_label(const PlanTensor& t) {
  if (t.keep()) return "16";
  if (!t.type.empty()) return t.type;  // GGUF plans name the ggml type ("Q4_K")
  return std::to_string(t.bits) + "/" + std::to_string(t.group_size);
}

PlanPreview plan_preview(const Plan& p, const Analysis& a) {
  PlanPreview v;
  v.total_bytes = p.total_bytes;
  v.budget_bytes = p.budget_bytes;
  v.total_params = p.total_params;
  v.budget_percent = p.budget_bytes ? 100.0 * static_cast<double>(p.total_bytes) / static_cast<double>(p.budget_bytes) : 0.0;
  v.bpw_effective = p.bpw_effective;
  v.bpw_nominal = p.bpw_nominal;
  v.objective = p.objective;
  v.bound = p.bound;
  v.gap = p.gap;
  v.solver = p.solver;
  v.proven_optimal = p.gap == 0 && p.solver == "exact";
  v.floor_db = p.options.floor_db;

  std::map<int, uint64_t> mix;
  for (const auto& t : p.tensors) mix[t.bits] += t.params;
  const double total = static_cast<double>(p.total_params ? p.total_params : 1);
  for (const auto& [b, n] : mix) v.mix.push_back({b, n, 100.0 * static_cast<double>(n) / total});
  std::unordered_map<std::string, const TensorAnalysis*> by_name;
  for (const auto& t : a.tensors) by_name.emplace(t.name, &t);
  for (const auto& t : p.tensors) {
    auto it = by_name.find(t.name);
    v.labels.push_back(p.format == QFormat::Gguf && t.keep() && it != by_name.end() ? dtype_name(it->second->out_dtype)
                                                                                    : choice_label(t));
  }
  if (p.format == QFormat::Gguf) {
    std::map<int, std::pair<std::string, uint64_t>> types;  // ggml type id -> (name, params)
    for (std::size_t i = 0; i < p.tensors.size(); ++i) {
      const PlanTensor& t = p.tensors[i];
      const std::string& l = v.labels[i];
      const int id = !t.keep()     ? static_cast<int>(t.config().type)
                     : l == "F32"  ? static_cast<int>(GgmlType::F32)
                     : l == "F16"  ? static_cast<int>(GgmlType::F16)
                     : l == "BF16" ? static_cast<int>(GgmlType::BF16)
                                   : 1000;  // not in the analysis: "16", last
      types[id].first = l;
      types[id].second += t.params;
    }
    for (const auto& [id, e] : types) v.type_mix.push_back({e.first, e.second, 100.0 * static_cast<double>(e.second) / total});
  }
  const auto& cols = map_columns();
  // A column: a map role, and for split roles a projection (rank, name) so that columns sort gate, up, down.
  using ColKey = std::tuple<std::size_t, int, std::string>;
  std::map<int, std::map<ColKey, PreviewCell>> grid;  // layer -> column -> cell
  std::set<ColKey> used;
  for (std::size_t i = 0; i < p.tensors.size(); ++i) {
    const PlanTensor& t = p.tensors[i];
    if (t.keep()) ++v.kept;
    else {
      ++v.quantized;
      if (t.sqnr_db < v.floor_db) v.below_floor.push_back(i);
    }
    auto it = by_name.find(t.name);
    if (it == by_name.end() || it->second->shape.size() < 2) continue;
    const TensorRole& r = it->second->role;
    std::size_t col = cols.size();
    for (std::size_t c = 0; c < cols.size(); ++c)
      if (cols[c].first == r.role) col = c;
    if (r.layer < 0 || col == cols.size()) {
      v.others.push_back(i);
      continue;
    }
    ColKey key{col, 0, ""};
    if (split_by_projection(r.role)) {
      const std::string proj = projection_of(*it->second);
      key = {col, projection_rank(proj), proj};
    }
    used.insert(key);
    PreviewCell& cell = grid[r.layer][key];
    const std::string& l = v.labels[i];
    if (cell.tensors.empty()) {
      cell.label = l;
      cell.bits = t.bits;
    } else {
      // Distinct choices only, in first-seen order ("4/64,8/64" for a layer whose experts differ).
      bool seen = false;
      std::size_t from = 0;
      while (from <= cell.label.size()) {
        std::size_t to = cell.label.find(',', from);
        if (to == std::string::npos) to = cell.label.size();
        seen = seen || cell.label.compare(from, to - from, l) == 0;
        from = to + 1;
      }
      if (!seen) cell.label += "," + l;
      cell.bits = std::min(cell.bits, t.bits);
    }
    cell.tensors.push_back(i);
  }
  for (const ColKey& k : used) {
    const auto& [role, name] = cols[std::get<0>(k)];
    const std::string& proj = std::get<2>(k);
    v.column_roles.push_back(role);
    v.columns.push_back(proj.empty() ? std::string(name) : std::string(name) + "." + proj);
  }
  for (auto& [layer, row] : grid) {
    PreviewRow pr;
    pr.layer = layer;
    for (const ColKey& c : used) {
      auto it = row.find(c);
      pr.cells.push_back(it == row.end() ? PreviewCell{} : std::move(it->second));
    }
    v.rows.push_back(std::move(pr));
  }
  return v;
}

nlohmann::json preview_to_json(const PlanPreview& v, const Plan& p) {
  using nlohmann::json;
  auto tensor = [&](std::size_t i) {
    const PlanTensor& t = p.tensors[i];
    return json{{"name", t.name},   {"bits", t.bits},     {"group_size", t.group_size}, {"sqnr_db", t.sqnr_db},
                {"bytes", t.bytes}, {"params", t.params}, {"label", v.labels[i]}};
  };
  json mix = json::array();
  for (const auto& m : v.mix) mix.push_back({{"bits", m.bits}, {"params", m.params}, {"percent", m.percent}});
  json type_mix = json::array();
  for (const auto& m : v.type_mix) type_mix.push_back({{"type", m.type}, {"params", m.params}, {"percent", m.percent}});
  json rows = json::array();
  for (const auto& r : v.rows) {
    json cells = json::array();
    for (const auto& c : r.cells) {
      json ts = json::array();
      for (std::size_t i : c.tensors) ts.push_back(tensor(i));
      cells.push_back(c.tensors.empty() ? json(nullptr) : json{{"label", c.label}, {"bits", c.bits}, {"tensors", ts}});
    }
    rows.push_back({{"layer", r.layer}, {"cells", cells}});
  }
  json others = json::array(), below = json::array();
  for (std::size_t i : v.others) others.push_back(tensor(i));
  for (std::size_t i : v.below_floor) below.push_back(tensor(i));
  return {{"format", "squint.plan-preview"},
          {"version", 1},
          {"total_bytes", v.total_bytes},
          {"budget_bytes", v.budget_bytes},
          {"total_params", v.total_params},
          {"budget_percent", v.budget_percent},
          {"bpw_effective", v.bpw_effective},
          {"bpw_nominal", v.bpw_nominal},
          {"objective", v.objective},
          {"bound", v.bound},
          {"gap", v.gap},
          {"solver", v.solver},
          {"proven_optimal", v.proven_optimal},
          {"mix", mix},
          {"type_mix", type_mix},
          {"columns", v.columns},
          {"rows", rows},
          {"others", others},
          {"gate", {{"floor_db", v.floor_db}, {"pass", v.pass()}, {"quantized", v.quantized}, {"kept", v.kept},
                    {"below_floor", below}}}};
}

}  // namespace squint
