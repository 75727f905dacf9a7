#include "convert/mlx_layout.h"

#include "io/shards.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include "analysis/analysis.h"
#include "util/chunks.h"
#include "util/error.h"

namespace squint {

using nlohmann::json;

namespace {

std::string cfg_str(QConfig c) { return std::to_string(c.bits) + "-bit g" + std::to_string(c.group); }

const char* kMixtralProj[][2] = {{"w1", "gate_proj"}, {"w2", "down_proj"}, {"w3", "up_proj"}};

bool valid_config(QConfig c) {
  return std::find(std::begin(kAllBits), std::end(kAllBits), c.bits) != std::end(kAllBits) &&
         std::find(std::begin(kAllGroups), std::end(kAllGroups), c.group) != std::end(kAllGroups);
}

}  // namespace

std::string module_path(const std::string& n) { return n.ends_with(".weight") ? n.substr(0, n.size() - 7) : n; }

std::optional<ExpertName> expert_stack_name(const std::string& name) {
  if (!name.ends_with(".weight")) return std::nullopt;
  const std::string key = ".experts.";
  auto p = name.rfind(key);
  if (p == std::string::npos) return std::nullopt;
  std::size_t q = p + key.size();
  int e = 0;
  std::size_t d = q;
  while (d < name.size() && isdigit(static_cast<unsigned char>(name[d]))) e = e * 10 + (name[d++] - '0');
  if (d == q || d >= name.size() || name[d] != '.') return std::nullopt;
  std::string proj = name.substr(d + 1, name.size() - 7 - (d + 1));
  if (proj.empty() || proj.find('.') != std::string::npos) return std::nullopt;
  const std::string prefix = name.substr(0, p);
  if (prefix.ends_with("block_sparse_moe"))
    for (auto& m : kMixtralProj)
      if (proj == m[0]) proj = m[1];
  return ExpertName{prefix + ".switch_mlp." + proj + ".weight", e};
}

std::optional<std::string> unstacked_expert_name(const std::string& stacked, int expert) {
  const std::string key = ".switch_mlp.";
  auto p = stacked.rfind(key);
  if (p == std::string::npos || !stacked.ends_with(".weight")) return std::nullopt;
  const std::string prefix = stacked.substr(0, p);
  std::string proj = stacked.substr(p + key.size(), stacked.size() - 7 - (p + key.size()));
  if (proj.empty() || proj.find('.') != std::string::npos) return std::nullopt;
  if (prefix.ends_with("block_sparse_moe"))
    for (auto& m : kMixtralProj)
      if (proj == m[1]) proj = m[0];
  return prefix + ".experts." + std::to_string(expert) + "." + proj + ".weight";
}

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

ConvertLayout plan_conversion(const Checkpoint& ck, const Plan& plan, uint64_t max_shard_bytes) {
  if (plan.format == QFormat::Gguf)
    fail("this is a GGUF plan (quant_format gguf, ggml types): it cannot be written as an MLX model; use the GGUF writer");
  if (plan.fingerprint != ck.fingerprint)
    fail("plan was made for a different model: plan fingerprint " + plan.fingerprint + ", model " + ck.location +
         " has " + ck.fingerprint);
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

  L.config = config_without_quantization(ck.config.raw);
  if (L.quantized_modules > 0) {
    json q = quantization_block(L.units, &L.global);
    L.config["quantization"] = q;
    L.config["quantization_config"] = q;
  }
  bool cast = false;
  for (const auto& u : L.units) cast |= u.kind == UnitKind::Cast || (u.kind == UnitKind::Quantize && u.sources.front()->dtype != u.out_dtype);
  if (cast) {
    L.config["torch_dtype"] = float_dtype_long_name(plan.f32_out_dtype);
    if (L.config.contains("dtype")) L.config["dtype"] = float_dtype_long_name(plan.f32_out_dtype);
  }
  return L;
}

namespace {
}  // namespace

void write_unit(const Checkpoint& ck, const ConvertUnit& u, const ParallelFor& pf, const ByteSink& sink,
                const std::function<void(uint64_t)>& progress) {
  uint64_t done = 0;
  if (u.kind == UnitKind::Copy) {
    std::vector<uint8_t> buf;
    for (auto* s : u.sources) {
      for (uint64_t off = 0; off < s->nbytes; off += kBatchElems) {
        const uint64_t n = std::min<uint64_t>(kBatchElems, s->nbytes - off);
        buf.resize(n);
        ck.sources.at(s->file)->read(s->offset + off, n, buf.data());
        sink(buf.data(), n);
        done += n;
        if (progress) progress(done);
      }
    }
    return;
  }
  const TensorInfo& t0 = *u.sources.front();
  const uint64_t cols = t0.cols(), rows = t0.rows();
  const uint64_t ies = dtype_bits(t0.dtype) / 8, oes = dtype_bits(u.out_dtype) / 8;
  const uint64_t rpc = rows_per_chunk(cols), rpb = rows_per_batch(cols);

  if (u.kind == UnitKind::Cast) {
    std::vector<uint8_t> out;
    for (auto* s : u.sources) {
      for (uint64_t r0 = 0; r0 < rows; r0 += rpb) {
        const uint64_t nr = std::min(rpb, rows - r0);
        out.resize(nr * cols * oes);
        const std::size_t nchunks = static_cast<std::size_t>((nr + rpc - 1) / rpc);
        pf(nchunks, [&](std::size_t ci) {
          const uint64_t a = ci * rpc, b = std::min(nr, a + rpc), n = (b - a) * cols;
          std::vector<uint8_t> raw(n * ies);
          std::vector<float> f(n);
          ck.sources.at(s->file)->read(s->offset + (r0 + a) * cols * ies, raw.size(), raw.data());
          to_f32(s->dtype, raw.data(), n, f.data());  // NaN/Inf are carried over as they are
          from_f32(u.out_dtype, f.data(), n, out.data() + a * cols * oes);
        });
        sink(out.data(), out.size());
        done += nr * cols * ies;
        if (progress) progress(done);
      }
    }
    return;
  }

  // Quantize: packed codes stream out batch by batch; scales/biases (1/8 of the packed size or less) are
  // kept for the unit and follow the weight.
  const QConfig c = u.config;
  const uint64_t row_bytes = cols * c.bits / 8, gpr = cols / c.group;
  const std::size_t nsrc = u.sources.size();
  std::vector<uint8_t> scales(nsrc * rows * gpr * oes), biases(scales.size()), packed;
  const bool round_input = u.out_dtype != t0.dtype;  // F32 written as F16/BF16: quantize the rounded weight
  for (std::size_t si = 0; si < nsrc; ++si) {
    const TensorInfo& s = *u.sources[si];
    for (uint64_t r0 = 0; r0 < rows; r0 += rpb) {
      const uint64_t nr = std::min(rpb, rows - r0);
      packed.resize(nr * row_bytes);
      const std::size_t nchunks = static_cast<std::size_t>((nr + rpc - 1) / rpc);
      std::vector<char> finite(nchunks, 1);
      pf(nchunks, [&](std::size_t ci) {
        const uint64_t a = ci * rpc, b = std::min(nr, a + rpc), n = (b - a) * cols;
        std::vector<uint8_t> raw(n * ies);
        std::vector<float> w(n), sc((b - a) * gpr), bi((b - a) * gpr);
        ck.sources.at(s.file)->read(s.offset + (r0 + a) * cols * ies, raw.size(), raw.data());
        if (!to_f32(s.dtype, raw.data(), n, w.data())) {
          finite[ci] = 0;
          return;
        }
        if (round_input)
          for (auto& x : w) x = round_to_dtype(x, u.out_dtype);
        quantize_rows(w.data(), b - a, cols, c, u.out_dtype, packed.data() + a * row_bytes, sc.data(), bi.data());
        const uint64_t g0 = (si * rows + r0 + a) * gpr;
        from_f32(u.out_dtype, sc.data(), sc.size(), scales.data() + g0 * oes);
        from_f32(u.out_dtype, bi.data(), bi.size(), biases.data() + g0 * oes);
      });
      for (char f : finite)
        if (!f) fail(ck.files.at(s.file) + ": tensor '" + s.name + "' contains NaN or Inf; cannot quantize it (keep it)");
      sink(packed.data(), packed.size());
      done += nr * cols * ies;
      if (progress) progress(done);
    }
  }
  sink(scales.data(), scales.size());
  sink(biases.data(), biases.size());
}

}  // namespace squint
