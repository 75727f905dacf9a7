// Running GGUF files in llama.cpp (node-llama-cpp's prebuilt CPU build) from given token ids, for the tests
// that hold squint's forward pass and files to the real runtime: an F32 KV cache and no flash attention, so
// an F32 file agrees with squint's float32 arithmetic to ~1e-6 nats.
import { execFileSync } from "node:child_process";
import { getLlama } from "node-llama-cpp";
import { squint } from "./paths.mjs";

export const openLlama = () => getLlama({ gpu: false, build: "never", logLevel: "error" });

export function run(args) {
  return execFileSync(squint, ["-q", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export async function withContext(llama, file, fn, contextSize = 256) {
  const m = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  const ctx = await m.createContext({ contextSize, batchSize: contextSize, flashAttention: false, threads: 2,
                                      experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" });
  try {
    return await fn(ctx.getSequence(), m);
  } finally {
    await ctx.dispose();
    await m.dispose();
  }
}

// Mean NLL of tokens 1..n-1 of a window, from llama.cpp's softmax at each position.
export async function llamaNll(seq, win) {
  await seq.clearHistory();
  const res = await seq.controlledEvaluate(win.map((t, i) => (i < win.length - 1 ? [t, { generateNext: { probabilities: true } }] : t)));
  let s = 0;
  for (let i = 0; i + 1 < win.length; ++i) s -= Math.log(res[i].next.probabilities.get(win[i + 1]));
  return s / (win.length - 1);
}

// Largest |llama.cpp NLL − squint NLL| over `windows` ({index, nll} of squint eval, windows of `seqLen` ids).
export async function maxWindowDiff(llama, file, windows, ids, seqLen, contextSize = 256) {
  return withContext(llama, file, async (seq) => {
    let worst = 0;
    for (const w of windows) {
      const win = ids.slice(w.index * seqLen, (w.index + 1) * seqLen);
      worst = Math.max(worst, Math.abs((await llamaNll(seq, win)) - w.nll));
    }
    return worst;
  }, contextSize);
}
