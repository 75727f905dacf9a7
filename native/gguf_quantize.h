#pragma once
// `squint quantize MODEL --format gguf`: the GGUF half of the quantize verb (cmd_quantize.cpp parses flags
// and, for a budget, plans in memory through the same code as the MLX path).
#include <functional>
#include <string>

#include "io/checkpoint.h"
#include "plan/plan.h"

namespace squint {

struct GgufQuantizeArgs {
  std::string model, plan, out, type;
  std::string imatrix;  // --imatrix FILE (GGUF types quantized with it)
  bool force = false;
  std::string negative_control;                   // hidden: a broken conversion for the llama.cpp tests (GgufFaults)
  std::function<Plan(Checkpoint&)> budget_plan;   // set for --budget/--bpw/--min-safe
  std::string size_unit;                          // --budget's unit ("" = show_size's default)
};
int run_quantize_gguf(const GgufQuantizeArgs& a);

}  // namespace squint
