#include "model/family.h"

#include "model/config_keys.h"
#include "model/families/registry.h"
#include "model/gguf_hparams.h"
#include "util/error.h"

namespace squint {

const std::vector<const Family*>& all_families() {
  static const std::vector<const Family*> all = {&families::llama_family(),     &families::mixtral_family(),
                                                 &families::qwen2_moe_family(), &families::qwen3_moe_family(),
                                                 &families::gemma2_family(),    &families::gemma3_family(),
                                                 &families::phi3_family()};
  return all;
}

std::string supported_model_types() {
  std::string s;
  for (const Family* f : all_families())
    for (const auto& t : f->model_types()) s += (s.empty() ? "" : ", ") + t;
  return s;
}

const Family* find_family_for_config(const nlohmann::json& cfg) {
  const std::string mt = config_model_type(cfg);
  for (const Family* f : all_families())
    for (const auto& t : f->model_types())
      if (!mt.empty() && t == mt) return f;
  return nullptr;
}

const Family& family_for_config(const nlohmann::json& cfg, const std::string& where) {
  const std::string mt = config_model_type(cfg);
  if (mt.empty()) fail(where + ": no model_type (squint runs " + supported_model_types() + ")");
  if (const Family* f = find_family_for_config(cfg)) return *f;
  fail(where + ": model_type '" + mt + "' is not supported (squint runs " + supported_model_types() + ")");
}

const Family& family_for_gguf(const GgufFile& g) {
  const std::string arch = gguf_architecture(g);
  for (const Family* f : all_families())
    if (f->reads_gguf(arch, g)) return *f;
  fail(g.file + ": GGUF architecture '" + arch + "' is not supported (squint runs " + supported_model_types() + ")");
}

const Family& family_named(const std::string& name) {
  for (const Family* f : all_families())
    if (f->name() == name) return *f;
  fail("internal error: no model family named '" + name + "'");
}

ModelHparams hparams_from_config(const nlohmann::json& cfg, const std::string& where) {
  return family_for_config(cfg, where).from_config(cfg, where);
}

std::vector<GgufNameRule> gguf_names_for_config(const nlohmann::json& cfg, const std::string& where) {
  const Family& f = family_for_config(cfg, where);
  return f.gguf_names(f.from_config(cfg, where));
}

ModelHparams hparams_from_gguf(const GgufFile& g, ByteSource* src) { return family_for_gguf(g).from_gguf(g, src); }

}  // namespace squint
