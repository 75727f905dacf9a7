#include "analysis/analysis_parts.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "analysis/analysis_json.h"
#include "analysis/roles.h"
#include "util/error.h"
#include "util/json_guard.h"

namespace squint {

using nlohmann::json;

std::optional<PartSpec> parse_part_spec(const std::string& s) {
  const auto slash = s.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto number = [](const std::string& d) -> int {
    if (d.empty() || d.size() > 6 || d.find_first_not_of("0123456789") != std::string::npos) return 0;
    return std::stoi(d);
  };
  const int k = number(s.substr(0, slash)), n = number(s.substr(slash + 1));
  if (k < 1 || n < 1 || k > n || n > kMaxParts) return std::nullopt;
  return PartSpec{k, n};
}

namespace {
// Cost per parameter of one candidate, in tenths of a nanosecond, from the single-type rates on
// tinystories-3M (docs/gguf.md: Q4_K 18.7 M params/s = 53 ns, ..., Q8_0 142; the 18 MLX configs together
// 144 M params/s = 0.4 ns each). Only the ratios matter, and only for balance: a stale figure makes parts
// less even, never different in content. Types not listed (added later) count as the slowest.
uint64_t candidate_cost(QConfig c) {
  if (!c.gguf()) return 4;
  static const std::map<std::string, uint64_t> kCost = {{"Q4_0", 33},  {"Q4_1", 40},  {"Q5_0", 60},    {"Q5_1", 60},
                                                        {"Q8_0", 70},  {"Q2_K", 350}, {"Q3_K", 190},   {"Q4_K", 530},
                                                        {"Q5_K", 550}, {"Q6_K", 220}, {"IQ4_NL", 310}, {"IQ4_XS", 290}};
  const auto it = kCost.find(config_name(c));
  return it == kCost.end() ? 600 : it->second;
}
constexpr uint64_t kReadCost = 10;  // reading, converting to float and Σ w² (~1 ns per parameter)
}  // namespace

uint64_t analysis_cost(const TensorInfo& t, const AnalyzeOptions& opt) {
  uint64_t per = kReadCost;
  if (is_float_measurable(t.dtype) && t.shape.size() >= 2) {
    const uint64_t cols = t.cols();
    for (QConfig c : opt.configs)
      if (c.group > 0 && cols % static_cast<uint64_t>(c.group) == 0) per += candidate_cost(c);
  }
  return t.numel() * per;
}

std::vector<int> assign_parts(const Checkpoint& ck, const AnalyzeOptions& opt, int parts) {
  if (parts < 1 || parts > kMaxParts) fail("analysis parts: cannot split into " + std::to_string(parts) + " parts");
  struct Unit {
    uint64_t cost = 0;
    std::size_t first = 0;
    std::vector<std::size_t> members;
  };
  std::vector<Unit> units;
  std::map<std::string, std::size_t> unit_of;
  for (std::size_t i = 0; i < ck.tensors.size(); ++i) {
    const TensorInfo& t = ck.tensors[i];
    const auto [it, fresh] = unit_of.emplace(classify_tensor(t, ck.config).group_key, units.size());
    if (fresh) units.push_back({0, i, {}});
    Unit& u = units[it->second];
    u.cost += analysis_cost(t, opt);
    u.members.push_back(i);
  }
  std::vector<std::size_t> order(units.size());
  for (std::size_t u = 0; u < order.size(); ++u) order[u] = u;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return units[a].cost != units[b].cost ? units[a].cost > units[b].cost : units[a].first < units[b].first;
  });
  std::vector<uint64_t> load(static_cast<std::size_t>(parts), 0);
  std::vector<int> part(ck.tensors.size(), 0);
  for (std::size_t u : order) {
    const std::size_t p = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[p] += units[u].cost;
    for (std::size_t i : units[u].members) part[i] = static_cast<int>(p);
  }
  return part;
}

std::vector<std::size_t> part_tensors(const Checkpoint& ck, const AnalyzeOptions& opt, PartSpec p) {
  const std::vector<int> part = assign_parts(ck, opt, p.count);
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < part.size(); ++i)
    if (part[i] == p.index - 1) out.push_back(i);
  return out;
}

std::string checkpoint_data_sample(const Checkpoint& ck) {
  // The fingerprint covers names, dtypes and shapes only: two seeds of one synthetic model, or a model and
  // its fine-tune, share it. The first bytes of every tensor tell them apart for the price of one small
  // read per tensor.
  XXH64_state_t st;
  XXH64_reset(&st, 0);
  std::vector<uint8_t> buf;
  for (const TensorInfo& t : ck.tensors) {
    buf.resize(static_cast<std::size_t>(std::min<uint64_t>(t.nbytes, 64)));
    if (!buf.empty()) ck.sources.at(t.file)->read(t.offset, buf.size(), buf.data());
    XXH64_update(&st, buf.data(), buf.size());
  }
  char out[32];
  std::snprintf(out, sizeof out, "xxh64:%016llx", static_cast<unsigned long long>(XXH64_digest(&st)));
  return out;
}

