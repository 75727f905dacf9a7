// squint dequantize QUANTIZED -o OUT: an MLX model back to a plain float HF-layout checkpoint, so any tool
// can evaluate exactly the weights the quantized model computes with.
#include <fmt/core.h>

#include <chrono>
#include <filesystem>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "convert/dequantize.h"
#include "convert/side_files.h"
#include "file_source.h"
#include "input_kind.h"
#include "parallel.h"
#include "progress.h"
#include "safetensors_writer.h"
#include "util/error.h"
#include "util/units.h"

namespace squint {

namespace {

namespace fs = std::filesystem;

struct DequantizeCli {
  std::string model, out, dtype;
  bool force = false;
};

int run_dequantize(const DequantizeCli& o) {
  const bool quiet = global_options().quiet;
  auto t0 = std::chrono::steady_clock::now();
  std::optional<DType> dt;
  if (!o.dtype.empty()) dt = parse_float_dtype_name(o.dtype);
  expect_mlx_folder(o.model);
  ModelPath mp = resolve_model_path(o.model);
  if (mp.single_file) fail(o.model + ": give the MLX model's folder (its config.json holds the bit widths)");
  MlxModel m = open_mlx_model(*mp.provider);
  DequantLayout L = plan_dequantize(m, dt);

  AtomicDir dir(o.out, o.force);
  auto pool = make_thread_pool(global_options().threads);
  Progress prog("dequantize", !quiet);
  uint64_t done = 0;
  for (std::size_t s = 0; s < L.shards.size(); ++s) {
    std::vector<TensorSpec> specs;
    for (std::size_t i : L.shards[s]) specs.push_back({L.tensors[i].name, L.tensors[i].dtype, L.tensors[i].shape});
    SafetensorsWriter w(dir.file(L.shard_names[s]), specs, {{"format", "pt"}}, dir.shown(L.shard_names[s]));
    for (std::size_t i : L.shards[s]) {
      write_dequant_tensor(m, L.tensors[i], pool, [&](const uint8_t* p, std::size_t n) {
        w.write(p, n);
        done += n;
        prog.update(done, L.total_bytes, done, L.tensors[i].name);
      });
    }
    w.finish();
  }
  prog.finish();
  if (L.shards.size() > 1) dir.write_text("model.safetensors.index.json", L.index.dump(2) + "\n");
  dir.write_text("config.json", L.config.dump(2) + "\n");
  for (const auto& f : mp.provider->list())
    if (is_side_file(f)) dir.copy_in((fs::path(mp.provider->dir()) / f).string(), f);
  std::size_t dequantized = 0;
  for (const auto& t : m.tensors) dequantized += t.quant.has_value();
  dir.write_text("SOURCE.txt",
                 converted_source(fmt::format("a float model written by squint dequantize: {} tensors, {} of them "
                                              "dequantized{}",
                                              L.tensors.size(), dequantized, o.dtype.empty() ? "" : " to " + o.dtype),
                                  "the quantized model " + o.model,
                                  mp.provider->exists("SOURCE.txt")
                                      ? read_text_file((fs::path(mp.provider->dir()) / "SOURCE.txt").string())
                                      : std::string()));
  dir.commit();
  if (!quiet) {
    std::size_t nq = 0;
    for (const auto& t : m.tensors) nq += t.quant.has_value();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print(stderr, "wrote {}: {} tensors ({} dequantized), {} in {} file(s), {:.2f} s\n", o.out, L.tensors.size(), nq,
               human_size(L.total_bytes), L.shards.size(), secs);
  }
  return 0;
}

RegisterCommand reg_dequantize("dequantize", 65, [](CLI::App& app) {
  auto o = std::make_shared<DequantizeCli>();
  app.description("turn an MLX quantized model back into a plain float checkpoint (HF layout)");
  always(app.add_option("QUANTIZED", o->model, "MLX model folder")->required());
  always(app.add_option("-o,--output", o->out, "output folder (must not exist unless --force)")->required());
  always(app.add_option("--dtype", o->dtype,
                        "float16 | bfloat16 | float32 for every float tensor (default: the scales' dtype)")
             ->check(CLI::IsMember({"float16", "bfloat16", "float32"})));
  always(app.add_flag("-f,--force", o->force, "replace OUT if it exists"));
  return [o] { return run_dequantize(*o); };
});

}  // namespace

}  // namespace squint
