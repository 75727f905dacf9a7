#pragma once
// The model families squint runs and converts, registered once: each family (core/model/families/<name>.cpp)
// reads its config.json keys into ModelHparams, loads its weights by their Hugging Face names for the forward
// pass, and says how llama.cpp lays it out in GGUF (architecture, metadata keys, tensor names and the
// conversions convert_hf_to_gguf.py applies). Eval, the GGUF writer and reader, and the KV-cache arithmetic
// all consult this registry; a model_type no family claims is refused by every verb that runs a model.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "model/gguf_names.h"
#include "model/hparams.h"
#include "model/weights.h"

namespace squint {

struct TensorShape {
  std::string name;
  std::vector<int64_t> shape;
};

class Family {
 public:
  virtual ~Family() = default;
  virtual std::string name() const = 0;
  // config.json model_type values this family runs (for multimodal wrappers: the text part's).
  virtual std::vector<std::string> model_types() const = 0;
  // `cfg` is config.json as read (a family may look into text_config); `where` names the file in errors.
  virtual ModelHparams from_config(const nlohmann::json& cfg, const std::string& where) const = 0;
  virtual ModelWeights load(const ModelHparams& h, WeightLoader& w) const = 0;
  // Every tensor a checkpoint of this family with these hyperparameters holds (HF names and shapes, in the
  // order HF checkpoints list them): what `squint synth` writes for the family's presets.
  virtual std::vector<TensorShape> tensors(const ModelHparams& h) const = 0;
  // Tensors of a checkpoint that lie outside the language model this family runs (a multimodal wrapper's
  // vision tower and projector): the forward pass never reads them and the GGUF writer leaves them out.
  virtual bool outside_text_model(const std::string& hf_name) const {
    (void)hf_name;
    return false;
  }
  // Why mlx-lm's model file for this model_type would not find a tensor of that name, or "" (it would): an MLX
  // conversion of such a checkpoint is refused rather than written for a loader that cannot read it.
  virtual std::string mlx_unreadable(const std::string& hf_name) const {
    (void)hf_name;
    return "";
  }

  // GGUF, as llama.cpp's loader for this family expects it.
  virtual std::string gguf_arch(const ModelHparams& h) const = 0;
  // Whether this family reads GGUF file `g` (by its architecture and, e.g., its expert count).
  virtual bool reads_gguf(const std::string& arch, const GgufFile& g) const = 0;
  // Architecture keys (general.* and <arch>.*; the tokenizer's are added by the writer); `model_name` is
  // general.name. Throws for a configuration llama.cpp's graph for this architecture cannot express.
  virtual std::vector<GgufKV> gguf_kv(const ModelHparams& h, const std::string& model_name) const = 0;
  virtual ModelHparams from_gguf(const GgufFile& g, ByteSource* src) const = 0;
  virtual std::vector<GgufNameRule> gguf_names(const ModelHparams& h) const = 0;

  // MLX, as mlx-lm's models/<model_type>.py loads it: throws for a configuration that file cannot express, and
  // may add to `cfg` (the output config.json) keys it requires but this config leaves to Hugging Face's
  // defaults. The default: nothing to check or add.
  virtual void mlx_config(const ModelHparams& h, nlohmann::json& cfg) const {
    (void)h;
    (void)cfg;
  }
};

const std::vector<const Family*>& all_families();
// The family of a config.json (its model_type, or text_config's); refused with the supported list otherwise.
const Family& family_for_config(const nlohmann::json& cfg, const std::string& where);
// The same without the refusal: nullptr when config.json names no registered model_type (data-free analysis
// and MLX conversion work by tensor names for any model).
const Family* find_family_for_config(const nlohmann::json& cfg);
const Family& family_for_gguf(const GgufFile& g);
// The HF → GGUF tensor-name table of the checkpoint whose config.json is cfg (its family's, for its hparams).
std::vector<GgufNameRule> gguf_names_for_config(const nlohmann::json& cfg, const std::string& where);
const Family& family_named(const std::string& name);
// "llama, mistral, qwen2, ..." for messages and README.
std::string supported_model_types();

// Shortcuts: the hyperparameters of a config.json / a GGUF file through its family.
ModelHparams hparams_from_config(const nlohmann::json& cfg, const std::string& where);
ModelHparams hparams_from_gguf(const GgufFile& g, ByteSource* src);

}  // namespace squint