AnalysisIdentity analysis_identity(const Checkpoint& ck, const Analysis& header, bool features,
                                   const std::string& squint, PartSpec part) {
  AnalysisIdentity id;
  Analysis h = header;
  h.tensors.clear();
  id.header = analysis_to_json(h);
  id.header.erase("tensors");
  id.data_sample = checkpoint_data_sample(ck);
  id.features = features;
  id.squint = squint;
  id.part = part;
  id.tensor_count = ck.tensors.size();
  return id;
}

void identity_to_json(const AnalysisIdentity& id, json& j) {
  j["squint"] = id.squint;
  j["part"] = id.part.index;
  j["parts"] = id.part.count;
  j["tensor_count"] = id.tensor_count;
  j["data_sample"] = id.data_sample;
  j["features"] = id.features;
  j["analysis"] = id.header;
}

AnalysisIdentity identity_from_json(const json& j, const std::string& source) {
  if (!j.is_object()) fail(source + ": not a JSON object");
  AnalysisIdentity id;
  auto str = [&](const char* key) {
    if (!j.contains(key) || !j[key].is_string()) fail(source + ": missing or non-string field '" + key + "'");
    return j[key].get<std::string>();
  };
  id.squint = str("squint");
  id.data_sample = str("data_sample");
  id.part.index = json_int_at<int>(j, "part", source);
  id.part.count = json_int_at<int>(j, "parts", source);
  if (id.part.count < 1 || id.part.count > kMaxParts || id.part.index < 1 || id.part.index > id.part.count)
    fail(source + ": part " + std::to_string(id.part.index) + "/" + std::to_string(id.part.count) + " is not a part");
  id.tensor_count = json_int_at<uint64_t>(j, "tensor_count", source);
  if (!j.contains("features") || !j["features"].is_boolean())
    fail(source + ": missing or non-boolean field 'features'");
  id.features = j["features"].get<bool>();
  if (!j.contains("analysis") || !j["analysis"].is_object()) fail(source + ": missing 'analysis' object");
  id.header = j["analysis"];
  id.header.erase("tensors");
  // The header must be an analysis header (format, version, model, candidates).
  json doc = id.header;
  doc["tensors"] = json::array();
  (void)analysis_from_json(doc, source);
  return id;
}

namespace {
std::string short_hash(const json& v) {
  const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  return s.size() > 22 ? s.substr(0, 22) : s;
}
// The flags behind a header field, for "made with other options than X (...)".
std::string option_of(const std::string& key) {
  if (key == "configs") return "the candidates: --bits, --group-sizes";
  if (key == "quant_format") return "--format";
  if (key == "f32_output_dtype") return "--dtype";
  if (key == "column_weighting") return "the column weighting: --norm-weights, --calibrate";
  return "'" + key + "'";
}
}  // namespace

std::string identity_mismatch(const AnalysisIdentity& a, const std::string& as, const AnalysisIdentity& b,
                              const std::string& bs, bool same_part) {
  if (a.squint != b.squint) return bs + ": made by squint " + b.squint + ", " + as + " by squint " + a.squint;
  const json& ma = a.header.value("model", json());
  const json& mb = b.header.value("model", json());
  if (ma.value("fingerprint", json()) != mb.value("fingerprint", json()))
    return bs + ": from another model (fingerprint " + short_hash(mb.value("fingerprint", json())) + ", " + as +
           " has " + short_hash(ma.value("fingerprint", json())) + ")";
  if (a.data_sample != b.data_sample)
    return bs + ": from another model (same tensor names and shapes, other weights: data sample " + b.data_sample +
           ", " + as + " has " + a.data_sample + ")";
  if (ma != mb || a.tensor_count != b.tensor_count)
    return bs + ": from another model (model description differs from " + as + ")";
  for (const auto& [key, v] : a.header.items())
    if (key != "model" && (!b.header.contains(key) || b.header[key] != v))
      return bs + ": made with other options than " + as + " (" + option_of(key) + ")";
  for (const auto& [key, v] : b.header.items())
    if (!a.header.contains(key)) return bs + ": made with other options than " + as + " (" + option_of(key) + ")";
  if (a.features != b.features) return bs + ": made with other options than " + as + " (--features)";
  if (a.part.count != b.part.count)
    return bs + ": part of a split into " + std::to_string(b.part.count) + ", " + as + " of a split into " +
           std::to_string(a.part.count);
  if (same_part && a.part.index != b.part.index)
    return bs + ": part " + std::to_string(b.part.index) + "/" + std::to_string(b.part.count) + ", not part " +
           std::to_string(a.part.index);
  return "";
}

