// squint synth OUT: writes a seeded, Llama-shaped demo checkpoint with heavy-tailed weights.
#include <fmt/core.h>
#include <fmt/format.h>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "io/shards.h"
#include "output.h"
#include "parallel.h"
#include "progress.h"
#include "safetensors_writer.h"
#include "synth/synth.h"
#include "util/error.h"
#include "util/units.h"

namespace squint {

namespace {

struct SynthCli {
  std::string out;
  std::string preset = "demo";
  int layers = -1;
  int vocab = -1;
  int hidden = -1, intermediate = -1, heads = -1, kv_heads = -1;
  std::string dtype = "bfloat16";
  uint64_t seed = 42;
  std::string shard_size = "5GiB";
  bool tied = false;
  bool force = false;
};

int run_synth(const SynthCli& o) {
  SynthSpec s = synth_preset(o.preset);
  if (o.layers > 0) s.layers = o.layers;
  if (o.vocab > 0) s.vocab = o.vocab;
  if (o.hidden > 0) s.hidden = o.hidden;
  if (o.intermediate > 0) s.intermediate = o.intermediate;
  if (o.heads > 0) s.heads = o.heads;
  if (o.kv_heads > 0) s.kv_heads = o.kv_heads;
  if (s.hidden % s.heads != 0 || s.heads % s.kv_heads != 0)
    fail("synth: hidden must be a multiple of heads, and heads a multiple of kv-heads");
  s.dtype = *parse_float_dtype_name(o.dtype);
  s.seed = o.seed;
  s.tied = s.tied || o.tied;
  auto shard = parse_size(o.shard_size);
  if (!shard || *shard == 0) fail("--shard-size: cannot read '" + o.shard_size + "' as a size (e.g. 5GiB, 900MB)");

  auto tensors = synth_tensors(s);
  std::vector<uint64_t> sizes;
  uint64_t total = 0, params = 0;
  for (const auto& t : tensors) {
    sizes.push_back(t.nbytes());
    total += t.nbytes();
    params += t.nbytes() * 8 / dtype_bits(t.dtype);
  }
  std::vector<std::vector<TensorSpec>> shards;
  for (const auto& idx : split_shards(sizes, *shard)) {
    shards.emplace_back();
    for (std::size_t i : idx) shards.back().push_back(tensors[i]);
  }

  AtomicDir dir(o.out, o.force);
  auto pool = make_thread_pool(global_options().threads);
  Progress prog("synth", !global_options().quiet);
  const std::vector<std::string> files = shard_file_names(shards.size());
  std::vector<std::vector<std::string>> names(shards.size());
  uint64_t done = 0;
  const std::size_t esize = dtype_bits(s.dtype) / 8;
  std::vector<uint8_t> buf;
  for (std::size_t si = 0; si < shards.size(); ++si) {
    SafetensorsWriter w(dir.file(files[si]), shards[si], {{"format", "pt"}}, dir.shown(files[si]));
    for (const auto& t : shards[si]) {
      const uint64_t n = t.nbytes() / esize;
      const uint64_t block = 1 << 22;  // elements per write
      for (uint64_t b = 0; b < n; b += block) {
        const uint64_t m = std::min(block, n - b);
        buf.resize(m * esize);
        const uint64_t piece = 1 << 16;
        pool((m + piece - 1) / piece, [&](std::size_t k) {
          uint64_t s0 = k * piece, c = std::min(piece, m - s0);
          synth_fill(s, t, b + s0, c, buf.data() + s0 * esize);
        });
        w.write(buf.data(), buf.size());
        done += buf.size();
        prog.update(done, total, done, t.name);
      }
      names[si].push_back(t.name);
    }
    w.finish();
  }
  prog.finish();
  if (shards.size() > 1)
    dir.write_text("model.safetensors.index.json", shard_index(names, files, total, nullptr).dump(2) + "\n");
  dir.write_text("config.json", synth_config(s).dump(2) + "\n");
  dir.commit();
  note_wrote(o.out, fmt::format(" ({} tensors, {} params, {}, {} file(s), preset {}, seed {})", tensors.size(), params,
                                human_size(total), shards.size(), o.preset, o.seed));
  return 0;
}

RegisterCommand reg_synth("synth", 10, [](CLI::App& app) {
  auto o = std::make_shared<SynthCli>();
  app.description("write a seeded synthetic Llama-shaped checkpoint (demo model, benchmarks)");
  always(app.add_option("OUT", o->out, "output folder")->required());
  always(app.add_option("--preset", o->preset, "one of: " + fmt::format("{}", fmt::join(synth_preset_names(), ", ")))
             ->capture_default_str());
  always(app.add_option("--layers", o->layers, "number of transformer layers (overrides the preset)"));
  always(
      app.add_option("--vocab", o->vocab, "vocabulary size (overrides the preset; small = a model of mostly layers)"));
  always(app.add_option("--hidden", o->hidden, "hidden size (overrides the preset)"));
  always(app.add_option("--intermediate", o->intermediate, "MLP size (overrides the preset)"));
  always(app.add_option("--heads", o->heads, "attention heads (overrides the preset)"));
  always(app.add_option("--kv-heads", o->kv_heads, "key/value heads (overrides the preset)"));
  always(app.add_option("--dtype", o->dtype, "bfloat16 | float16 | float32")
             ->check(CLI::IsMember({"bfloat16", "float16", "float32"}))
             ->capture_default_str());
  always(app.add_option("--seed", o->seed, "RNG seed")->capture_default_str());
  always(app.add_option("--shard-size", o->shard_size, "start a new shard past this size")->capture_default_str());
  always(app.add_flag("--tied", o->tied, "tie lm_head to the embedding (no lm_head tensor)"));
  always(app.add_flag("-f,--force", o->force, "replace OUT if it exists"));
  return [o] { return run_synth(*o); };
});

}  // namespace

}  // namespace squint
