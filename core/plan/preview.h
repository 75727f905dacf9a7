#pragma once
// What a person sees of a plan — size against budget, the bit mix by parameters, the per-layer ×
// projection map and the SQNR gate verdict — computed once, here, for both the CLI's summary
// (native/plan_summary.cpp) and the page (wasm/bindings.cpp), so the two can never disagree.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/analysis.h"
#include "plan/plan.h"

namespace squint {

struct PreviewCell {
  std::vector<std::size_t> tensors;  // indices into plan.tensors, plan order
  std::string label;                 // "4/64", "16" (kept; GGUF: "F16"...), or distinct choices joined by ","
  int bits = 0;                      // smallest bit width in the cell (for colouring)
};

struct PreviewRow {
  int layer = 0;
  std::vector<PreviewCell> cells;  // one per column; empty cell = no tensor of that role in the layer
};

struct PlanPreview {
  // Summary numbers (copied from the plan so a viewer needs nothing else).
  uint64_t total_bytes = 0, budget_bytes = 0, total_params = 0;
  double budget_percent = 0, bpw_effective = 0, bpw_nominal = 0;
  double objective = 0, bound = 0, gap = 0;
  std::string solver;
  bool proven_optimal = false;
  // Bit mix: parameters per bit width (kKeepBits = kept), ascending bits.
  struct Mix {
    int bits = 0;
    uint64_t params = 0;
    double percent = 0;
  };
  std::vector<Mix> mix;
  // GGUF plans: the mix by type too (kept tensors under their float type), in ggml type id order (empty for
  // MLX plans).
  struct TypeMix {
    std::string type;
    uint64_t params = 0;
    double percent = 0;
  };
  std::vector<TypeMix> type_mix;
  // The label of each plan tensor (plan order): choice_label, except that a GGUF plan names a kept tensor by the
  // float type the file holds it in ("F16", "BF16"; "F32" for 1-D tensors): GGUF terms, not MLX's "16".
  std::vector<std::string> labels;
  // Per-layer map over projection roles; columns are the roles present, in a fixed order. Experts and shared
  // experts have one column per projection (all experts of a projection in one cell: they share one config).
  std::vector<Role> column_roles;
  std::vector<std::string> columns;  // short names: q k v o qkv gate up down gate_up experts.gate experts.up
                                     // experts.down shared.gate shared.up shared.down router
  std::vector<PreviewRow> rows;      // ascending layer
  std::vector<std::size_t> others;   // 2-D+ tensors outside the map (embeddings, lm_head, unknown roles)
  // Gate verdict, the rule of `squint gate --plan`: every quantized tensor's predicted SQNR >= floor.
  double floor_db = 9.0;
  std::vector<std::size_t> below_floor;  // quantized tensors under the floor, plan order
  std::size_t quantized = 0, kept = 0;
  bool pass() const { return below_floor.empty(); }
};

// Tensors of `plan` are matched to `analysis` by name (roles, layers and shapes come from the analysis).
PlanPreview plan_preview(const Plan& plan, const Analysis& analysis);
// The label of one tensor's choice: "16" when kept, the GGUF type ("Q4_K"), else "bits/group".
std::string choice_label(const PlanTensor& t);
// JSON for the page: every number above, with cells carrying their tensors' name, config, SQNR and bytes.
nlohmann::json preview_to_json(const PlanPreview& v, const Plan& plan);

}  // namespace squint