json part_to_json(const AnalysisIdentity& id, const std::vector<std::size_t>& indices, const Analysis& part_analysis) {
  json j;
  j["format"] = kAnalysisPartFormat;
  j["version"] = kAnalysisPartVersion;
  identity_to_json(id, j);
  json ts = json::array();
  for (const auto& t : part_analysis.tensors) ts.push_back(tensor_to_json(t));
  j["analysis"]["tensors"] = std::move(ts);
  j["indices"] = indices;
  return j;
}

namespace {
// A part's document, parsed and checked on its own (format, version, identity).
nlohmann::json parse_part_doc(const PartFile& f, AnalysisIdentity* id) {
  json doc = json::parse(f.text, nullptr, false);
  if (doc.is_discarded()) fail(f.source + ": not valid JSON");
  if (!doc.is_object() || !doc.contains("format") || doc["format"] != kAnalysisPartFormat)
    fail(f.source + ": not a squint analysis part (format is not '" + std::string(kAnalysisPartFormat) + "')");
  if (!doc.contains("version") || doc["version"] != kAnalysisPartVersion)
    fail(f.source + ": analysis part version " + doc.value("version", json()).dump() + " is not supported");
  *id = identity_from_json(doc, f.source);
  return doc;
}
}  // namespace

Analysis merge_analysis_parts(const std::vector<PartFile>& files, const std::string& squint) {
  if (files.empty()) fail("analysis merge: no part files given");
  // One part's JSON at a time: what stays is the identity of the first and the measured tensors.
  AnalysisIdentity first;
  Analysis a;
  std::map<int, const std::string*> given;     // part index -> its file
  std::map<uint64_t, TensorAnalysis> tensors;  // tensor index -> entry
  std::map<uint64_t, const std::string*> owner;
  for (std::size_t fi = 0; fi < files.size(); ++fi) {
    const PartFile& f = files[fi];
    const std::string& src = f.source;
    try {
      AnalysisIdentity id;
      const json doc = parse_part_doc(f, &id);
      if (id.squint != squint)
        fail(src + ": made by squint " + id.squint + "; this is squint " + squint +
             " (parts are merged by the build that measured them)");
      if (fi == 0) {
        first = id;
        json hdoc = first.header;
        hdoc["tensors"] = json::array();
        a = analysis_from_json(hdoc, src);
      } else {
        const std::string why = identity_mismatch(first, files[0].source, id, src, false);
        if (!why.empty()) fail(why);
      }
      const std::string k_of_n = std::to_string(id.part.index) + "/" + std::to_string(id.part.count);
      if (const auto it = given.find(id.part.index); it != given.end())
        fail(src + ": part " + k_of_n + " given twice (also " + *it->second + ")");
      given[id.part.index] = &src;
      if (!doc.contains("indices")) fail(src + ": missing field 'indices'");
      const auto idx = json_int_array<uint64_t>(doc["indices"], src + ": field 'indices'");
      const json& an = doc.at("analysis");
      static const json kNone;
      const json& ts = an.contains("tensors") ? an.at("tensors") : kNone;
      if (!ts.is_array() || ts.size() != idx.size())
        fail(src + ": " + std::to_string(idx.size()) + " indices but " +
             (ts.is_array() ? std::to_string(ts.size()) : "no") + " tensors");
      for (std::size_t j = 0; j < idx.size(); ++j) {
        const uint64_t i = idx[j];
        if (i >= first.tensor_count)
          fail(src + ": tensor index " + std::to_string(i) + " out of range (" + std::to_string(first.tensor_count) +
               " tensors)");
        if (j > 0 && i <= idx[j - 1]) fail(src + ": tensor indices are not ascending");
        TensorAnalysis t = tensor_from_json(ts[j], a.format, src);
        if (const auto it = owner.find(i); it != owner.end())
          fail(src + ": tensor " + t.name + " is also in " + *it->second);
        owner[i] = &src;
        tensors.emplace(i, std::move(t));
      }
    } catch (const json::exception& e) {
      fail(src + ": malformed analysis part (" + std::string(e.what()) + ")");
    }
  }
  const int n = first.part.count;
  for (int k = 1; k <= n; ++k)
    if (!given.count(k))
      fail("analysis merge: part " + std::to_string(k) + "/" + std::to_string(n) + " is missing (" +
           std::to_string(files.size()) + " of " + std::to_string(n) + " parts given)");
  if (tensors.size() != first.tensor_count)
    fail("analysis merge: the parts hold " + std::to_string(tensors.size()) + " tensors, the model has " +
         std::to_string(first.tensor_count) + " (the parts are not one split)");
  a.tensors.reserve(tensors.size());
  for (auto& [i, t] : tensors) a.tensors.push_back(std::move(t));  // indices 0..count-1, in order
  return a;
}

}  // namespace squint
