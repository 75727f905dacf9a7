// squint quantize MODEL --plan plan.json -o OUT: writes the plan as an mlx-lm model (packed U32 codes,
// scales/biases, per-module config), one tensor at a time, atomically. With --budget/--bpw/--min-safe instead
// of --plan: analyse, plan and convert in one go.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "convert/mlx_layout.h"
#include "convert/mlx_write.h"
#include "convert/side_files.h"
#include "file_source.h"
#include "gguf_quantize.h"
#include "input_kind.h"
#include "model_input.h"
#include "output.h"
#include "parallel.h"
#include "plan/planner.h"
#include "plan_cli.h"
#include "progress.h"
#include "quant/ggml_quants.h"
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
  std::string format;  // mlx | gguf; empty: gguf when -o ends in .gguf, else mlx (output_format)
  std::string gguf_type;
  bool no_qk_permute = false;     // hidden, kept for old scripts: = --gguf-negative-control no-qk-permute
  std::string negative_control;  // hidden: a deliberately broken GGUF conversion (tests' negative controls)
  std::string imatrix;
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

// The float model's own SOURCE.txt (empty: none), quoted in the converted model's.
std::string original_source(const ModelPath& mp) {
  if (!mp.provider->exists("SOURCE.txt")) return "";
  return read_text_file((fs::path(mp.provider->dir()) / "SOURCE.txt").string());
}

// The unit sizes are shown in (core/util/units.h show_size): --budget's, else the default.
std::string size_unit(const PlanCli& b) { return b.budget.empty() ? "" : size_unit_of(b.budget); }

std::string budget_words(const PlanCli& b) {
  if (!b.budget.empty()) return "--budget " + b.budget;
  if (b.bpw > 0) return fmt::format("--bpw {:g}", b.bpw);
  return "--min-safe";
}

