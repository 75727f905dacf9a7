// squint quantize MODEL --plan plan.json -o OUT: writes the plan as an mlx-lm model (packed U32 codes,
// scales/biases, per-module config), one tensor at a time, atomically. With --budget/--bpw/--min-safe instead
// of --plan: analyse, plan and convert in one go.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "atomic_output.h"
#include "command.h"
#include "convert/mlx_layout.h"
#include "convert/mlx_write.h"
#include "convert/side_files.h"
#include "file_source.h"
#include "gguf_quantize.h"
#include "model_input.h"
#include "output.h"
#include "parallel.h"
#include "plan/planner.h"
#include "plan_cli.h"
#include "progress.h"
#include "safetensors_writer.h"
#include "util/error.h"
#include "util/units.h"

namespace squint {

namespace {

namespace fs = std::filesystem;

struct QuantizeCli {
  std::string model, plan, out, save_plan;
  std::string shard_size = "5GiB";
  std::string dtype;  // F32 output dtype, with a budget only (a plan carries its own)
  bool force = false;
  PlanCli budget;
  std::string format = "mlx";
  std::string gguf_type;
  bool no_qk_permute = false;     // hidden, kept for old scripts: = --gguf-negative-control no-qk-permute
  std::string negative_control;  // hidden: a deliberately broken GGUF conversion (tests' negative controls)
};

// Tokenizer and other non-weight files travel with the model (core/convert/side_files.h says which).
void copy_side_files(const ModelPath& mp, const AtomicDir& dir) {
  std::vector<std::string> names;
  if (mp.single_file) {
    for (const auto& k : known_side_files())
      if (mp.provider->exists(k)) names.push_back(k);
  } else {
    for (const auto& f : mp.provider->list())
      if (is_side_file(f)) names.push_back(f);
  }
  for (const auto& n : names) dir.copy_in((fs::path(mp.provider->dir()) / n).string(), n);
}

// --budget/--bpw/--min-safe: analyse (only what the planner may choose) and plan in memory, for either
// output format; --save-plan keeps the plan.
Plan budget_plan(Checkpoint& ck, const QuantizeCli& o, QFormat format) {
  PlanOptions popt = make_plan_options(o.budget, true);
  AnalyzeCli ac;
  ac.format = format_name(format);
  if (!o.dtype.empty()) ac.dtype = o.dtype;
  for (QConfig c : popt.configs) {
    if (c.format != format) continue;
    if (std::find(ac.bits.begin(), ac.bits.end(), c.bits) == ac.bits.end()) ac.bits.push_back(c.bits);
    if (std::find(ac.groups.begin(), ac.groups.end(), c.group) == ac.groups.end()) ac.groups.push_back(c.group);
  }
  Analysis a = run_analysis(ck, ac);
  Plan plan = make_plan(a, popt);
  if (!o.save_plan.empty()) {
    write_file_atomic(o.save_plan, serialize_plan(plan));
    note_wrote(o.save_plan);
  }
  return plan;
}

int run_quantize(const QuantizeCli& o) {
  if (o.format == "gguf") {
    if (!o.save_plan.empty()) check_writable_parent(o.save_plan);
    GgufQuantizeArgs g{o.model, o.plan, o.out, o.gguf_type, o.force,
                       o.no_qk_permute ? std::string("no-qk-permute") : o.negative_control, {}};
    const bool with_budget = !o.budget.budget.empty() || o.budget.bpw > 0 || o.budget.min_safe;
    if (!with_budget && !o.dtype.empty()) fail("--dtype goes with a budget; a plan carries its own F32 output dtype");
    if (with_budget) g.budget_plan = [&o](Checkpoint& ck) { return budget_plan(ck, o, QFormat::Gguf); };
    return run_quantize_gguf(g);
  }
  if (!o.gguf_type.empty()) fail("--type goes with --format gguf");
  const bool quiet = global_options().quiet;
  auto shard = parse_size(o.shard_size);
  if (!shard || *shard == 0) fail("--shard-size: cannot read '" + o.shard_size + "' as a size (e.g. 5GiB)");
  const bool with_budget = !o.budget.budget.empty() || o.budget.bpw > 0 || o.budget.min_safe;
  if (with_budget == !o.plan.empty()) fail("quantize: give either --plan plan.json or a budget (--budget, --bpw, --min-safe)");
  if (!with_budget && !o.dtype.empty()) fail("--dtype goes with a budget; a plan carries its own F32 output dtype");
  if (!o.save_plan.empty()) check_writable_parent(o.save_plan);
  if (path_exists(o.out) && !o.force) fail(o.out + ": already exists (pass --force to replace it)");
  auto t0 = std::chrono::steady_clock::now();
  ModelPath mp = resolve_model_path(o.model);
  Checkpoint ck = open_checkpoint(*mp.provider, mp.single_file);
  for (const auto& w : ck.warnings)
    if (!quiet) fmt::print(stderr, "squint: warning: {}\n", w);
  Plan plan = with_budget ? budget_plan(ck, o, QFormat::Mlx) : parse_plan(read_text_file(o.plan), o.plan);
  ConvertLayout L = plan_conversion(ck, plan, *shard);

  AtomicDir dir(o.out, o.force);
  auto pool = make_thread_pool(global_options().threads);
  Progress prog("quantize", !quiet);
  uint64_t src_total = 0, src_done = 0;
  for (const auto& u : L.units) src_total += u.src_bytes();
  for (std::size_t s = 0; s < L.shards.size(); ++s) {
    std::vector<TensorSpec> specs;
    for (std::size_t ui : L.shards[s])
      for (const auto& t : L.units[ui].outputs) specs.push_back(t);
    SafetensorsWriter w(dir.file(L.shard_names[s]), specs, {{"format", "mlx"}}, dir.shown(L.shard_names[s]));
    for (std::size_t ui : L.shards[s]) {
      const ConvertUnit& u = L.units[ui];
      const uint64_t base = src_done;
      write_unit(ck, u, pool, [&](const uint8_t* p, std::size_t n) { w.write(p, n); },
                 [&](uint64_t d) { prog.update(base + d, src_total, base + d, u.name); });
      src_done = base + u.src_bytes();
    }
    w.finish();
  }
  prog.finish();
  dir.write_text("model.safetensors.index.json", L.index.dump(4) + "\n");
  dir.write_text("config.json", L.config.dump(4) + "\n");
  copy_side_files(mp, dir);
  dir.commit();

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet) {
    std::size_t kept = L.units.size() - L.quantized_modules;
    fmt::print(stderr,
               "wrote {}: {} quantized modules ({}-bit g{} most common), {} kept, {} params, {} in {} file(s), "
               "{:.3f} bits/weight, {:.2f} s ({:.1f} M params/s, {:.2f} GB/s written)\n",
               o.out, L.quantized_modules, L.global.bits, L.global.group, kept, L.total_params,
               human_size(L.total_bytes), L.shards.size(),
               L.total_params ? 8.0 * static_cast<double>(L.total_bytes) / static_cast<double>(L.total_params) : 0.0,
               secs, static_cast<double>(L.total_params) / secs / 1e6, static_cast<double>(L.total_bytes) / secs / 1e9);
  }
  return 0;
}

RegisterCommand reg("quantize", 50, [](CLI::App& app) {
  auto o = std::make_shared<QuantizeCli>();
  app.description("write a plan as an MLX (mlx-lm) mixed-precision model, or a GGUF file for llama.cpp (--format gguf)");
  app.add_option("MODEL", o->model, "float model folder or .safetensors file")->required();
  app.add_option("--plan", o->plan, "plan.json (from squint plan) for this model");
  add_plan_options(app, o->budget, true);
  app.add_option("--dtype", o->dtype, "with a budget: dtype F32 tensors are written as (default float16)")
      ->check(CLI::IsMember({"float16", "bfloat16", "float32"}));
  app.add_option("--save-plan", o->save_plan, "with a budget: also write the plan used here");
  app.add_option("-o,--output", o->out, "output folder (must not exist unless --force)")->required();
  app.add_option("--shard-size", o->shard_size, "start a new shard before this size is passed")->capture_default_str();
  app.add_flag("-f,--force", o->force, "replace OUT if it exists");
  app.add_option("--format", o->format, "output format: mlx (a folder) or gguf (one llama.cpp file)")
      ->check(CLI::IsMember({"mlx", "gguf"}))->capture_default_str();
  app.add_option("--type", o->gguf_type,
                 "with --format gguf: one GGUF type for every matrix (F32, F16, BF16, Q8_0, Q4_K, ...; a matrix whose rows it "
                 "cannot hold is kept in its float type, with a note); default keeps the checkpoint's float type");
  // Debug: write Q/K without llama.cpp's row permutation (the negative control of the llama.cpp test).
  app.add_flag("--gguf-no-qk-permute", o->no_qk_permute)->group("");
  app.add_option("--gguf-negative-control", o->negative_control)->group("");
  return [o] { return run_quantize(*o); };
});

}  // namespace

}  // namespace squint
