// A tokenizer.json with no exact GGUF form and no byte tokens (a char-level BPE): as a 'llama' vocabulary it
// made llama.cpp abort its whole process (its SentencePiece tokenizer looks up byte tokens with .at()). squint
// now writes it as a 'gpt2' vocabulary in the byte-level alphabet; llama.cpp must load it and give squint eval's
// window NLLs from the same ids.
// The load runs in a child process so that an abort is an exit status, not the end of the test run; the old
// form (--gguf-negative-control vocab-without-bytes) must still abort there (negative control).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "./llama_harness.mjs";

const SEQ = 32, WINDOWS = 3;
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), "window_nll_child.mjs");
let tmp, model, text, idsFile;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "squint-vocab-"));
  model = path.join(tmp, "m");
  run(["synth", model, "--preset", "tiny", "--vocab", "64"]);
  const vocab = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (const c of "abcdefghijklmnopqrstuvwxyz .,") vocab[c] = Object.keys(vocab).length;
  fs.writeFileSync(path.join(model, "tokenizer.json"), JSON.stringify({
    version: "1.0", added_tokens: [0, 1, 2].map((id) => ({ id, content: ["<unk>", "<s>", "</s>"][id], special: true })),
    normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null,
    model: { type: "BPE", dropout: null, unk_token: "<unk>", vocab, merges: [] } }));
  fs.writeFileSync(path.join(model, "tokenizer_config.json"), JSON.stringify({ bos_token: "<s>", eos_token: "</s>" }));
  text = path.join(tmp, "t.txt");
  fs.writeFileSync(text, "once upon a time there was a little cat. the cat sat on a mat and was happy. ".repeat(6));
  idsFile = path.join(tmp, "ids.json");
  run(["tokenize", model, "--text", text, "--eval-text", "--json", "-o", idsFile]);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function llamaWindows(file) {
  return spawnSync(process.execPath, [child, file, idsFile, String(SEQ), String(WINDOWS)], { encoding: "utf8" });
}

test("char-level vocabulary: the byte-level GGUF vocabulary loads in llama.cpp with squint eval's NLLs; the old 'llama' form aborts", () => {
  const ref = path.join(tmp, "ref.json");
  run(["eval", model, "--text", text, "--seq-len", String(SEQ), "-o", ref]);
  const want = JSON.parse(fs.readFileSync(ref, "utf8")).windows.slice(0, WINDOWS).map((w) => w.nll);
  assert.equal(want.length, WINDOWS);

  const f32 = path.join(tmp, "m.gguf");
  run(["quantize", model, "--format", "gguf", "--type", "F32", "-o", f32]);
  const ok = llamaWindows(f32);
  assert.equal(ok.status, 0, `llama.cpp failed on squint's GGUF: ${ok.signal ?? ""} ${ok.stderr.slice(-400)}`);
  const got = JSON.parse(ok.stdout);
  const d = Math.max(...got.map((x, i) => Math.abs(x - want[i])));
  assert.ok(d < 1e-3, `max |ΔNLL| ${d}`);

  const bad = path.join(tmp, "bad.gguf");
  run(["quantize", model, "--format", "gguf", "--type", "F32", "--gguf-negative-control", "vocab-without-bytes", "-o", bad]);
  const crash = llamaWindows(bad);
  assert.notEqual(crash.status, 0, "the 'llama' vocabulary without byte tokens should still abort llama.cpp");
  console.log(`# byte-level vocabulary GGUF: max |ΔNLL| ${d.toExponential(2)}; old form: status ${crash.status} ${crash.signal ?? ""}`);
});
