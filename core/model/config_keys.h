#pragma once
// Reading config.json keys the way every family does: the text part of a multimodal config
// (text_config), integers through json_int (untrusted input), the decoder hyperparameters all families
// share, and RoPE scaling.
#include <nlohmann/json.hpp>
#include <string>

#include "model/hparams.h"

namespace squint {

// config["text_config"] when present, else config.
const nlohmann::json& text_config(const nlohmann::json& config);
// config.json's model_type (text_config's first).
std::string config_model_type(const nlohmann::json& config);

class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& config, std::string where);
  const nlohmann::json& text() const { return j_; }
  bool has(const char* key) const;
  // Absent or null: `def`; a number that is no int in range, or another type: an error naming the key.
  int integer(const char* key, int def) const;
  double number(const char* key, double def) const;
  bool boolean(const char* key, bool def) const;
  // The same keys read from the top level of config.json (bos/eos ids, tie_word_embeddings of wrappers).
  int root_integer(const char* key, int def) const;
  bool root_boolean(const char* key, bool def) const;
  [[noreturn]] void fail_key(const std::string& key, const std::string& why) const;
  const std::string& where() const { return where_; }

 private:
  const nlohmann::json& root_;
  const nlohmann::json& j_;
  std::string where_;
};

// A RoPE scaling object (config.json's rope_scaling, or one entry of transformers' newer rope_parameters, which
// may also carry rope_theta) read into rs: type default | linear | llama3, anything else refused.
void read_rope_scaling(const nlohmann::json& r, RopeSpec& rs, const std::string& where);

// The decoder hyperparameters of the Llama family, which the others start from: sizes, heads, head_dim,
// eps, RoPE (theta and scaling: default, linear, llama3), tied embeddings, bos/eos, context length.
ModelHparams decoder_hparams(const ConfigReader& c);

}  // namespace squint
