#include "model_input.h"

#include <algorithm>

#include "analysis/analysis_json.h"
#include "command.h"
#include "file_source.h"
#include "parallel.h"
#include "progress.h"
#include "util/error.h"

namespace squint {

void add_analyze_options(CLI::App& app, AnalyzeCli& o, bool with_features, bool with_filters) {
  app.add_option("--dtype", o.dtype, "dtype F32 tensors are written as (scales/biases and kept tensors)")
      ->check(CLI::IsMember({"float16", "bfloat16", "float32"}))
      ->capture_default_str();
  app.add_option("--format", o.format, "candidates: mlx (affine bits/group) or gguf (ggml's Q4_0..Q8_0, Q2_K..Q6_K, IQ4_NL, IQ4_XS)")
      ->check(CLI::IsMember({"mlx", "gguf"}))
      ->capture_default_str();
  if (!with_filters) {
    if (with_features) app.add_flag("--features", o.features, "also compute sensitivity features (slower)");
    return;
  }
  app.add_option("--bits", o.bits, "candidate bit widths (default 2,3,4,5,6,8)")
      ->delimiter(',')
      ->check(CLI::IsMember({2, 3, 4, 5, 6, 8}));
  app.add_option("--group-sizes", o.groups, "candidate group sizes (default 32,64,128; GGUF blocks: 32,256)")
      ->delimiter(',')
      ->check(CLI::IsMember({32, 64, 128, 256}));
  if (with_features) app.add_flag("--features", o.features, "also compute sensitivity features (slower)");
}

AnalyzeOptions make_analyze_options(const AnalyzeCli& o, const std::string&) {
  AnalyzeOptions opt;
  opt.f32_out_dtype = *parse_float_dtype_name(o.dtype);
  opt.configs.clear();
  opt.format = o.format == "gguf" ? QFormat::Gguf : QFormat::Mlx;
  for (QConfig c : opt.format == QFormat::Gguf ? all_gguf_configs() : all_configs()) {
    bool bok = o.bits.empty() || std::find(o.bits.begin(), o.bits.end(), c.bits) != o.bits.end();
    bool gok = o.groups.empty() || std::find(o.groups.begin(), o.groups.end(), c.group) != o.groups.end();
    if (bok && gok) opt.configs.push_back(c);
  }
  if (opt.configs.empty()) fail("--bits/--group-sizes leave no " + o.format + " candidate to measure");
  opt.parallel = make_thread_pool(global_options().threads);
  return opt;
}

bool is_analysis_file(const std::string& path) {
  if (is_directory(path)) return false;
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0 &&
         path.find("model.safetensors.index.json") == std::string::npos;
}

Analysis run_analysis(const Checkpoint& ck, const AnalyzeCli& o) {
  AnalyzeOptions opt = make_analyze_options(o, "analyze");
  auto prog = std::make_shared<Progress>("analyze", !global_options().quiet);
  opt.progress = [prog](const AnalyzeProgress& p) {
    prog->update(p.tensors_done, p.tensors_total, p.bytes_done, p.current ? *p.current : "");
  };
  if (o.features) {
    opt.per_tensor_hook = make_feature_hook();
  }
  Analysis a = analyze_checkpoint(ck, opt);
  prog->finish();
  return a;
}

Analysis load_or_analyze(const std::string& path, const AnalyzeCli& o) {
  if (is_analysis_file(path)) return parse_analysis(read_text_file(path), path);
  Checkpoint ck = open_model(path);
  for (const auto& w : ck.warnings)
    if (!global_options().quiet) std::fprintf(stderr, "squint: warning: %s\n", w.c_str());
  return run_analysis(ck, o);
}

}  // namespace squint
