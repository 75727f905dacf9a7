#include "convert/mlx_layout.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "analysis/analysis.h"
#include "convert/mlx_config.h"
#include "convert/mlx_names.h"
#include "io/shards.h"
#include "model/checkpoint_check.h"
#include "model/family.h"
#include "util/error.h"

namespace squint {

using nlohmann::json;

namespace {

std::string cfg_str(QConfig c) { return std::to_string(c.bits) + "-bit g" + std::to_string(c.group); }

bool valid_config(QConfig c) {
  return std::find(std::begin(kAllBits), std::end(kAllBits), c.bits) != std::end(kAllBits) &&
         std::find(std::begin(kAllGroups), std::end(kAllGroups), c.group) != std::end(kAllGroups);
}

}  // namespace

uint64_t ConvertUnit::out_bytes() const {
  uint64_t n = 0;
  for (const auto& o : outputs) n += o.nbytes();
  return n;
}

uint64_t ConvertUnit::src_bytes() const {
  uint64_t n = 0;
  for (auto* s : sources) n += s->nbytes;
  return n;
}

ConvertLayout plan_conversion(const Checkpoint& ck, const Plan& plan, uint64_t max_shard_bytes) {
  if (plan.format == QFormat::Gguf)
    fail("this is a GGUF plan (quant_format gguf, ggml types): it cannot be written as an MLX model; use the GGUF writer");
  if (plan.fingerprint != ck.fingerprint)
    fail("plan was made for a different model: plan fingerprint " + plan.fingerprint + ", model " + ck.location +
         " has " + ck.fingerprint);
  const std::optional<ModelHparams> family = check_family_tensors(ck);
  std::map<std::string, const PlanTensor*> choice;
  for (const auto& pt : plan.tensors) {
    if (!ck.find(pt.name)) fail("plan names tensor '" + pt.name + "', which is not in " + ck.location);
    if (!choice.emplace(pt.name, &pt).second) fail("plan lists tensor '" + pt.name + "' twice");
  }

  ConvertLayout L;
  // Expert stacks: gather members first so that the stack is emitted where expert 0 appears.
  std::map<std::string, std::vector<const TensorInfo*>> stacks;
  for (const auto& t : ck.tensors)
    if (auto en = expert_stack_name(t.name)) {
      auto& v = stacks[en->stacked];
      if (static_cast<int>(v.size()) <= en->expert) v.resize(en->expert + 1, nullptr);
      v[en->expert] = &t;
    }
  std::set<std::string> names_taken;
  for (const auto& t : ck.tensors) names_taken.insert(t.name);

  for (const auto& t : ck.tensors) {
    ConvertUnit u;
    std::vector<const TensorInfo*> srcs{&t};
    u.name = t.name;
    if (auto en = expert_stack_name(t.name)) {
      if (en->expert != 0) continue;  // emitted with expert 0
      const auto& members = stacks.at(en->stacked);
      for (std::size_t e = 0; e < members.size(); ++e) {
        const TensorInfo* m = members[e];
        if (!m) fail(ck.location + ": expert stack " + en->stacked + ": expert " + std::to_string(e) + " is missing");
        if (m->shape != t.shape || m->dtype != t.dtype)
          fail(ck.location + ": tensor '" + m->name + "' differs in shape or dtype from '" + t.name +
               "'; experts cannot be stacked");
      }
      if (names_taken.count(en->stacked)) fail(ck.location + ": '" + en->stacked + "' exists besides separate experts");
      srcs = members;
      u.name = en->stacked;
    }
    u.sources = srcs;
    // One choice for the whole stack.
    const PlanTensor* pc = nullptr;
    for (auto* s : srcs) {
      auto it = choice.find(s->name);
      const PlanTensor* p = it == choice.end() ? nullptr : it->second;
      const bool kq = p && !p->keep();
      if (s != srcs.front()) {
        const bool pq = pc && !pc->keep();
        if (kq != pq || (kq && (p->bits != pc->bits || p->group_size != pc->group_size)))
          fail("plan gives experts of " + u.name + " different choices ('" + srcs.front()->name + "' vs '" + s->name +
               "'); stacked experts share one (bits, group)");
      }
      pc = p;
    }
    const bool floaty = is_float_measurable(t.dtype);
    u.out_dtype = floaty ? output_dtype_for(t.dtype, plan.f32_out_dtype) : t.dtype;
    for (auto* s : srcs) u.params += s->numel();
    std::vector<int64_t> shape = t.shape;
    if (srcs.size() > 1) shape.insert(shape.begin(), static_cast<int64_t>(srcs.size()));

    if (pc && !pc->keep()) {
      QConfig c{pc->bits, pc->group_size};
      if (!valid_config(c)) fail("plan: tensor '" + t.name + "': " + cfg_str(c) + " is not a valid MLX affine config");
      if (!floaty) fail("plan: tensor '" + t.name + "' has dtype " + dtype_name(t.dtype) + " and cannot be quantized");
      if (t.shape.size() < 2) fail("plan: tensor '" + t.name + "' is not a matrix and cannot be quantized");
      if (!t.name.ends_with(".weight")) fail("plan: tensor '" + t.name + "' is not a module weight (P.weight); cannot quantize");
      if (t.cols() % static_cast<uint64_t>(c.group) != 0)
        fail("plan: tensor '" + t.name + "': group size " + std::to_string(c.group) + " does not divide the input dimension " +
             std::to_string(t.cols()));
      u.kind = UnitKind::Quantize;
      u.config = c;
      const std::string P = module_path(u.name);
      std::vector<int64_t> ws = shape, ss = shape;
      ws.back() = static_cast<int64_t>(t.cols() * c.bits / 32);
      ss.back() = static_cast<int64_t>(t.cols() / c.group);
      for (const char* suf : {".scales", ".biases"})
        if (names_taken.count(P + suf)) fail(ck.location + ": tensor '" + P + suf + "' already exists; cannot quantize " + t.name);
      u.outputs = {{P + ".weight", DType::U32, ws}, {P + ".scales", u.out_dtype, ss}, {P + ".biases", u.out_dtype, ss}};
    } else {
      u.kind = floaty && u.out_dtype != t.dtype ? UnitKind::Cast : UnitKind::Copy;
      u.outputs = {{u.name, u.out_dtype, shape}};
    }
    L.units.push_back(std::move(u));
  }

  // Shards: a new one starts before a unit that would push the current one past the limit.
  std::vector<uint64_t> sizes;
  for (const auto& u : L.units) sizes.push_back(u.out_bytes());
  L.shards = split_shards(sizes, max_shard_bytes);
  for (std::size_t i = 0; i < L.units.size(); ++i) {
    L.total_bytes += sizes[i];
    L.total_params += L.units[i].params;
    if (L.units[i].kind == UnitKind::Quantize) ++L.quantized_modules;
  }
  L.shard_names = shard_file_names(L.shards.size());
  std::vector<std::vector<std::string>> names(L.shards.size());
  for (std::size_t s = 0; s < L.shards.size(); ++s)
    for (std::size_t ui : L.shards[s])
      for (const auto& o : L.units[ui].outputs) names[s].push_back(o.name);
  L.index = shard_index(names, L.shard_names, L.total_bytes, {{"total_parameters", L.total_params}});

  L.config = mlx_config_json(ck.config.raw, L.units, plan.f32_out_dtype, &L.global);
  // What mlx-lm's model file for this model_type cannot run is refused; the keys it requires are completed.
  if (family) {
    const Family& f = family_named(family->family);
    for (const auto& t : ck.tensors)
      if (const std::string why = f.mlx_unreadable(t.name); !why.empty())
        fail(ck.location + ": tensor '" + t.name + "': " + why);
    f.mlx_config(*family, L.config);
  }
  return L;
}

}  // namespace squint
