#pragma once
// The quality lab's plot: mean KL vs bits per weight, uniform configs as points, squint settings as curves.
#include <string>

#include "eval/sweep.h"

namespace squint {

std::string sweep_svg(const SweepResult& r, const std::string& title);

}  // namespace squint
