// llama.cpp's side of bench/eval/run.sh: node-llama-cpp's prebuilt CPU build runs the windows `squint eval`
// ran (EVAL.json's seq_len and window indices over IDS.json's ids), each from an empty context in one batch,
// with logits and a (greedy) next token at every position, as squint's eval computes logits at every position.
// Prints {"tokens", "seconds", "tokens_per_s"} on stdout; the time excludes loading the model and the context.
//   usage: node bench/eval/llama_speed.mjs MODEL.gguf IDS.json EVAL.json THREADS
import fs from "node:fs";
import { getLlama } from "node-llama-cpp";

const [file, idsFile, evalFile, threadsArg] = process.argv.slice(2);
if (!file || !idsFile || !evalFile) {
  console.error("usage: node bench/eval/llama_speed.mjs MODEL.gguf IDS.json EVAL.json [THREADS]");
  process.exit(2);
}
const ids = JSON.parse(fs.readFileSync(idsFile, "utf8")).ids;
const ev = JSON.parse(fs.readFileSync(evalFile, "utf8"));
const SEQ = ev.seq_len;
const windows = ev.windows.map((w) => ids.slice(w.index * SEQ, (w.index + 1) * SEQ));
const threads = Number(threadsArg ?? 2);

const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
const ctx = await model.createContext({ contextSize: SEQ, batchSize: SEQ, threads, flashAttention: false });
const seq = ctx.getSequence();
const t0 = process.hrtime.bigint();
for (const win of windows) {
  await seq.clearHistory();
  await seq.controlledEvaluate(win.map((t) => [t, { generateNext: { token: true } }]));
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
await ctx.dispose();
await model.dispose();
await llama.dispose();
const tokens = windows.length * SEQ;
process.stdout.write(JSON.stringify({ tokens, seconds: secs, tokens_per_s: tokens / secs }) + "\n");
