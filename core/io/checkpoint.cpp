#include "io/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "util/error.h"
#include "util/json_guard.h"

namespace squint {

using nlohmann::json;

const TensorInfo* Checkpoint::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

uint64_t Checkpoint::total_params() const {
  uint64_t n = 0;
  for (const auto& t : tensors) n += t.numel();
  return n;
}

uint64_t Checkpoint::total_bytes() const {
  uint64_t n = 0;
  for (const auto& t : tensors) n += t.nbytes;
  return n;
}

ModelConfig parse_model_config(const std::string& text, const std::string& file) {
  ModelConfig c;
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(file + ": not a JSON object");
  c.raw = j;
  // Multimodal configs nest the language model's settings.
  const json* lm = &j;
  if (j.contains("text_config") && j["text_config"].is_object()) lm = &j["text_config"];
  auto geti = [&](const char* k) -> int {
    if (lm->contains(k) && (*lm)[k].is_number_integer()) return json_int<int>((*lm)[k], file + ": " + k);
    if (j.contains(k) && j[k].is_number_integer()) return json_int<int>(j[k], file + ": " + k);
    return -1;
  };
  c.num_layers = geti("num_hidden_layers");
  if (c.num_layers < 0) c.num_layers = geti("n_layer");
  for (const char* k : {"num_local_experts", "num_experts", "n_routed_experts"}) {
    int e = geti(k);
    if (e > 0) {
      c.num_experts = e;
      break;
    }
  }
  auto tie = j.contains("tie_word_embeddings") ? j["tie_word_embeddings"] : lm->value("tie_word_embeddings", json());
  c.tied_embeddings = tie.is_boolean() && tie.get<bool>();
  std::string dt = j.value("torch_dtype", lm->value("torch_dtype", std::string()));
  if (dt.empty()) dt = j.value("dtype", std::string());
  if (!dt.empty()) c.torch_dtype = parse_float_dtype_name(dt);
  return c;
}

std::string fingerprint_tensors(const std::vector<TensorInfo>& tensors) {
  std::vector<const TensorInfo*> sorted;
  for (const auto& t : tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  std::string canon;
  for (auto* t : sorted) {
    canon += t->name;
    canon += '\0';
    canon += dtype_name(t->dtype);
    for (auto d : t->shape) canon += "," + std::to_string(d);
    canon += '\n';
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "xxh64:%016llx",
                static_cast<unsigned long long>(XXH64(canon.data(), canon.size(), 0)));
  return buf;
}

namespace {

std::string basename_of(const std::string& p) {
  auto k = p.find_last_of('/');
  return k == std::string::npos ? p : p.substr(k + 1);
}

}  // namespace

Checkpoint open_checkpoint(const FileProvider& files, const std::optional<std::string>& single_file) {
  Checkpoint ck;
  ck.location = files.location();
  const std::string index_name = "model.safetensors.index.json";
  std::map<std::string, std::string> weight_map;  // tensor -> shard
  bool have_index = false;

  if (single_file) {
    ck.files.push_back(*single_file);
  } else if (files.exists(index_name)) {
    have_index = true;
    auto src = files.open(index_name);
    json j = json::parse(read_all_text(*src), nullptr, false);
    if (j.is_discarded() || !j.is_object()) fail(index_name + ": not valid JSON");
    if (!j.contains("weight_map") || !j["weight_map"].is_object()) fail(index_name + ": missing 'weight_map' object");
    std::set<std::string> shard_set;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it.value().is_string()) fail(index_name + ": weight_map entry '" + it.key() + "' is not a file name");
      std::string shard = it.value().get<std::string>();
      if (shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos || shard == ".." || shard.empty())
        fail(index_name + ": weight_map entry '" + it.key() + "' names a path outside the model folder: " + shard);
      weight_map[it.key()] = shard;
      if (shard_set.insert(shard).second) ck.files.push_back(shard);
    }
    if (weight_map.empty()) fail(index_name + ": weight_map lists no tensors");
    std::sort(ck.files.begin(), ck.files.end());
    for (const auto& f : ck.files)
      if (!files.exists(f)) fail(index_name + ": shard '" + f + "' listed in weight_map does not exist in " + ck.location);
  } else if (files.exists("model.safetensors")) {
    ck.files.push_back("model.safetensors");
  } else {
    for (const auto& f : files.list())
      if (f.ends_with(".safetensors")) ck.files.push_back(basename_of(f));
    std::sort(ck.files.begin(), ck.files.end());
    if (ck.files.empty()) fail(ck.location + ": no .safetensors file found");
    if (ck.files.size() > 1)
      ck.warnings.push_back("no model.safetensors.index.json: reading all " + std::to_string(ck.files.size()) +
                            " .safetensors files as shards");
  }

