#include "model/mlx_source.h"

#include "convert/mlx_names.h"
#include "util/error.h"

namespace squint {

WeightSource weights_from(const MlxModel& m) {
  return [&m](const std::string& name, std::vector<int64_t>* shape, std::vector<float>* data) {
    if (const LogicalTensor* t = m.find(name)) {
      *shape = t->shape;
      uint64_t n = 1;
      for (auto d : t->shape) n *= static_cast<uint64_t>(d);
      data->resize(n);
      if (!read_logical_f32(m, *t, data->data())) fail("weight '" + name + "' contains NaN or Inf");
      return true;
    }
    const auto st = expert_stack_name(name);
    const LogicalTensor* s = st ? m.find(st->stacked) : nullptr;
    if (!s) return false;
    if (s->shape.size() != 3 || st->expert >= s->shape[0])
      fail("weight '" + st->stacked + "' has no expert " + std::to_string(st->expert) + " (shape " +
           std::to_string(s->shape.size()) + "-D)");
    const uint64_t out = static_cast<uint64_t>(s->shape[1]), in = static_cast<uint64_t>(s->shape[2]);
    *shape = {s->shape[1], s->shape[2]};
    data->resize(out * in);
    if (!read_logical_rows_f32(m, *s, static_cast<uint64_t>(st->expert) * out, out, data->data()))
      fail("weight '" + name + "' contains NaN or Inf");
    return true;
  };
}

}  // namespace squint