// --budget/--bpw/--min-safe: analyse (only what the planner may choose) and plan in memory, for either
// output format; --save-plan keeps the plan.
Plan budget_plan(Checkpoint& ck, const QuantizeCli& o, QFormat format) {
  PlanOptions popt = make_plan_options(o.budget, true);
  check_config_filters(o.budget.bits, o.budget.groups, format, !o.imatrix.empty());
  AnalyzeCli ac;
  ac.format = format_name(format);
  ac.imatrix = o.imatrix;
  if (!o.dtype.empty()) ac.dtype = o.dtype;
  // The widths and blocks of the configs the analysis can measure: the grid types but IQ3_S need an imatrix.
  for (QConfig c : popt.configs) {
    if (c.format != format || (c.gguf() && o.imatrix.empty() && llama_requires_imatrix(c.type))) continue;
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

bool with_budget(const QuantizeCli& o) { return !o.budget.budget.empty() || o.budget.bpw > 0 || o.budget.min_safe; }

// The format a plan file says it is ("gguf", "mlx"), "" when it cannot be read here: its reader says why later.
std::string plan_format_of(const std::string& plan) {
  if (plan.empty() || !path_exists(plan) || is_directory(plan)) return "";
  const auto j = nlohmann::json::parse(read_text_file(plan), nullptr, false);
  if (!j.is_object() || j.value("format", std::string()) != "squint.plan") return "";
  return j.value("quant_format", std::string("mlx"));
}

// The output format: --format, else what the plan and -o's name say (NAME.gguf is a GGUF file: never a folder
// named so; a GGUF plan is written to a GGUF file, an MLX plan to a folder).
std::string output_format(const QuantizeCli& o) {
  const bool gguf_name = o.out.ends_with(".gguf");
  if (o.format.empty()) {
    const std::string pf = plan_format_of(o.plan);
    if (pf == "gguf" && !gguf_name)
      fail("quantize: " + o.plan + " is a GGUF plan; give -o NAME.gguf (a GGUF model is one file), not -o " + o.out);
    if (pf == "mlx" && gguf_name)
      fail("quantize: " + o.plan + " is an MLX plan, but -o " + o.out +
           " names a GGUF file; give a folder name, or make a GGUF plan (--format gguf)");
    return gguf_name ? "gguf" : "mlx";
  }
  if (o.format == "mlx" && gguf_name)
    fail("quantize: -o " + o.out +
         " names a GGUF file, but --format mlx writes a folder; use --format gguf or another name");
  return o.format;
}

// --imatrix: GGUF types are quantized with it, and a budget's plan is measured with it (either format).
const Mode kImatrixUse{"imatrix-use", "with GGUF output or a budget (--budget, --bpw, --min-safe)"};

// Which model this run writes, refused when contradictory (before any work): what main's option check needs.
Modes quantize_modes(const QuantizeCli& o) {
  const std::string format = output_format(o);
  // (--type on an MLX output is refused as not applying, which says more than "only one of".)
  const int sources =
      (with_budget(o) ? 1 : 0) + (o.plan.empty() ? 0 : 1) + (o.gguf_type.empty() || format == "mlx" ? 0 : 1);
  if (sources > 1) fail("quantize: give only one of --type, --plan or a budget (--budget, --bpw, --min-safe)");
  Modes m;
  m.set(mode::gguf, format == "gguf").set(mode::mlx, format == "mlx").set(mode::budget, with_budget(o));
  m.set(kImatrixUse, format == "gguf" || with_budget(o),
        "MLX quantization takes no importance weights and a plan already made its choices");
  // MLX with --type: say why the run is MLX (--type alone does not make it GGUF), not "an MLX folder of Q8_0".
  const bool mlx_by_default = format == "mlx" && o.format.empty();
  m.what = std::string(format == "gguf" ? "this run writes a GGUF file" : "this run writes an MLX folder") +
           (with_budget(o)         ? " planned for the budget"
            : !o.plan.empty()      ? " from --plan " + o.plan
            : mlx_by_default       ? " (-o " + o.out + " does not end in .gguf, no --format gguf)"
            : format == "mlx"      ? " (--format mlx)"
            : !o.gguf_type.empty() ? " of --type " + o.gguf_type
                                   : " in the checkpoint's float types");
  return m;
}

int run_quantize(const QuantizeCli& o) {
  expect_float_model(o.model);
  const std::string format = output_format(o);
  if (o.format.empty() && format == "gguf")
    note("squint: note: -o " + o.out + " ends in .gguf: writing GGUF (--format gguf)");
  if (format == "gguf" && is_directory(o.out))
    fail("quantize: -o " + o.out + " is a folder; a GGUF model is one file (give a file name, e.g. model.gguf)");
  if (format == "mlx" && path_exists(o.out) && !is_directory(o.out))
    fail("quantize: -o " + o.out + " is a file; an MLX model is a folder (give a folder name, or --format gguf)");
  if (format == "gguf") {
    if (!o.save_plan.empty()) check_writable_parent(o.save_plan);
    GgufQuantizeArgs g{o.model,
                       o.plan,
                       o.out,
                       o.gguf_type,
                       o.imatrix,
                       o.force,
                       o.no_qk_permute ? std::string("no-qk-permute") : o.negative_control,
                       {},
                       size_unit(o.budget)};
    if (with_budget(o)) g.budget_plan = [&o](Checkpoint& ck) { return budget_plan(ck, o, QFormat::Gguf); };
    return run_quantize_gguf(g);
  }
  if (!with_budget(o) && o.plan.empty())
    fail("quantize: give either --plan plan.json or a budget (--budget, --bpw, --min-safe)");
  const bool quiet = global_options().quiet;
  auto shard = parse_size(o.shard_size);
  if (!shard || *shard == 0) fail("--shard-size: cannot read '" + o.shard_size + "' as a size (e.g. 5GiB)");
  if (!o.save_plan.empty()) check_writable_parent(o.save_plan);
  if (path_exists(o.out) && !o.force) fail(o.out + ": already exists (pass --force to replace it)");
  auto t0 = std::chrono::steady_clock::now();
  ModelPath mp = resolve_model_path(o.model);
  Checkpoint ck = open_checkpoint(*mp.provider, mp.single_file);
  for (const auto& w : ck.warnings)
    if (!quiet) fmt::print(stderr, "squint: warning: {}\n", w);
  Plan plan = with_budget(o) ? budget_plan(ck, o, QFormat::Mlx) : parse_plan(read_text_file(o.plan), o.plan);
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
  dir.write_text(
      "SOURCE.txt",
      converted_source(
          fmt::format(
              "an MLX mixed-precision model written by squint quantize: {} quantized modules "
              "({}-bit group {} most common), {} kept, {} params, {} B of weights ({:.3f} "
              "bits/weight)",
              L.quantized_modules, L.global.bits, L.global.group, L.units.size() - L.quantized_modules, L.total_params,
              L.total_bytes,
              L.total_params ? 8.0 * static_cast<double>(L.total_bytes) / static_cast<double>(L.total_params) : 0.0),
          "the float model " + o.model + " (fingerprint " + ck.fingerprint + "), " +
              (o.plan.empty() ? "planned here for " + budget_words(o.budget) : "plan " + o.plan),
          original_source(mp)));
  dir.commit();

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet) {
    std::size_t kept = L.units.size() - L.quantized_modules;
    fmt::print(stderr,
               "wrote {}: {} quantized modules ({}-bit g{} most common), {} kept, {} params, {} ({} B) in {} file(s), "
               "{:.3f} bits/weight, {:.2f} s ({:.1f} M params/s, {:.2f} GB/s written)\n",
               o.out, L.quantized_modules, L.global.bits, L.global.group, kept, L.total_params,
               show_size(L.total_bytes, size_unit(o.budget)), L.total_bytes, L.shards.size(),
               L.total_params ? 8.0 * static_cast<double>(L.total_bytes) / static_cast<double>(L.total_params) : 0.0,
               secs, static_cast<double>(L.total_params) / secs / 1e6, static_cast<double>(L.total_bytes) / secs / 1e9);
  }
  return 0;
}

RegisterCommand reg_quantize("quantize", 50, [](CLI::App& app) {
  auto o = std::make_shared<QuantizeCli>();
  app.description("write a plan as an MLX (mlx-lm) mixed-precision model, or a GGUF file for llama.cpp (--format gguf)");
  always(app.add_option("MODEL", o->model, "float model folder or .safetensors file")->required());
  always(app.add_option("--plan", o->plan, "plan.json (from squint plan) for this model"));
  for (CLI::Option* t : add_plan_options(app, o->budget, true)) only_with(t, mode::budget);
  only_with(app.add_option("--dtype", o->dtype, "with a budget: dtype F32 tensors are written as (default float16)")
                ->check(CLI::IsMember({"float16", "bfloat16", "float32"})),
            mode::budget);
  only_with(app.add_option("--save-plan", o->save_plan, "with a budget: also write the plan used here"), mode::budget);
  always(app.add_option("-o,--output", o->out,
                        "output: a folder (MLX) or a .gguf file (GGUF); must not exist unless --force")
             ->required());
  only_with(app.add_option("--shard-size", o->shard_size, "MLX: start a new shard before this size is passed")
                ->capture_default_str(),
            mode::mlx);
  always(app.add_flag("-f,--force", o->force, "replace OUT if it exists"));
  always(
      app.add_option("--format", o->format,
                     "output format: mlx (a folder) or gguf (one llama.cpp file); default gguf when -o ends in .gguf, "
                     "else mlx")
          ->check(CLI::IsMember({"mlx", "gguf"})));
  only_with(
      app.add_option("--type", o->gguf_type,
                     "GGUF: one GGUF type for every matrix (F32, F16, BF16, Q8_0, Q4_K, ...; a matrix whose rows it "
                     "cannot hold is kept in its float type, with a note); default keeps the checkpoint's float type"),
      mode::gguf);
  // GGUF types are quantized with it; an MLX run uses it only to plan its budget (objective calibrated).
  only_with(add_imatrix_option(app, o->imatrix), kImatrixUse);
  // Debug: write Q/K without llama.cpp's row permutation (the negative control of the llama.cpp test).
  only_with(app.add_flag("--gguf-no-qk-permute", o->no_qk_permute)->group(""), mode::gguf);
  only_with(app.add_option("--gguf-negative-control", o->negative_control)->group(""), mode::gguf);
  set_modes(app, [o] { return quantize_modes(*o); });
  return [o] { return run_quantize(*o); };
});

}  // namespace

}  // namespace squint
