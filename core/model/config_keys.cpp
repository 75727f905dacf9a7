#include "model/config_keys.h"

#include "util/error.h"
#include "util/json_guard.h"

namespace squint {

const nlohmann::json& text_config(const nlohmann::json& j) {
  return j.is_object() && j.contains("text_config") && j["text_config"].is_object() ? j["text_config"] : j;
}

std::string config_model_type(const nlohmann::json& j) {
  if (!j.is_object()) return "";
  const nlohmann::json& t = text_config(j);
  if (t.contains("model_type") && t["model_type"].is_string()) return t["model_type"].get<std::string>();
  if (j.contains("model_type") && j["model_type"].is_string()) return j["model_type"].get<std::string>();
  return "";
}

ConfigReader::ConfigReader(const nlohmann::json& config, std::string where)
    : root_(config), j_(text_config(config)), where_(std::move(where)) {
  if (!j_.is_object()) squint::fail(where_ + ": not a JSON object");
}

bool ConfigReader::has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }

void ConfigReader::fail_key(const std::string& key, const std::string& why) const { squint::fail(where_ + ": " + key + " " + why); }

namespace {
int int_of(const nlohmann::json& o, const char* key, int def, const std::string& where) {
  if (!o.contains(key) || o[key].is_null()) return def;
  const nlohmann::json& v = o[key];
  if (v.is_array() && !v.empty() && v[0].is_number()) return json_int<int>(v[0], where + ": " + key);  // e.g. eos lists
  if (!v.is_number()) squint::fail(where + ": " + key + " is not a number");
  return json_int<int>(v, where + ": " + key);
}
}  // namespace

int ConfigReader::integer(const char* key, int def) const { return int_of(j_, key, def, where_); }
int ConfigReader::root_integer(const char* key, int def) const {
  return int_of(root_, key, int_of(j_, key, def, where_), where_);
}

bool ConfigReader::root_boolean(const char* key, bool def) const {
  if (!root_.contains(key) || root_[key].is_null()) return def;
  if (!root_[key].is_boolean()) fail_key(key, "is not true or false");
  return root_[key].get<bool>();
}

double ConfigReader::number(const char* key, double def) const {
  if (!has(key)) return def;
  if (!j_[key].is_number()) fail_key(key, "is not a number");
  return j_[key].get<double>();
}

bool ConfigReader::boolean(const char* key, bool def) const {
  if (!has(key)) return def;
  if (!j_[key].is_boolean()) fail_key(key, "is not true or false");
  return j_[key].get<bool>();
}

void read_rope_scaling(const nlohmann::json& r, RopeSpec& rs, const std::string& where) {
  rs.type = r.value("rope_type", r.value("type", std::string("default")));
  if (r.contains("rope_theta")) {
    if (!r["rope_theta"].is_number()) squint::fail(where + ": rope_theta is not a number");
    rs.theta = r["rope_theta"].get<double>();
  }
  rs.factor = r.value("factor", 1.0);
  rs.low_freq_factor = r.value("low_freq_factor", 1.0);
  rs.high_freq_factor = r.value("high_freq_factor", 4.0);
  rs.original_max_pos = int_of(r, "original_max_position_embeddings", 8192, where);
  if (rs.type != "default" && rs.type != "linear" && rs.type != "llama3")
    squint::fail(where + ": rope type '" + rs.type + "' is not supported (default, linear, llama3)");
}

ModelHparams decoder_hparams(const ConfigReader& c) {
  ModelHparams h;
  h.hidden = c.integer("hidden_size", 0);
  h.intermediate = c.integer("intermediate_size", 0);
  h.layers = c.integer("num_hidden_layers", 0);
  h.heads = c.integer("num_attention_heads", 0);
  h.kv_heads = c.integer("num_key_value_heads", h.heads);
  h.vocab = c.integer("vocab_size", 0);
  if (h.hidden <= 0 || h.layers <= 0 || h.heads <= 0 || h.vocab <= 0)
    squint::fail(c.where() + ": not a decoder config (hidden_size, num_hidden_layers, num_attention_heads, vocab_size)");
  if (h.kv_heads <= 0 || h.heads % h.kv_heads)
    squint::fail(c.where() + ": num_attention_heads is not a multiple of num_key_value_heads");
  h.head_dim = c.integer("head_dim", h.hidden / h.heads);
  if (h.head_dim <= 0 || h.head_dim % 2) squint::fail(c.where() + ": head_dim must be a positive even number");
  h.context = c.integer("max_position_embeddings", 0);
  h.eps = static_cast<float>(c.number("rms_norm_eps", 1e-5));
  h.rope.theta = c.number("rope_theta", 10000.0);
  // A multimodal wrapper may say it at the top level only.
  h.tied = c.root_boolean("tie_word_embeddings", c.boolean("tie_word_embeddings", false));
  h.bos = c.root_integer("bos_token_id", 1);
  h.eos = c.root_integer("eos_token_id", 2);
  if (c.has("rope_scaling") && c.text()["rope_scaling"].is_object())
    read_rope_scaling(c.text()["rope_scaling"], h.rope, c.where() + ": rope_scaling");
  for (int l = 0; l < h.layers; ++l) h.layer_moe.push_back(false);
  return h;
}

}  // namespace squint
