// squint gate ORIGINAL QUANTIZED: per-tensor SQNR of an MLX model against its float original; exit 0 if every
// quantized tensor reaches the floor, 1 if any falls below, 2 on error. With --plan: the verdict the plan
// predicts, without a model.
#include <fmt/core.h>

#include "applies.h"
#include "atomic_output.h"
#include "command.h"
#include "convert/gate.h"
#include "convert/gguf_gate.h"
#include "eval_model.h"
#include "file_source.h"
#include "input_kind.h"
#include "output.h"
#include "parallel.h"
#include "progress.h"
#include "util/error.h"

namespace squint {

namespace {

struct GateCli {
  std::string original, quantized, plan;
  OutputCli out;
  double floor = 9.0;
  std::size_t top = 10;
};

// Says what was given when it is not ORIGINAL = a float model and QUANTIZED = a quantized one, and when the two
// look swapped (before any tensor is read: a swap used to fail on a shape mismatch that did not say why).
void check_gate_inputs(const GateCli& o) {
  const InputInfo orig = identify_input(o.original);
  if (!o.quantized.empty()) {
    const InputInfo q = identify_input(o.quantized);
    const bool orig_quantized = orig.kind == InputKind::QuantizedModel || orig.kind == InputKind::Gguf;
    if (orig_quantized && q.kind == InputKind::FloatModel)
      fail("gate: " + o.original + " is " + orig.what + " and " + o.quantized +
           " a float model: the arguments look swapped (squint gate ORIGINAL QUANTIZED)");
    if (q.kind == InputKind::Missing) fail(o.quantized + ": no such file or directory");
    if (q.kind == InputKind::FloatModel)
      fail(o.quantized +
           " is a float model (nothing in it is quantized); gate's QUANTIZED is an MLX-quantized model "
           "folder or a .gguf file");
    if (q.kind == InputKind::Other)
      fail(o.quantized + " is " + q.what + "; gate's QUANTIZED is an MLX-quantized model folder or a .gguf file" +
           (q.what.find("squint plan") != std::string::npos ? " (a plan goes with --plan)" : ""));
  }
  expect_float_model(o.original);
}

int run_gate(const GateCli& o) {
  const bool quiet = global_options().quiet;
  if (o.quantized.empty() == o.plan.empty()) fail("gate: give either QUANTIZED or --plan plan.json (one of them)");
  if (!o.out.file.empty()) check_writable_parent(o.out.file);
  check_gate_inputs(o);
  Checkpoint orig = open_model(o.original);
  GateReport r;
  if (!o.plan.empty()) {
    r = gate_plan(orig, parse_plan(read_text_file(o.plan), o.plan), o.floor);
  } else {
    Progress prog("gate", !quiet);
    auto pool = make_thread_pool(global_options().threads);
    if (is_gguf_file(o.quantized)) {  // squint's or llama.cpp's GGUF: dequantized with the ggml port
      FileSource f(o.quantized);
      const GgufFile g = read_gguf(f);
      r = gate_gguf(orig, g, f, o.floor, pool, [&](std::size_t d, std::size_t n) { prog.update(d, n, 0); });
    } else {
      ModelPath mp = resolve_model_path(o.quantized);
      if (mp.single_file) fail(o.quantized + ": give the MLX model's folder (its config.json holds the bit widths) or a .gguf file");
      MlxModel q = open_mlx_model(*mp.provider);
      r = gate_models(orig, q, o.floor, pool, [&](std::size_t d, std::size_t n) { prog.update(d, n, 0); });
    }
    prog.finish();
  }
  emit_document(o.out, gate_report_json(r));
  if (!quiet && human_stdout(o.out)) {
    auto worst = worst_tensors(r, o.top);
    if (!worst.empty()) {
      fmt::print("{:<60} {:>7} {:>10}  {}\n", "worst tensors", "config", "SQNR dB", "");
      for (auto* t : worst)
        fmt::print("{:<60} {:>7} {:>10.3f}  {}\n", t->name,
                   t->config.gguf() ? config_name(t->config) : fmt::format("{}b/g{}", t->config.bits, t->config.group),
                   t->sqnr_db, t->below ? "BELOW FLOOR" : "");
    }
    fmt::print("{} ({}): {} quantized tensors, {} kept, min SQNR {}, {} below the {:.2f} dB floor\n",
               r.pass() ? "PASS" : "FAIL", r.source == "plan" ? "predicted from plan" : "measured", r.tensors.size(),
               r.kept, r.tensors.empty() ? std::string("n/a") : fmt::format("{:.3f} dB", r.min_db), r.below, r.floor_db);
  }
  return r.pass() ? 0 : 1;
}

RegisterCommand reg_gate("gate", 60, [](CLI::App& app) {
  auto o = std::make_shared<GateCli>();
  app.description("SQNR quality gate: every quantized tensor >= floor (exit 0), else exit 1; errors exit 2");
  always(app.add_option("ORIGINAL", o->original, "the float model the quantized one was made from")->required());
  always(app.add_option("QUANTIZED", o->quantized,
                        "MLX model folder (any mlx-lm affine model) or a GGUF file (squint's or llama.cpp's)"));
  always(app.add_option("--plan", o->plan, "predict the verdict from plan.json instead of a written model"));
  always(app.add_option("--floor", o->floor, "SQNR floor in dB")->capture_default_str());
  add_output_options(app, o->out, "the per-tensor report");
  only_with(
      app.add_option("--top", o->top, "how many of the worst tensors to list in the table")->capture_default_str(),
      mode::table);
  set_modes(app, [o] { return Modes().set(mode::table, !o->out.json, "--json prints the whole report instead"); });
  return [o] { return run_gate(*o); };
}, /*legacy_json_file=*/true);

}  // namespace

}  // namespace squint
