#include <cmath>
#include <limits>

#include "analysis/analysis_json.h"
#include "plan/plan.h"
#include "util/error.h"
#include "util/json_guard.h"

namespace squint {

using nlohmann::json;

namespace {
json prior_json(double p) { return std::isinf(p) ? json("inf") : json(p); }
double prior_from(const json& j) {
  if (j.is_string() && j.get<std::string>() == "inf") return std::numeric_limits<double>::infinity();
  return j.get<double>();
}
const GgmlTypeInfo* gguf_type(const json& e, const std::string& ctx) {
  const GgmlTypeInfo* t = e["type"].is_string() ? ggml_type_from_name(e["type"].get<std::string>()) : nullptr;
  if (!t || t->block == 1) fail(ctx + ": unknown GGUF quantization type " + e["type"].dump());
  return t;
}
}  // namespace

QConfig PlanTensor::config() const {
  if (!type.empty()) {
    if (const GgmlTypeInfo* t = ggml_type_from_name(type)) return gguf_config(t->type);
  }
  return {bits, group_size};
}

json plan_to_json(const Plan& p) {
  json j;
  j["format"] = kPlanFormat;
  j["version"] = kPlanVersion;
  if (p.format == QFormat::Gguf) j["quant_format"] = format_name(p.format);  // absent = "mlx"
  j["model_fingerprint"] = p.fingerprint;
  if (!p.imatrix.empty()) j["imatrix"] = imatrix_ref_json(p.imatrix);  // absent = made without an imatrix
  j["f32_output_dtype"] = float_dtype_long_name(p.f32_out_dtype);
  json cfgs = json::array();
  for (auto c : p.options.configs) cfgs.push_back(config_json(c));
  json pri = json::array();
  for (const auto& [pat, v] : p.options.priors) pri.push_back({{"pattern", pat}, {"value", prior_json(v)}});
  j["options"] = {{"budget", p.options.budget_spec},
                  {"floor_db", p.options.floor_db},
                  {"objective", p.options.objective},
                  {"prior_set", p.options.prior_set},
                  {"configs", cfgs},
                  {"priors", pri},
                  {"solver", p.options.solver}};
  j["budget_bytes"] = p.budget_bytes;
  j["totals"] = {{"bytes", p.total_bytes},
                 {"params", p.total_params},
                 {"bpw_nominal", p.bpw_nominal},
                 {"bpw_effective", p.bpw_effective}};
  j["objective"] = p.objective;
  if (p.selection) {
    json cs = json::array();
    for (const auto& c : p.selection->candidates)
      cs.push_back({{"name", c.name}, {"bytes", c.bytes}, {"kl_mean", c.kl_mean}, {"note", c.note}});
    j["selection"] = {{"text", p.selection->text}, {"chosen", p.selection->chosen}, {"candidates", cs}};
  }
  j["bound"] = p.bound;
  j["gap"] = p.gap;
  j["solver"] = p.solver;
  json ts = json::array();
  for (const auto& t : p.tensors) {
    json e = {{"name", t.name},
              {"bits", t.bits},
              {"group_size", t.group_size},
              {"bytes", t.bytes},
              {"params", t.params},
              {"nrmse", t.nrmse},
              {"sqnr_db", t.sqnr_db},
              {"prior", prior_json(t.prior)},
              {"reason", t.reason}};
    if (!t.type.empty()) e["type"] = t.type;
    ts.push_back(std::move(e));
  }
  j["tensors"] = ts;
  return j;
}

Plan plan_from_json(const json& j, const std::string& source) {
  try {
    if (!j.is_object() || !j.contains("format") || j["format"] != kPlanFormat)
      fail(source + ": not a squint plan (format is not '" + std::string(kPlanFormat) + "')");
    Plan p;
    // Compared as a JSON value: get<int> of 1.7e38 is undefined behaviour (found by fuzz_plan).
    if (!j.at("version").is_number_integer() || j.at("version") != kPlanVersion) fail(source + ": plan version is not supported");
    const std::string qf = j.value("quant_format", std::string("mlx"));
    if (qf != "mlx" && qf != "gguf") fail(source + ": unknown quant_format '" + qf + "' (mlx or gguf)");
    p.format = qf == "gguf" ? QFormat::Gguf : QFormat::Mlx;
    p.fingerprint = j.at("model_fingerprint").get<std::string>();
    if (j.contains("imatrix")) p.imatrix = imatrix_ref_from_json(j["imatrix"], source);
    auto od = parse_float_dtype_name(j.value("f32_output_dtype", std::string("float16")));
    if (!od) fail(source + ": unknown f32_output_dtype");
    p.f32_out_dtype = *od;
    const json& o = j.at("options");
    p.options.budget_spec = o.value("budget", std::string());
    p.options.floor_db = o.value("floor_db", 9.0);
    // Plans written before the defaults changed carry neither field's new value: absent means what they used.
    p.options.objective = o.value("objective", std::string("nrmse"));
    p.options.prior_set = o.value("prior_set", std::string("roles"));
    p.options.solver = o.value("solver", std::string("exact"));
    for (const auto& c : o.value("configs", json::array())) {
      if (c.contains("type")) p.options.configs.push_back(gguf_config(gguf_type(c, source + ": options")->type));
      else p.options.configs.push_back({json_int_at<int>(c, "bits", source + ": options config"),
                                        json_int_at<int>(c, "group_size", source + ": options config")});
    }
    for (const auto& pr : o.value("priors", json::array()))
      p.options.priors.emplace_back(pr.at("pattern").get<std::string>(), prior_from(pr.at("value")));
    p.budget_bytes = json_int_at<uint64_t>(j, "budget_bytes", source);
    const json& tt = j.at("totals");
    p.total_bytes = json_int_at<uint64_t>(tt, "bytes", source + ": totals");
    p.total_params = json_int_at<uint64_t>(tt, "params", source + ": totals");
    p.bpw_nominal = tt.at("bpw_nominal").get<double>();
    p.bpw_effective = tt.at("bpw_effective").get<double>();
    p.objective = j.at("objective").get<double>();
    if (j.contains("selection")) {
      const json& sj = j.at("selection");
      PlanSelectionRecord r;
      r.text = sj.at("text").get<std::string>();
      r.chosen = sj.at("chosen").get<std::string>();
      for (const auto& c : sj.at("candidates"))
        r.candidates.push_back({c.at("name").get<std::string>(), json_int_at<uint64_t>(c, "bytes", source + ": selection"),
                                c.at("kl_mean").get<double>(), c.value("note", std::string())});
      p.selection = std::move(r);
    }
    p.bound = j.at("bound").get<double>();
    p.gap = j.at("gap").get<double>();
    p.solver = j.at("solver").get<std::string>();
    for (const auto& e : j.at("tensors")) {
      PlanTensor t;
      t.name = e.at("name").get<std::string>();
      const std::string tctx = source + ": tensor '" + t.name + "'";
      t.bits = json_int_at<int>(e, "bits", tctx);
      t.group_size = json_int_at<int>(e, "group_size", tctx);
      t.bytes = json_int_at<uint64_t>(e, "bytes", tctx);
      t.params = json_int_or<uint64_t>(e, "params", 0, tctx);
      t.nrmse = e.at("nrmse").get<double>();
      t.sqnr_db = e.at("sqnr_db").get<double>();
      t.prior = prior_from(e.at("prior"));
      t.reason = e.value("reason", std::string());
      if (e.contains("type")) {
        const std::string ctx = source + ": tensor '" + t.name + "'";
        if (p.format != QFormat::Gguf) fail(ctx + ": has a GGUF type but the plan is not a GGUF plan (quant_format)");
        const GgmlTypeInfo* ti = gguf_type(e, ctx);
        if (t.bits != ti->nominal_bits || t.group_size != ti->block)
          fail(ctx + ": bits/group_size " + std::to_string(t.bits) + "/" + std::to_string(t.group_size) +
               " do not match type " + ti->name);
        t.type = ti->name;
        p.tensors.push_back(std::move(t));
        continue;
      }
      if (p.format == QFormat::Gguf && t.bits != kKeepBits)
        fail(source + ": tensor '" + t.name + "': a quantized tensor of a GGUF plan needs a 'type'");
      const bool ok_bits = t.bits == kKeepBits || t.bits == 2 || t.bits == 3 || t.bits == 4 || t.bits == 5 ||
                           t.bits == 6 || t.bits == 8;
      if (!ok_bits) fail(source + ": tensor '" + t.name + "': bits " + std::to_string(t.bits) + " is not 2,3,4,5,6,8 or 16 (keep)");
      if (t.bits != kKeepBits && t.group_size != 32 && t.group_size != 64 && t.group_size != 128)
        fail(source + ": tensor '" + t.name + "': group_size " + std::to_string(t.group_size) + " is not 32, 64 or 128");
      p.tensors.push_back(std::move(t));
    }
    return p;
  } catch (const json::exception& e) {
    fail(source + ": malformed plan (" + std::string(e.what()) + ")");
  }
}

Plan parse_plan(const std::string& text, const std::string& source) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) fail(source + ": not valid JSON");
  return plan_from_json(j, source);
}

std::string serialize_plan(const Plan& p) { return plan_to_json(p).dump(1) + "\n"; }

}  // namespace squint
