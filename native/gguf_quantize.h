#pragma once
// `squint quantize MODEL --format gguf`: the GGUF half of the quantize verb (cmd_quantize.cpp parses flags).
#include <string>

#include "plan_cli.h"

namespace squint {

struct GgufQuantizeArgs {
  std::string model, plan, out, type, save_plan;
  bool force = false;
  bool no_qk_permute = false;  // hidden: negative control for the llama.cpp test
  PlanCli budget;
};
int run_quantize_gguf(const GgufQuantizeArgs& a);

}  // namespace squint
