// `squint eval` of a GGUF written by llama.cpp itself needs no --tokenizer: squint's F32 GGUF of stories260K
// through the real llama_model_quantize (bench/gguf_llama_quantize; llama.cpp copies the tokenizer metadata
// into its file) as Q8_0, then eval from the file's own 'llama' vocabulary gives exactly the token ids and
// window NLLs of eval with the original tokenizer.model (libsentencepiece).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { squint, llq, shared } from "./paths.mjs";

const model = path.join(shared, "models/stories260K");
const text = path.join(shared, "data/tinystories/eval.txt");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "squint-gguf-tok-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const run = (bin, args) => execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 26 });
const json = (f) => JSON.parse(fs.readFileSync(f, "utf8"));

test("eval of llama.cpp's Q8_0 without --tokenizer equals eval with the original tokenizer", () => {
  const f32 = path.join(tmp, "f32.gguf"), q = path.join(tmp, "q8.gguf");
  run(squint, ["-q", "quantize", model, "--format", "gguf", "--type", "F32", "-o", f32]);
  // No --lib, from another folder: gguf_llama_quantize finds node-llama-cpp's libllama itself (issue 26).
  execFileSync(llq, [f32, q, "Q8_0"], { cwd: tmp, stdio: ["ignore", "pipe", "pipe"] });
  const ids = (tok) => JSON.parse(run(squint, ["-q", "tokenize", tok, "--text", text, "--json"])).ids;
  const own = ids(q);
  assert.ok(own.length > 20000);
  assert.deepEqual(own, ids(model));
  const ev = (extra, out) => {
    run(squint, ["-q", "eval", q, "--text", text, "--seq-len", "128", "--samples", "4", "-o", out, ...extra]);
    return json(out);
  };
  const a = ev([], path.join(tmp, "own.json")), b = ev(["--tokenizer", model], path.join(tmp, "ref.json"));
  assert.equal(a.tokens, b.tokens);
  assert.deepEqual(a.windows, b.windows);
  assert.equal(a.median_ppl, b.median_ppl);
});
