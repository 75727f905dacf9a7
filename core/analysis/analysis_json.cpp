#include "analysis/analysis_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/error.h"
#include "util/json_guard.h"

namespace squint {

using nlohmann::json;

std::string serialize_analysis(const Analysis& a) { return analysis_to_json(a).dump(1) + "\n"; }

json config_json(QConfig c) {
  json j = {{"bits", c.bits}, {"group_size", c.group}};
  if (c.gguf()) j["type"] = ggml_type_info(c.type)->name;
  return j;
}

namespace {
// Reads a candidate; a "type" makes it GGUF (its bits/group come from the type table). Files written
// before GGUF support have no "type": MLX.
QConfig config_from(const json& c, const std::string& ctx) {
  if (c.contains("type")) {
    const GgmlTypeInfo* t = c["type"].is_string() ? ggml_type_from_name(c["type"].get<std::string>()) : nullptr;
    if (!t || t->block == 1) fail(ctx + ": unknown GGUF quantization type " + c["type"].dump());
    return gguf_config(t->type);
  }
  if (!c.contains("bits") || !c.contains("group_size") || !c["bits"].is_number_integer() ||
      !c["group_size"].is_number_integer())
    fail(ctx + ": config needs integer 'bits' and 'group_size'");
  return {json_int<int>(c["bits"], ctx + ": config bits"), json_int<int>(c["group_size"], ctx + ": config group_size")};
}
}  // namespace

json tensor_to_json(const TensorAnalysis& t) {
  json e;
  e["name"] = t.name;
  e["shape"] = t.shape;
  e["dtype"] = dtype_name(t.dtype);
  e["output_dtype"] = dtype_name(t.out_dtype);
  e["params"] = t.params;
  e["bytes"] = t.bytes;
  e["role"] = role_name(t.role.role);
  e["layer"] = t.role.layer;
  e["first_layer"] = t.role.first_layer;
  e["last_layer"] = t.role.last_layer;
  if (t.role.expert >= 0) e["expert"] = t.role.expert;
  if (t.role.stacked_experts) e["stacked_experts"] = true;
  if (t.role.group_key != t.name) e["group"] = t.role.group_key;
  e["measured"] = t.measured;
  if (!t.reason.empty()) e["reason"] = t.reason;
  e["keep"] = {{"bytes", t.keep_bytes}, {"nrmse", t.keep_nrmse}, {"sqnr_db", t.keep_sqnr_db}};
  json rs = json::array();
  for (const auto& r : t.results) {
    json cj = config_json(r.config);
    cj["nrmse"] = r.nrmse;
    cj["sqnr_db"] = r.sqnr_db;
    cj["bytes"] = r.bytes;
    if (r.weighted_nrmse >= 0) cj["weighted_nrmse"] = r.weighted_nrmse;
    rs.push_back(std::move(cj));
  }
  e["configs"] = rs;
  if (!t.invalid.empty()) {
    json iv = json::array();
    for (const auto& r : t.invalid) {
      json cj = config_json(r.config);
      cj["reason"] = r.reason;
      iv.push_back(std::move(cj));
    }
    e["invalid_configs"] = iv;
  }
  if (!t.features.is_null()) e["features"] = t.features;
  return e;
}

json analysis_to_json(const Analysis& a) {
  json j;
  j["format"] = kAnalysisFormat;
  j["version"] = kAnalysisVersion;
  if (a.format == QFormat::Gguf) j["quant_format"] = format_name(a.format);  // absent = "mlx"
  j["model"] = {{"fingerprint", a.fingerprint},
                {"files", a.files},
                {"num_layers", a.num_layers},
                {"tied_embeddings", a.tied_embeddings},
                {"num_experts", a.num_experts},
                {"params", a.total_params},
                {"bytes", a.total_bytes}};
  j["f32_output_dtype"] = float_dtype_long_name(a.f32_out_dtype);
  if (!a.column_weighting.empty())  // absent = data-free, plain NRMSE only
    j["column_weighting"] = {{"kind", a.column_weighting}, {"source", a.column_weighting_source}};
  if (!a.imatrix.empty()) j["imatrix"] = imatrix_ref_json(a.imatrix);  // absent = no importance matrix
  json cfgs = json::array();
  for (auto c : a.configs) cfgs.push_back(config_json(c));
  j["configs"] = cfgs;
  json ts = json::array();
  for (const auto& t : a.tensors) ts.push_back(tensor_to_json(t));
  j["tensors"] = ts;
  return j;
}

namespace {
template <class T>
T need(const json& j, const char* key, const std::string& ctx) {
  if (!j.is_object() || !j.contains(key)) fail(ctx + ": missing field '" + key + "'");
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    return json_int<T>(j.at(key), ctx + ": field '" + key + "'");
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    return json_int_array<int64_t>(j.at(key), ctx + ": field '" + key + "'");
  }
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    fail(ctx + ": field '" + key + "' has the wrong type");
  }
}
QConfig check_config_format(QConfig c, QFormat format, const std::string& ctx) {
  if (c.format != format)
    fail(ctx + ": config " + config_name(c) + " does not belong to a " + format_name(format) + " analysis");
  return c;
}
}  // namespace

