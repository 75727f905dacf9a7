// squint inspect MODEL: what is in a checkpoint (tensors, dtypes, shapes, params, bytes, roles, files).
#include <fmt/core.h>

#include <map>

#include "analysis/roles.h"
#include "atomic_output.h"
#include "command.h"
#include "eval_model.h"
#include "io/gguf.h"
#include "file_source.h"
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

int run_inspect(const InspectCli& o) {
  if (!o.out.file.empty()) check_writable_parent(o.out.file);
  if (is_gguf_file(o.model)) {
    if (o.features) fail("--features needs a safetensors model, not a GGUF file");
    return inspect_gguf(o);
  }
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

RegisterCommand reg("inspect", 20, [](CLI::App& app) {
  auto o = std::make_shared<InspectCli>();
  app.description("list a checkpoint's tensors, dtypes, shapes, parameters, bytes and roles");
  app.add_option("MODEL", o->model, "model folder, .safetensors file or .gguf file")->required();
  add_output_options(app, o->out, "the tensor list");
  app.add_flag("--features", o->features, "also compute per-tensor sensitivity features");
  return [o] { return run_inspect(*o); };
});

}  // namespace

}  // namespace squint
