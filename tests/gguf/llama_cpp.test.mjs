// squint's GGUF files in a real llama.cpp (node-llama-cpp's prebuilt CPU build): per-window NLL from squint's
// token ids must equal `squint eval` of the same file, greedy decoding must reproduce REFERENCE.txt, and a
// file written without the Q/K row permutation must fail the comparison (negative control).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { squint, shared } from "./paths.mjs";
import { openLlama, run, withContext as withCtx, maxWindowDiff as maxDiff } from "./llama_harness.mjs";

const model = path.join(shared, "models/stories260K");
const SEQ = 128, WINDOWS = 6;

let tmp, llama, text;
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "squint-gguf-"));
  // A short slice of the TinyStories eval text: enough for WINDOWS windows of SEQ tokens.
  const full = fs.readFileSync(path.join(shared, "data/tinystories/eval.txt"), "utf8");
  text = path.join(tmp, "eval.txt");
  fs.writeFileSync(text, full.slice(0, 6000));
  llama = await openLlama();
});
after(async () => {
  await llama?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function quantize(name, extra, m = model) {
  const out = path.join(tmp, name);
  run(["quantize", m, "--format", "gguf", "-o", out, ...extra]);
  return out;
}

// squint eval of the GGUF: window NLLs (mean nats per predicted token) and the ids it evaluated.
function squintEval(file, m = model) {
  const json = path.join(tmp, path.basename(file) + ".eval.json"), tokens = path.join(tmp, path.basename(file) + ".tok.json");
  run(["eval", file, "--text", text, "--seq-len", String(SEQ), "--tokenizer", m, "-o", json]);
  run(["tokenize", m, "--text", text, "--json", "-o", tokens]);  // the ids eval evaluates
  const ev = JSON.parse(fs.readFileSync(json, "utf8")), ids = JSON.parse(fs.readFileSync(tokens, "utf8")).ids;
  assert.ok(ev.windows.length >= WINDOWS, `need ${WINDOWS} windows, got ${ev.windows.length}`);
  return { windows: ev.windows.slice(0, WINDOWS), ids };
}

const withContext = (file, fn) => withCtx(llama, file, fn);
const maxWindowDiff = (file, ref) => maxDiff(llama, file, ref.windows, ref.ids, SEQ);

const reference = fs.readFileSync(path.join(model, "REFERENCE.txt"), "utf8");
const greedyIds = JSON.parse(reference.match(/greedy_token_ids[^:]*:\s*(\[[^\]]*\])/)[1]);

test("F32 GGUF: llama.cpp window NLL equals squint eval within 1e-4 nats, greedy decode reproduces REFERENCE.txt", async () => {
  const file = quantize("f32.gguf", ["--type", "F32"]);
  const ref = squintEval(file);
  const d = await maxWindowDiff(file, ref);
  assert.ok(d < 1e-4, `max |ΔNLL| ${d}`);
  // Greedy decoding reproduces the reference iff at every position llama.cpp's most probable next token is the
  // reference's next token; checked in one teacher-forced pass (token-by-token generation is ~1 s/token here).
  const got = await withContext(file, async (seq) => {
    await seq.clearHistory();
    const res = await seq.controlledEvaluate(greedyIds.slice(0, -1).map((t) => [t, { generateNext: { probabilities: true } }]));
    return [greedyIds[0], ...res.map((r) => r.next.probabilities.keys().next().value)];  // map sorted, highest first
  });
  assert.deepEqual(got, greedyIds);
});

// Quantized files: llama.cpp quantizes activations to Q8 for its dot products, so agreement is ~5e-3 nats, not 1e-6.
for (const type of (process.env.SQUINT_GGUF_QTYPE ?? "Q8_0,Q4_1").split(",")) {
  test(`uniform ${type} GGUF: llama.cpp window NLL equals squint eval within 1e-2 nats`, async () => {
    const file = quantize(`uniform-${type}.gguf`, ["--type", type]);
    const d = await maxWindowDiff(file, squintEval(file));
    assert.ok(d < 1e-2, `max |ΔNLL| ${d}`);
  });
}

test("mixed-plan GGUF (--bpw 7.5: several types, kept F16 and F32 tensors): llama.cpp equals squint eval within 1e-2 nats", async () => {
  const plan = path.join(tmp, "mix.plan.json");
  // The published objective + role priors give the widest mix of types at this size (the test needs several).
  const file = quantize("mix.gguf", ["--bpw", "7.5", "--objective", "nrmse", "--prior-set", "roles", "--save-plan", plan]);
  const types = new Set(JSON.parse(fs.readFileSync(plan, "utf8")).tensors.filter((t) => t.type).map((t) => t.type));
  assert.ok(types.size >= 3, `a mix of several types, got ${[...types]}`);
  const d = await maxWindowDiff(file, squintEval(file));
  assert.ok(d < 1e-2, `max |ΔNLL| ${d}`);
});

// The grid types need 256-wide rows: tinystories-3M (256/768). A plan of Q3_K/IQ3_S (the 3-bit candidates of an
// analysis without an importance matrix) with its quantized tensors cycled through IQ3_S, IQ3_XXS, IQ2_S, IQ1_M
// and Q3_K: the four grid types ggml quantizes without importance weights, side by side in one file.
function gridMix(name, cycle) {
  const m = path.join(shared, "models/tinystories-3M");
  const a = path.join(tmp, "iq.analysis.json"), p = path.join(tmp, "iq.plan.json"), p2 = path.join(tmp, `${name}.plan.json`);
  if (!fs.existsSync(p)) {
    run(["analyze", m, "--format", "gguf", "--bits", "3", "-o", a]);
    run(["plan", a, "--min-safe", "--floor", "0", "-o", p]);
  }
  const plan = JSON.parse(fs.readFileSync(p, "utf8"));
  let k = 0;
  const bits = { IQ3_S: 3, IQ3_XXS: 3, IQ2_S: 2, IQ1_M: 1, Q3_K: 3 };  // each type's nominal width (plan check)
  for (const t of plan.tensors)
    if (t.type === "Q3_K" || t.type === "IQ3_S") {
      t.type = cycle[k++ % cycle.length];
      t.bits = bits[t.type];
    }
  assert.ok(k >= 2 * cycle.length, `${k} quantized tensors`);
  fs.writeFileSync(p2, JSON.stringify(plan));
  return quantize(`${name}.gguf`, ["--plan", p2], m);
}

test("mixed GGUF with grid types IQ3_S, IQ3_XXS, IQ2_S, IQ1_M (tinystories-3M): llama.cpp equals squint eval within 2e-2 nats", async () => {
  const m = path.join(shared, "models/tinystories-3M");
  const file = gridMix("iq-mix", ["IQ3_S", "IQ3_XXS", "IQ2_S", "IQ1_M", "Q3_K"]);
  const ref = squintEval(file, m);
  const d = await maxWindowDiff(file, ref);
  assert.ok(d < 2e-2, `max |ΔNLL| ${d}`);
  // Negative control: the same tensors with the grid types rotated (each tensor another type) are a different
  // model; llama.cpp on it must disagree with squint eval of the first file.
  const other = gridMix("iq-mix-rotated", ["IQ1_M", "IQ3_S", "IQ3_XXS", "IQ2_S", "Q3_K"]);
  const dn = await maxWindowDiff(other, ref);
  assert.ok(dn > 5e-2, `a rotated mix should be far off; max |ΔNLL| ${dn}`);
});

test("negative control: without the Q/K permutation llama.cpp disagrees with squint eval", async () => {
  const good = quantize("f32-again.gguf", ["--type", "F32"]);
  const bad = quantize("f32-unpermuted.gguf", ["--type", "F32", "--gguf-no-qk-permute"]);
  const d = await maxWindowDiff(bad, squintEval(good));
  assert.ok(d > 0.1, `an unpermuted file should be far off; max |ΔNLL| ${d}`);
});

test("convert-gguf of a 4/5-bit MLX model: squint eval equals the MLX model's exactly; llama.cpp equals it within 1e-2 nats", async () => {
  const a = path.join(tmp, "mlx45.analysis.json"), p = path.join(tmp, "mlx45.plan.json"), mlx = path.join(tmp, "mlx45");
  run(["analyze", model, "--bits", "4,5", "--group-sizes", "32,64", "-o", a]);
  run(["plan", a, "--bpw", "7.0", "-o", p]);
  run(["quantize", model, "--plan", p, "-o", mlx]);
  const file = path.join(tmp, "mlx45.gguf");
  const rep = JSON.parse(run(["convert-gguf", mlx, "-o", file, "--json"]));
  const types = new Set(rep.tensors.map((t) => t.type));
  assert.ok(types.has("Q4_1") && types.has("Q5_1"), `Q4_1 and Q5_1 expected, got ${[...types]}`);
  assert.equal(rep.tensors_lossless, rep.tensors_total);
  const ref = squintEval(file);
  const mlxJson = path.join(tmp, "mlx45.eval.json");
  run(["eval", mlx, "--text", text, "--seq-len", String(SEQ), "--tokenizer", model, "-o", mlxJson]);
  assert.deepEqual(ref.windows, JSON.parse(fs.readFileSync(mlxJson, "utf8")).windows.slice(0, WINDOWS));
  const d = await maxWindowDiff(file, ref);
  assert.ok(d < 1e-2, `max |ΔNLL| ${d}`);
});
