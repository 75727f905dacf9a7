#include "model/mlx_source.h"

#include "convert/mlx_names.h"
#include "model/family.h"
#include "model/stored_linear.h"
#include "util/error.h"

namespace squint {

WeightSource weights_from(const MlxModel& m, std::set<std::string>* read) {
  return [&m, read](const std::string& name, std::vector<int64_t>* shape, std::vector<float>* data) {
    if (const LogicalTensor* t = m.find(name)) {
      *shape = t->shape;
      uint64_t n = 1;
      for (auto d : t->shape) n *= static_cast<uint64_t>(d);
      data->resize(n);
      if (!read_logical_f32(m, *t, data->data())) fail("weight '" + name + "' contains NaN or Inf");
      if (read) read->insert(name);
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
    if (read) read->insert(st->stacked);
    return true;
  };
}

LinearSource stored_linears_from(const MlxModel& m, std::set<std::string>* read, const ParallelFor& pf) {
  auto kept = [](const LogicalTensor& t) { return !t.quant && runs_stored(t.dtype); };
  return [&m, read, pf, kept](const std::string& name) -> LinearPtr {
    if (const LogicalTensor* t = m.find(name)) {
      if (!kept(*t) || t->shape.size() != 2) return nullptr;
      LinearPtr l = read_stored_linear(m.ck, *t->weight, 0, logical_rows(*t), name, pf);
      if (l && read) read->insert(name);
      return l;
    }
    const auto st = expert_stack_name(name);
    const LogicalTensor* s = st ? m.find(st->stacked) : nullptr;
    if (!s || !kept(*s) || s->shape.size() != 3 || st->expert >= s->shape[0]) return nullptr;  // weights_from says why
    const uint64_t out = static_cast<uint64_t>(s->shape[1]);
    LinearPtr l = read_stored_linear(m.ck, *s->weight, static_cast<uint64_t>(st->expert) * out, out, name, pf);
    if (l && read) read->insert(st->stacked);
    return l;
  };
}

std::string first_unread_weight(const std::vector<std::string>& names, const std::set<std::string>& read,
                                const ModelHparams& h) {
  const Family& fam = family_named(h.family);
  for (const auto& n : names) {
    if (read.count(n) || n.find("rotary_emb.inv_freq") != std::string::npos || fam.outside_text_model(n)) continue;
    if (h.tied && n.ends_with("lm_head.weight")) continue;
    return n;
  }
  return "";
}

void check_all_weights_read(const MlxModel& m, const std::set<std::string>& read, const ModelHparams& h) {
  std::vector<std::string> names;
  for (const auto& t : m.tensors) names.push_back(t.name);
  const std::string n = first_unread_weight(names, read, h);
  if (!n.empty())
    fail(m.ck.location + ": tensor '" + n + "' is not part of squint's " + h.family + " forward pass (model_type " +
         h.model_type + "); refusing to run a model it does not fully describe");
}

}  // namespace squint
