#include "convert/mlx_config.h"

#include <map>

#include "analysis/analysis.h"
#include "convert/mlx_names.h"
#include "io/shards.h"

namespace squint {

using nlohmann::json;

json quantization_block(const std::vector<ConvertUnit>& units, QConfig* global_out) {
  // The global (bits, group) is the most common choice by source-tensor count; ties go to the first in
  // all_configs() order, so the block is deterministic.
  std::map<std::pair<int, int>, std::size_t> count;
  for (const auto& u : units)
    if (u.kind == UnitKind::Quantize) count[{u.config.group, u.config.bits}] += u.sources.size();
  QConfig global{4, 64};
  std::size_t best = 0;
  for (QConfig c : all_configs()) {
    auto it = count.find({c.group, c.bits});
    if (it != count.end() && it->second > best) {
      best = it->second;
      global = c;
    }
  }
  if (global_out) *global_out = global;
  json q = json::object();
  q["group_size"] = global.group;
  q["bits"] = global.bits;
  q["mode"] = "affine";
  for (const auto& u : units) {
    if (u.kind == UnitKind::Quantize) {
      if (!(u.config == global))
        q[module_path(u.name)] = {{"group_size", u.config.group}, {"bits", u.config.bits}, {"mode", "affine"}};
    } else if (u.name.ends_with(".weight") && u.outputs.front().shape.size() >= 2 &&
               is_float_measurable(u.outputs.front().dtype)) {
      q[module_path(u.name)] = false;
    }
  }
  return q;
}

json mlx_config_json(const json& source_config, const std::vector<ConvertUnit>& units, DType f32_out_dtype,
                     QConfig* global_out) {
  std::size_t quantized_modules = 0;
  for (const auto& u : units) quantized_modules += u.kind == UnitKind::Quantize;
  json cfg = config_without_quantization(source_config);
  if (quantized_modules > 0) {
    json q = quantization_block(units, global_out);
    cfg["quantization"] = q;
    cfg["quantization_config"] = q;
  }
  bool cast = false;
  for (const auto& u : units) cast |= u.kind == UnitKind::Cast || (u.kind == UnitKind::Quantize && u.sources.front()->dtype != u.out_dtype);
  if (cast) {
    cfg["torch_dtype"] = float_dtype_long_name(f32_out_dtype);
    if (cfg.contains("dtype")) cfg["dtype"] = float_dtype_long_name(f32_out_dtype);
  }
  return cfg;
}

}  // namespace squint
