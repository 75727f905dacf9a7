// Every model family squint runs, against the real llama.cpp: a small random checkpoint in the family's
// Hugging Face layout (squint synth --preset, BF16), converted to F32 GGUF, must give llama.cpp window NLLs
// equal to `squint eval` of the safetensors folder within 1e-3 nats (same token ids, F32 KV cache); squint's
// mixed-type GGUF at 5 bpw must give NLLs equal to `squint eval` of that file within 2e-2 (llama.cpp quantizes
// activations for its dot products). Windows are longer than any sliding window of the presets, and each
// family has a deliberately broken conversion that must fail the comparison (negative control).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { shared } from "./paths.mjs";
import { openLlama, run, maxWindowDiff } from "./llama_harness.mjs";

const SEQ = 64, WINDOWS = 4;
// preset -> the broken conversion that must fail for that family.
const FAMILIES = [
  { preset: "mixtral", fault: "reverse-experts" },
  { preset: "qwen2-moe", fault: "swap-shared-gate-up" },  // shared expert, sigmoid gate, q/k/v biases, no renormalisation
  { preset: "qwen3-moe", fault: "reverse-experts" },      // q/k norms, head_dim 48 != 128/4, renormalised top-k
  { preset: "gemma2", fault: "no-norm-add-one" },
  { preset: "gemma3", fault: "no-norm-add-one" },
  { preset: "gemma3-mm", fault: "no-norm-add-one" },  // the multimodal wrapper's text model
  // fused qkv / gate_up, partial rotary 24 of 32, longrope: short factors (context 256 <= 4096) and long ones
  { preset: "phi3", fault: "swap-gate-up-halves" },
  { preset: "phi3-long", fault: "swap-gate-up-halves" },  // 64-token windows, context 256 > original 32
];

const tokenizer = path.join(shared, "models/stories260K");  // 512 ids: the presets' vocabulary size
let tmp, llama, text, ids;
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "squint-families-"));
  const full = fs.readFileSync(path.join(shared, "data/tinystories/eval.txt"), "utf8");
  text = path.join(tmp, "eval.txt");
  fs.writeFileSync(text, full.slice(0, 4000));
  const tok = path.join(tmp, "tok.json");
  run(["tokenize", tokenizer, "--text", text, "--eval-text", "--json", "-o", tok]);
  ids = JSON.parse(fs.readFileSync(tok, "utf8")).ids;
  llama = await openLlama();
});
after(async () => {
  await llama?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function synth(preset) {
  const dir = path.join(tmp, preset);
  run(["synth", dir, "--preset", preset, "--dtype", "bfloat16"]);
  for (const f of ["tokenizer.model", "tokenizer_config.json"]) fs.copyFileSync(path.join(tokenizer, f), path.join(dir, f));
  return dir;
}

function evalWindows(model) {
  const out = path.join(tmp, path.basename(model) + ".eval.json");
  run(["eval", model, "--text", text, "--seq-len", String(SEQ), "--tokenizer", tokenizer, "-o", out]);
  const w = JSON.parse(fs.readFileSync(out, "utf8")).windows;
  assert.ok(w.length >= WINDOWS, `need ${WINDOWS} windows, got ${w.length}`);
  return w.slice(0, WINDOWS);
}

for (const { preset, fault } of FAMILIES) {
  test(`${preset}: F32 GGUF in llama.cpp = squint eval of the safetensors within 1e-3; 5 bpw mix within 2e-2; '${fault}' fails`, async () => {
    const model = synth(preset);
    const ref = evalWindows(model);
    const f32 = path.join(tmp, `${preset}-f32.gguf`);
    run(["quantize", model, "--format", "gguf", "--type", "F32", "-o", f32]);
    const d32 = await maxWindowDiff(llama, f32, ref, ids, SEQ);
    assert.ok(d32 < 1e-3, `F32: max |ΔNLL| ${d32}`);

    const mix = path.join(tmp, `${preset}-mix.gguf`);
    run(["quantize", model, "--format", "gguf", "--bpw", "5", "-o", mix]);
    const dmix = await maxWindowDiff(llama, mix, evalWindows(mix), ids, SEQ);
    assert.ok(dmix < 2e-2, `5 bpw: max |ΔNLL| ${dmix}`);

    const bad = path.join(tmp, `${preset}-bad.gguf`);
    run(["quantize", model, "--format", "gguf", "--type", "F32", "--gguf-negative-control", fault, "-o", bad]);
    const dbad = await maxWindowDiff(llama, bad, ref, ids, SEQ);
    assert.ok(dbad > 1e-2, `${fault} should make llama.cpp disagree; max |ΔNLL| ${dbad}`);
    console.log(`# ${preset}: F32 ${d32.toExponential(2)}, 5 bpw ${dmix.toExponential(2)}, ${fault} ${dbad.toExponential(2)}`);
  });
}
