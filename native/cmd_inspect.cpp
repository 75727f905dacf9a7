// squint inspect MODEL: what is in a checkpoint (tensors, dtypes, shapes, params, bytes, roles, files).
#include <fmt/core.h>

#include <map>

#include "analysis/roles.h"
#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "eval_model.h"
#include "file_source.h"
#include "input_kind.h"
#include "io/gguf.h"
#include "io/mlx_model.h"
#include "model_input.h"
#include "output.h"
#include "util/error.h"
#include "util/shape_str.h"
#include "util/units.h"

namespace squint {

namespace {

struct InspectCli {
  std::string model;
  OutputCli out;
  bool features = false;
};

// A GGUF file: its metadata (arrays summarised in the table, whole in JSON except long ones) and tensor table.
int inspect_gguf(const InspectCli& o) {
  FileSource f(o.model);
  GgufFile g = read_gguf(f);
  std::map<std::string, uint64_t> per_type;
  uint64_t params = 0, bytes = 0;
  for (const auto& t : g.tensors) {
    per_type[gguf_type_size(t.type).name] += t.numel();
    params += t.numel();
    bytes += t.nbytes;
  }
  if (o.out.json || !o.out.file.empty()) {
    nlohmann::json j = {{"format", "squint.inspect.gguf"}, {"version", 1}, {"location", o.model}, {"gguf_version", g.version},
                        {"alignment", g.alignment}, {"data_offset", g.data_offset}, {"params", params}, {"bytes", bytes}};
    nlohmann::json md = nlohmann::json::object();
    for (const auto& e : g.kv) md[e.key] = {{"type", gguf_value_type_name(e.value.type)}, {"value", e.value.summary()}};
    j["metadata"] = md;
    nlohmann::json ts = nlohmann::json::array();
    for (const auto& t : g.tensors)
      ts.push_back({{"name", t.name}, {"type", gguf_type_size(t.type).name}, {"ne", t.ne}, {"params", t.numel()},
                    {"bytes", t.nbytes}, {"offset", g.absolute_offset(t)}});
    j["tensors"] = ts;
    emit_document(o.out, j);
  }
  if (!human_stdout(o.out)) return 0;
  fmt::print("{}  (GGUF v{}, {} metadata keys, {} tensors, alignment {})\n", o.model, g.version, g.kv.size(), g.tensors.size(), g.alignment);
  for (const auto& e : g.kv) fmt::print("  {:<44} {:<8} {}\n", e.key, gguf_value_type_name(e.value.type), e.value.summary());
  fmt::print("\n{:<40} {:<8} {:<20} {:>12} {:>12}\n", "tensor", "type", "ne", "params", "bytes");
  for (const auto& t : g.tensors) {
    fmt::print("{:<40} {:<8} {:<20} {:>12} {:>12}\n", t.name, gguf_type_size(t.type).name, shape_str(t.ne), t.numel(), t.nbytes);
  }
  fmt::print("\ntypes:");
  for (const auto& [k, n] : per_type) fmt::print("  {} {} params", k, n);
  fmt::print("\ntotal: {} tensors, {} params, {} of tensor data, {:.3f} bits/weight\n", g.tensors.size(), params, human_size(bytes),
             params ? 8.0 * static_cast<double>(bytes) / static_cast<double>(params) : 0.0);
  return 0;
}

// An MLX-quantized model: its logical tensors (what the packed U32 codes, scales and biases stand for) with
// shape, parameters, stored bytes and bits per weight, as the GGUF inspect shows; the JSON document is the
// safetensors one (the stored tensors) with `quantized` and `logical_tensors` added.
int inspect_quantized(const InspectCli& o) {
  ModelPath mp = resolve_model_path(o.model);
  if (mp.single_file) fail(o.model + ": give the MLX model's folder (its config.json holds the bit widths)");
  const MlxModel m = open_mlx_model(*mp.provider);
  for (const auto& w : m.ck.warnings) note("squint: warning: " + w);
  auto stored = [](const LogicalTensor& t) {
    uint64_t b = 0;
    for (const TensorInfo* p : {t.weight, t.scales, t.biases})
      if (p) b += p->nbytes;
    return b;
  };
  auto numel = [](const LogicalTensor& t) {
    uint64_t n = 1;
    for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
    return n;
  };
  uint64_t params = 0, bytes = 0;
  std::map<std::string, uint64_t> per_config;
  for (const auto& t : m.tensors) {
    params += numel(t);
    bytes += stored(t);
    per_config[t.quant ? fmt::format("{}-bit g{}", t.quant->bits, t.quant->group) : std::string(dtype_name(t.dtype))] +=
        numel(t);
  }
  auto bpw = [](uint64_t b, uint64_t n) { return n ? 8.0 * static_cast<double>(b) / static_cast<double>(n) : 0.0; };
  if (o.out.json || !o.out.file.empty()) {
    nlohmann::json j = {{"format", "squint.inspect"},
                        {"version", 1},
                        {"location", m.ck.location},
                        {"fingerprint", m.ck.fingerprint},
                        {"files", m.ck.files},
                        {"params", m.ck.total_params()},
                        {"bytes", m.ck.total_bytes()},
                        {"warnings", m.ck.warnings},
                        {"quantized", true}};
    nlohmann::json ts = nlohmann::json::array(), ls = nlohmann::json::array();
    for (const auto& t : m.ck.tensors)
      ts.push_back({{"name", t.name},
                    {"dtype", dtype_name(t.dtype)},
                    {"shape", t.shape},
                    {"params", t.numel()},
                    {"bytes", t.nbytes},
                    {"file", m.ck.files[t.file]}});
    for (const auto& t : m.tensors) {
      nlohmann::json e = {{"name", t.name},
                          {"shape", t.shape},
                          {"params", numel(t)},
                          {"bytes", stored(t)},
                          {"bits_per_weight", bpw(stored(t), numel(t))}};
      if (t.quant)
        e["bits"] = t.quant->bits, e["group_size"] = t.quant->group, e["scales_dtype"] = dtype_name(t.dtype);
      else
        e["dtype"] = dtype_name(t.dtype);
      ls.push_back(e);
    }
    j["tensors"] = ts;
    j["logical_tensors"] = ls;
    j["logical_params"] = params;
    emit_document(o.out, j);
  }
  if (!human_stdout(o.out)) return 0;
  fmt::print("{}  (MLX-quantized, {} file(s), fingerprint {})\n", m.ck.location, m.ck.files.size(), m.ck.fingerprint);
  fmt::print("{:<56} {:<11} {:<18} {:>12} {:>12} {:>7}\n", "tensor", "stored as", "logical shape", "params", "bytes",
             "bits/w");
  for (const auto& t : m.tensors)
    fmt::print("{:<56} {:<11} {:<18} {:>12} {:>12} {:>7.3f}\n", t.name,
               t.quant ? fmt::format("{}-bit g{}", t.quant->bits, t.quant->group) : std::string(dtype_name(t.dtype)),
               shape_str(t.shape), numel(t), stored(t), bpw(stored(t), numel(t)));
  fmt::print("\nstored as:");
  for (const auto& [k, n] : per_config) fmt::print("  {} {} params", k, n);
  fmt::print("\ntotal: {} tensors, {} params, {} ({} B), {:.3f} bits/weight\n", m.tensors.size(), params,
             human_size(bytes), bytes, bpw(bytes, params));
  return 0;
}

int run_inspect(const InspectCli& o) {
  if (!o.out.file.empty()) check_writable_parent(o.out.file);
  expect_any_model(o.model);
  if (is_gguf_file(o.model)) {
    if (o.features) fail("--features needs a safetensors model, not a GGUF file");
    return inspect_gguf(o);
  }
  if (identify_input(o.model).kind == InputKind::QuantizedModel) return inspect_quantized(o);
  Checkpoint ck = open_model(o.model);
  for (const auto& w : ck.warnings) note("squint: warning: " + w);
  nlohmann::json fj;  // features by tensor name, when asked
  if (o.features) {
    AnalyzeCli ac;
    ac.features = true;
    Analysis a = run_analysis(ck, ac);
    for (const auto& t : a.tensors)
      if (!t.features.is_null()) fj[t.name] = t.features;
  }
  if (o.out.json || !o.out.file.empty()) {
    nlohmann::json j;
    j["format"] = "squint.inspect";
    j["version"] = 1;
    j["location"] = ck.location;
    j["fingerprint"] = ck.fingerprint;
    j["files"] = ck.files;
    j["params"] = ck.total_params();
    j["bytes"] = ck.total_bytes();
    j["warnings"] = ck.warnings;
    nlohmann::json ts = nlohmann::json::array();
    for (const auto& t : ck.tensors) {
      TensorRole r = classify_tensor(t, ck.config);
      nlohmann::json e = {{"name", t.name},   {"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                          {"params", t.numel()}, {"bytes", t.nbytes},       {"file", ck.files[t.file]},
                          {"role", role_name(r.role)}, {"layer", r.layer}};
      if (fj.contains(t.name)) e["features"] = fj[t.name];
      ts.push_back(e);
    }
    j["tensors"] = ts;
    emit_document(o.out, j);
  }
  if (!human_stdout(o.out)) return 0;
  fmt::print("{}  ({} file(s), fingerprint {})\n", ck.location, ck.files.size(), ck.fingerprint);
  fmt::print("{:<56} {:<6} {:<18} {:>12} {:>12} {:<12} {:>5}\n", "tensor", "dtype", "shape", "params", "bytes", "role", "layer");
  std::map<std::string, std::pair<uint64_t, uint64_t>> per_file;
  std::map<std::string, uint64_t> per_dtype;
  for (const auto& t : ck.tensors) {
    TensorRole r = classify_tensor(t, ck.config);
    fmt::print("{:<56} {:<6} {:<18} {:>12} {:>12} {:<12} {:>5}\n", t.name, dtype_name(t.dtype), shape_str(t.shape), t.numel(),
               t.nbytes, role_name(r.role), r.layer >= 0 ? std::to_string(r.layer) : "-");
    if (fj.contains(t.name)) fmt::print("    features: {}\n", fj[t.name].dump());
    auto& pf = per_file[ck.files[t.file]];
    pf.first += t.numel();
    pf.second += t.nbytes;
    per_dtype[dtype_name(t.dtype)] += t.numel();
  }
  fmt::print("\nfiles:\n");
  for (const auto& [f, v] : per_file) fmt::print("  {:<40} {:>14} params {:>12}\n", f, v.first, human_size(v.second));
  fmt::print("dtypes:");
  for (const auto& [d, n] : per_dtype) fmt::print("  {} {} params", d, n);
  fmt::print("\ntotal: {} tensors, {} params, {}\n", ck.tensors.size(), ck.total_params(), human_size(ck.total_bytes()));
  return 0;
}

// Sensitivity features are measured on float weights.
const Mode kFloat{"float", "to a float safetensors model (not a GGUF file or a quantized model)"};

RegisterCommand reg_inspect("inspect", 20, [](CLI::App& app) {
  auto o = std::make_shared<InspectCli>();
  app.description("list a checkpoint's tensors, dtypes, shapes, parameters, bytes and roles");
  always(app.add_option("MODEL", o->model, "model folder, .safetensors file or .gguf file")->required());
  add_output_options(app, o->out, "the tensor list");
  only_with(app.add_flag("--features", o->features, "also compute per-tensor sensitivity features"), kFloat);
  set_modes(app, [o] {
    const InputInfo in = identify_input(o->model);
    return Modes().set(kFloat, in.kind == InputKind::FloatModel, o->model + " is " + in.what);
  });
  return [o] { return run_inspect(*o); };
});

}  // namespace

}  // namespace squint
