#pragma once
// The weights of an opened float or MLX-quantized model (io/mlx_model.h) by HF name, dequantized; a
// separately named expert ("…experts.E.proj.weight") is also found as its slice of an MLX switch_mlp stack.
#include "io/mlx_model.h"
#include "model/weights.h"

namespace squint {

WeightSource weights_from(const MlxModel& m);

}  // namespace squint
