#include "eval_model.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "command.h"
#include "convert/gate.h"
#include "convert/gguf_llama.h"
#include "eval/perplexity.h"
#include "eval/seq_len.h"
#include "file_source.h"
#include "input_kind.h"
#include "model/family.h"
#include "model/mlx_source.h"
#include "model_input.h"
#include "parallel.h"
#include "plan/plan.h"
#include "tokenizer_sp.h"
#include "util/error.h"

namespace squint {

std::string model_dir(const std::string& path) {
  if (is_directory(path)) return path;
  auto p = std::filesystem::path(path).parent_path().string();
  return p.empty() ? "." : p;
}

namespace {
// Per-tensor SQNR of QUANTIZED (measured against the original by the gate, so it is the gate's number) or
// of a plan.
std::map<std::string, double> noise_targets(const NoiseSpec& n, const MlxModel& original) {
  std::map<std::string, double> out;
  if (is_analysis_file(n.like)) {
    Plan p = parse_plan(read_text_file(n.like), n.like);
    for (const auto& t : p.tensors)
      if (!t.keep()) out[t.name] = t.sqnr_db;
    return out;
  }
  DirProvider dp(model_dir(n.like));
  MlxModel q = open_mlx_model(dp);
  for (const auto& t : gate_models(original.ck, q, 0.0, serial()).tensors) out[t.name] = t.sqnr_db;
  return out;
}
}  // namespace

bool is_gguf_file(const std::string& path) {
  if (is_directory(path) || !path_exists(path)) return false;
  FileSource f(path);
  return looks_like_gguf(f);
}

std::string tokenizer_source(const std::string& model) { return is_gguf_file(model) ? model : model_dir(model); }

ModelHparams load_model_hparams(const std::string& path) {
  if (is_gguf_file(path)) {
    FileSource f(path);
    return hparams_from_gguf(read_gguf(f), &f);
  }
  const std::string dir = model_dir(path);
  if (!path_exists(dir + "/config.json")) fail(dir + ": no config.json");
  auto cfgj = nlohmann::json::parse(read_text_file(dir + "/config.json"), nullptr, false);
  if (cfgj.is_discarded()) fail(dir + "/config.json: not valid JSON");
  return hparams_from_config(cfgj, dir + "/config.json");
}

// Through the model-family registry (core/model): config.json's max_position_embeddings or the GGUF's
// <arch>.context_length, as each family reads them. A model whose hyperparameters cannot be read gives 0 here:
// the verb's own loading says what is wrong with it (after its tokenizer, whose message is the more useful).
int model_context_length(const std::string& model) {
  try {
    return load_model_hparams(model).context;
  } catch (const Error&) {
    return 0;
  }
}

int window_length(int requested, const std::string& model, const std::string& flag, int cap) {
  return window_length(requested, std::vector<std::string>{model}, flag, cap);
}

int window_length(int requested, const std::vector<std::string>& models, const std::string& flag, int cap) {
  int context = 0;  // the shortest stated context, and the model that states it
  std::string model = models.empty() ? std::string() : models.front();
  for (const auto& m : models)
    if (const int c = model_context_length(m); c > 0 && (context == 0 || c < context)) {
      context = c;
      model = m;
    }
  try {
    return resolve_seq_len(requested, context, flag, model, cap);
  } catch (const Error& e) {  // "eval: --seq-len 2048 is longer ...", as the verb's other refusals
    const std::string& verb = global_options().verb;
    fail(verb.empty() ? e.what() : verb + ": " + e.what());
  }
}

EvalWindows load_eval_windows(const std::string& text_file, const std::string& tokenizer_dir, int seq_len, int samples,
                              uint64_t seed) {
  if (seq_len < 2) fail("--seq-len must be at least 2");
  auto tok = load_model_tokenizer(tokenizer_dir);
  const std::string text = prepare_eval_text(read_text_file(text_file));
  std::vector<int> ids = tok->encode_special(text);  // the same ids as `squint tokenize`
  return make_windows(std::move(ids), seq_len, samples, seed, text_file);
}

std::function<void(std::size_t, std::size_t)> window_progress(Progress& p) {
  auto mu = std::make_shared<std::mutex>();
  return [&p, mu](std::size_t done, std::size_t total) {
    std::lock_guard<std::mutex> lock(*mu);
    p.update(done, total, 0);
  };
}

std::unique_ptr<Model> load_model(const std::string& path, const NoiseSpec* noise) {
  expect_runnable_model(path);
  if (is_gguf_file(path)) {
    if (noise) fail(path + ": --noise-like works on safetensors/MLX models, not GGUF files");
    FileSource f(path);
    GgufFile g = read_gguf(f);
    // Weights are dequantized into the model here, so the file can close afterwards.
    return std::make_unique<Model>(hparams_from_gguf(g, &f), weights_from_gguf(g, f));
  }
  const std::string dir = model_dir(path);
  DirProvider dp(dir);
  MlxModel m = open_mlx_model(dp);
  ModelHparams cfg = load_model_hparams(path);
  std::set<std::string> read;
  WeightSource base = weights_from(m, &read);
  std::unique_ptr<Model> model;
  if (!noise) {
    // F16/BF16 matrices stay in their stored precision (dequantized tile by tile as they run, over the
    // threads of --threads); the rest is read as float32.
    model =
        std::make_unique<Model>(cfg, base, stored_linears_from(m, &read, make_thread_pool(global_options().threads)));
  } else {
    auto targets = noise_targets(*noise, m);
    const uint64_t seed = noise->seed;
    WeightSource noisy = [&, targets, seed](const std::string& name, std::vector<int64_t>* shape,
                                            std::vector<float>* data) {
      if (!base(name, shape, data)) return false;
      auto it = targets.find(name);
      if (it != targets.end()) add_matched_noise(data->data(), data->size(), it->second, seed, name);
      return true;
    };
    model = std::make_unique<Model>(cfg, noisy);
  }
  check_all_weights_read(m, read, cfg);
  return model;
}

}  // namespace squint
