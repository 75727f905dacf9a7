// `squint gate` on a GGUF written by llama.cpp itself: tinystories-3M (BF16; its F32 GGUF is lossless) through
// the real llama_model_quantize of node-llama-cpp's libllama (bench/gguf_llama_quantize, no imatrix, so ggml's
// reference quantizers) as Q4_K_M. squint's ggml port is byte-exact, so the gate's SQNR of every tensor must
// equal the analysis' SQNR for the type llama.cpp chose for it, to the last digit.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { squint, llq, lib, shared } from "./paths.mjs";

const model = path.join(shared, "models/tinystories-3M");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "squint-gguf-gate-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const run = (bin, args) => execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const json = (f) => JSON.parse(fs.readFileSync(f, "utf8"));

test("gate of llama.cpp's Q4_K_M equals the analysis' SQNR for each tensor's type", () => {
  const f32 = path.join(tmp, "f32.gguf"), q = path.join(tmp, "q4km.gguf");
  run(squint, ["-q", "quantize", model, "--format", "gguf", "--type", "F32", "-o", f32]);
  run(llq, [f32, q, "Q4_K_M", "--lib", lib]);
  run(squint, ["-q", "gate", model, q, "-o", path.join(tmp, "gate.json")]);
  // Only the 256-block types Q4_K_M uses (Q4_K, Q6_K; IQ4_XS comes along): keeps the stage short.
  run(squint, ["-q", "analyze", model, "--format", "gguf", "--bits", "4,6", "--group-sizes", "256", "-o", path.join(tmp, "a.json")]);
  const gate = json(path.join(tmp, "gate.json")), ana = json(path.join(tmp, "a.json"));
  const byName = new Map(ana.tensors.map((t) => [t.name, t]));
  const types = new Set();
  for (const t of gate.tensors) {
    types.add(t.type);
    const c = byName.get(t.name).configs.find((x) => x.type === t.type);
    assert.ok(c, `${t.name}: no analysis result for ${t.type}`);
    assert.equal(t.sqnr_db, c.sqnr_db, `${t.name} ${t.type}`);
    assert.equal(t.nrmse, c.nrmse, `${t.name} ${t.type}`);
  }
  assert.deepEqual([...types].sort(), ["Q4_K", "Q6_K"]);
  assert.equal(gate.tensors.length, 29);
  assert.equal(gate.kept, 9);
  assert.equal(gate.pass, true);
});