  std::map<std::string, int> owner;
  for (std::size_t fi = 0; fi < ck.files.size(); ++fi) {
    auto src = files.open(ck.files[fi]);
    SafetensorsHeader h = read_safetensors_header(*src);
    for (auto& t : h.tensors) {
      t.file = static_cast<int>(fi);
      auto [it, fresh] = owner.emplace(t.name, static_cast<int>(fi));
      if (!fresh)
        fail(ck.files[fi] + ": tensor '" + t.name + "' also appears in " + ck.files[it->second]);
      if (have_index) {
        auto w = weight_map.find(t.name);
        if (w == weight_map.end())
          fail(ck.files[fi] + ": tensor '" + t.name + "' is not listed in " + index_name);
        if (w->second != ck.files[fi])
          fail(index_name + ": tensor '" + t.name + "' is mapped to " + w->second + " but found in " + ck.files[fi]);
      }
      ck.tensors.push_back(t);
    }
    ck.headers.push_back(std::move(h));
    ck.sources.push_back(std::move(src));
  }
  if (have_index)
    for (const auto& [name, shard] : weight_map)
      if (!owner.count(name)) fail(index_name + ": tensor '" + name + "' is mapped to " + shard + " but is not in it");

  if (files.exists("config.json")) {
    auto src = files.open("config.json");
    ck.config = parse_model_config(read_all_text(*src), "config.json");
  }
  if (ck.config.num_layers < 0) {
    int mx = -1;
    for (const auto& t : ck.tensors) {
      auto p = t.name.find("layers.");
      if (p == std::string::npos) continue;
      int v = 0;
      std::size_t q = p + 7;
      bool any = false;
      while (q < t.name.size() && isdigit(static_cast<unsigned char>(t.name[q]))) {
        v = v * 10 + (t.name[q++] - '0');
        any = true;
      }
      if (any) mx = std::max(mx, v);
    }
    if (mx >= 0) ck.config.num_layers = mx + 1;
  }
  ck.fingerprint = fingerprint_tensors(ck.tensors);
  return ck;
}

void read_tensor_bytes(const Checkpoint& ck, const TensorInfo& t, uint8_t* out) {
  ck.sources.at(t.file)->read(t.offset, t.nbytes, out);
}

bool read_tensor_f32(const Checkpoint& ck, const TensorInfo& t, float* out, std::vector<uint8_t>& scratch) {
  if (!is_float_measurable(t.dtype))
    fail(ck.files.at(t.file) + ": tensor '" + t.name + "': dtype " + dtype_name(t.dtype) + " cannot be read as float");
  if (t.dtype == DType::F32) {
    read_tensor_bytes(ck, t, reinterpret_cast<uint8_t*>(out));
    return to_f32(DType::F32, reinterpret_cast<const uint8_t*>(out), t.numel(), out);
  }
  scratch.resize(t.nbytes);
  read_tensor_bytes(ck, t, scratch.data());
  return to_f32(t.dtype, scratch.data(), t.numel(), out);
}

}  // namespace squint
