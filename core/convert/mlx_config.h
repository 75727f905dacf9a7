#pragma once
// The output config.json of an MLX conversion: the source config without its old quantization entries,
// mlx-lm's "quantization" block (global config + per-module exceptions) and the dtype written.
#include <nlohmann/json.hpp>
#include <vector>

#include "convert/mlx_layout.h"

namespace squint {

// The quantization block for a set of units (exposed for tests).
nlohmann::json quantization_block(const std::vector<ConvertUnit>& units, QConfig* global_out = nullptr);

// config.json for `units` (from the source config.json); `global_out` gets the block's global config
// when any unit is quantized.
nlohmann::json mlx_config_json(const nlohmann::json& source_config, const std::vector<ConvertUnit>& units,
                               DType f32_out_dtype, QConfig* global_out);

}  // namespace squint