TensorAnalysis tensor_from_json(const json& e, QFormat format, const std::string& source) {
  TensorAnalysis t;
  t.name = need<std::string>(e, "name", source + ": tensor");
  const std::string ctx = source + ": tensor '" + t.name + "'";
  t.shape = need<std::vector<int64_t>>(e, "shape", ctx);
  auto dt = parse_dtype(need<std::string>(e, "dtype", ctx));
  if (!dt) fail(ctx + ": unknown dtype");
  t.dtype = *dt;
  auto odt = parse_dtype(e.value("output_dtype", std::string(dtype_name(t.dtype))));
  if (!odt) fail(ctx + ": unknown output_dtype");
  t.out_dtype = *odt;
  t.params = need<uint64_t>(e, "params", ctx);
  t.bytes = need<uint64_t>(e, "bytes", ctx);
  t.role.role = parse_role(e.value("role", std::string("other")));
  t.role.layer = json_int_or<int>(e, "layer", -1, ctx);
  t.role.first_layer = e.value("first_layer", false);
  t.role.last_layer = e.value("last_layer", false);
  t.role.expert = json_int_or<int>(e, "expert", -1, ctx);
  t.role.stacked_experts = e.value("stacked_experts", false);
  t.role.group_key = e.value("group", t.name);
  t.measured = e.value("measured", false);
  t.reason = e.value("reason", std::string());
  if (e.contains("keep")) {
    t.keep_bytes = json_int_or<uint64_t>(e["keep"], "bytes", t.bytes, ctx + ": keep");
    t.keep_nrmse = e["keep"].value("nrmse", 0.0);
    t.keep_sqnr_db = e["keep"].value("sqnr_db", kMaxSqnrDb);
  } else {
    t.keep_bytes = t.bytes;
  }
  for (const auto& r : e.value("configs", json::array())) {
    ConfigResult cr;
    cr.config = check_config_format(config_from(r, ctx), format, ctx);
    cr.nrmse = need<double>(r, "nrmse", ctx);
    cr.sqnr_db = need<double>(r, "sqnr_db", ctx);
    cr.bytes = need<uint64_t>(r, "bytes", ctx);
    if (r.contains("weighted_nrmse")) {
      cr.weighted_nrmse = need<double>(r, "weighted_nrmse", ctx);
      if (!(cr.weighted_nrmse >= 0)) fail(ctx + ": config has a negative or NaN weighted_nrmse");
    }
    if (!(cr.nrmse >= 0) || !std::isfinite(cr.sqnr_db)) fail(ctx + ": config has a non-finite or negative error");
    t.results.push_back(cr);
  }
  for (const auto& r : e.value("invalid_configs", json::array())) {
    QConfig c{json_int_or<int>(r, "bits", 0, ctx), json_int_or<int>(r, "group_size", 0, ctx)};
    if (r.contains("type")) c = config_from(r, ctx);
    t.invalid.push_back({c, r.value("reason", std::string())});
  }
  if (e.contains("features")) t.features = e["features"];
  return t;
}

Analysis analysis_from_json(const json& j, const std::string& source) {
  if (!j.is_object()) fail(source + ": not a JSON object");
  if (!j.contains("format") || j["format"] != kAnalysisFormat)
    fail(source + ": not a squint analysis (format is not '" + std::string(kAnalysisFormat) + "')");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"] != kAnalysisVersion)
    fail(source + ": analysis version " + (j.contains("version") ? j["version"].dump() : std::string("(none)")) +
         " is not supported");
  Analysis a;
  const json& m = j.at("model");
  a.fingerprint = need<std::string>(m, "fingerprint", source + ": model");
  a.files = m.value("files", std::vector<std::string>{});
  a.num_layers = json_int_or<int>(m, "num_layers", -1, source + ": model");
  a.tied_embeddings = m.value("tied_embeddings", false);
  a.num_experts = json_int_or<int>(m, "num_experts", 0, source + ": model");
  a.total_params = json_int_or<uint64_t>(m, "params", 0, source + ": model");
  a.total_bytes = json_int_or<uint64_t>(m, "bytes", 0, source + ": model");
  auto od = parse_float_dtype_name(j.value("f32_output_dtype", std::string("float16")));
  if (!od) fail(source + ": unknown f32_output_dtype");
  a.f32_out_dtype = *od;
  const std::string qf = j.value("quant_format", std::string("mlx"));
  if (qf != "mlx" && qf != "gguf") fail(source + ": unknown quant_format '" + qf + "' (mlx or gguf)");
  a.format = qf == "gguf" ? QFormat::Gguf : QFormat::Mlx;
  for (const auto& c : j.value("configs", json::array()))
    a.configs.push_back(check_config_format(config_from(c, source), a.format, source));
  if (j.contains("column_weighting")) {
    const json& cw = j["column_weighting"];
    a.column_weighting = need<std::string>(cw, "kind", source + ": column_weighting");
    a.column_weighting_source = cw.contains("source") ? need<std::string>(cw, "source", source + ": column_weighting") : "";
    if (a.column_weighting != "norm" && a.column_weighting != "calibrated")
      fail(source + ": unknown column_weighting kind '" + a.column_weighting + "' (norm or calibrated)");
  }
  if (j.contains("imatrix")) a.imatrix = imatrix_ref_from_json(j["imatrix"], source);
  if (!j.contains("tensors") || !j["tensors"].is_array()) fail(source + ": missing 'tensors' array");
  for (const auto& e : j["tensors"]) a.tensors.push_back(tensor_from_json(e, a.format, source));
  return a;
}

Analysis parse_analysis(const std::string& text, const std::string& source) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) fail(source + ": not valid JSON");
  try {
    return analysis_from_json(j, source);
  } catch (const json::exception& e) {
    fail(source + ": malformed analysis (" + std::string(e.what()) + ")");
  }
}

namespace {
// Nearest-rank percentile on sorted values (deterministic, no interpolation surprises).
double pct(const std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  double pos = p * static_cast<double>(v.size() - 1);
  std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  std::size_t hi = std::min(lo + 1, v.size() - 1);
  double f = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * f;
}
}  // namespace

std::vector<SqnrRow> sqnr_table(const Analysis& a) {
  std::vector<SqnrRow> rows;
  for (QConfig c : a.configs) {
    std::vector<double> v;
    for (const auto& t : a.tensors)
      if (auto* r = t.find(c)) v.push_back(r->sqnr_db);
    std::sort(v.begin(), v.end());
    SqnrRow row;
    row.config = c;
    row.tensors = v.size();
    if (!v.empty()) {
      row.min = v.front();
      row.max = v.back();
      row.p5 = pct(v, 0.05);
      row.median = pct(v, 0.5);
      row.p95 = pct(v, 0.95);
    }
    for (double x : v) {
      row.below9 += x < 9.0;
      row.below15 += x < 15.0;
    }
    rows.push_back(row);
  }
  return rows;
}

std::string format_sqnr_table(const std::vector<SqnrRow>& rows) {
  std::string out;
  char buf[200];
  std::snprintf(buf, sizeof buf, "%-10s %8s %7s %7s %7s %7s %7s %7s %7s\n", "Config", "tensors", "Min", "P5", "Median",
                "P95", "Max", "<9 dB", "<15 dB");
  out += buf;
  for (const auto& r : rows) {
    std::string cfg = r.config.gguf() ? config_name(r.config)
                                      : "(" + std::to_string(r.config.bits) + ", " + std::to_string(r.config.group) + ")";
    if (r.tensors == 0) {
      std::snprintf(buf, sizeof buf, "%-10s %8zu %7s %7s %7s %7s %7s %7s %7s\n", cfg.c_str(), r.tensors, "-", "-", "-", "-",
                    "-", "-", "-");
    } else {
      std::snprintf(buf, sizeof buf, "%-10s %8zu %7.1f %7.1f %7.1f %7.1f %7.1f %7zu %7zu\n", cfg.c_str(), r.tensors,
                    r.min, r.p5, r.median, r.p95, r.max, r.below9, r.below15);
    }
    out += buf;
  }
  return out;
}

json sqnr_table_json(const std::vector<SqnrRow>& rows) {
  json a = json::array();
  for (const auto& r : rows) {
    json e = config_json(r.config);
    e.update(json{{"tensors", r.tensors},
                  {"min", r.min},
                  {"p5", r.p5},
                  {"median", r.median},
                  {"p95", r.p95},
                  {"max", r.max},
                  {"below_9db", r.below9},
                  {"below_15db", r.below15}});
    a.push_back(std::move(e));
  }
  return a;
}

}  // namespace squint
