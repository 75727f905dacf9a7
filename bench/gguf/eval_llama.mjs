// KL(float ‖ quant) and perplexity measured in llama.cpp itself (node-llama-cpp's prebuilt CPU build), on
// squint's token ids and squint's windows:
//   node bench/gguf/eval_llama.mjs --ids TOKENS.json --windows EVAL.json --ref FLOAT.gguf -o OUT.json A.gguf B.gguf ...
// TOKENS.json = `squint tokenize MODEL --text T --json` (the ids squint eval evaluates); EVAL.json = `squint eval`
// output (-o) of the float model with the same --text/--seq-len/--samples/--seed: its `seq_len` and its
// windows' `index` fix the protocol (window w = ids[w·seq_len, (w+1)·seq_len), predicting tokens 1..seq_len-1).
// Each window runs from an empty context (F32 KV cache, flash attention off, 2 threads), the full softmax at
// every position comes from controlledEvaluate(..., {generateNext: {probabilities: true}}) (all vocab entries;
// checked). Per model: per-token KL(float ‖ model) = Σ_v p_f(v)·(ln p_f(v) − ln p_m(v)) in double from
// llama.cpp's float32 probabilities (a p_m that underflowed to 0 counts as 1e-45), mean / median / P99, top-1
// agreement (argmax equal), median and mean perplexity over windows, and the bootstrap standard error of the
// mean KL over windows (1000 resamples, fixed seed). Per-window mean KL and NLL are written too, so a reader
// can make paired comparisons between models on the same windows (bench/gguf/render.py does).
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { getLlama } from "node-llama-cpp";

function parseArgs(argv) {
  const a = { files: [] };
  for (let i = 0; i < argv.length; ++i) {
    const k = argv[i];
    if (k === "--ids" || k === "--windows" || k === "--ref" || k === "-o" || k === "--threads") a[k.replace(/^-+/, "")] = argv[++i];
    else if (k === "-h" || k === "--help") a.help = true;
    else if (k.startsWith("-")) throw new Error(`unknown option ${k}`);
    else a.files.push(k);
  }
  return a;
}

const usage = "usage: node bench/gguf/eval_llama.mjs --ids TOKENS.json --windows EVAL.json --ref FLOAT.gguf -o OUT.json [--threads N] MODEL.gguf ...";
let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`error: ${e.message}\n${usage}`);
  process.exit(2);
}
if (args.help) {
  console.error(usage);
  process.exit(0);
}
if (!args.ids || !args.windows || !args.ref || !args.o) {
  console.error(`error: --ids, --windows, --ref and -o are required\n${usage}`);
  process.exit(2);
}
for (const f of [args.ids, args.windows, args.ref, ...args.files])
  if (!fs.existsSync(f)) {
    console.error(`error: ${f}: no such file`);
    process.exit(2);
  }

const ids = JSON.parse(fs.readFileSync(args.ids, "utf8")).ids;
const ev = JSON.parse(fs.readFileSync(args.windows, "utf8"));
const SEQ = ev.seq_len, W = ev.windows.length, P = SEQ - 1;
const windows = ev.windows.map((w) => ids.slice(w.index * SEQ, (w.index + 1) * SEQ));
if (!Array.isArray(ids) || !SEQ || windows.some((w) => w.length !== SEQ)) {
  console.error(`error: ${args.windows}: windows do not fit the ${ids.length} ids of ${args.ids}`);
  process.exit(2);
}
const threads = Number(args.threads ?? 2);

const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });

// Softmax rows of every position of every window, as a Float32Array [W][P][V] (V = vocabulary size).
async function probabilities(file) {
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  const ctx = await model.createContext({ contextSize: 2 * SEQ, batchSize: SEQ, flashAttention: false, threads,
                                          experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" });
  const seq = ctx.getSequence();
  let out = null, vocab = 0;
  try {
    for (let w = 0; w < W; ++w) {
      await seq.clearHistory();
      const win = windows[w];
      const res = await seq.controlledEvaluate(win.map((t, i) => (i < P ? [t, { generateNext: { probabilities: true } }] : t)));
      for (let i = 0; i < P; ++i) {
        const m = res[i].next.probabilities;
        if (out === null) {
          vocab = m.size;
          out = new Float32Array(W * P * vocab);
        }
        if (m.size !== vocab) throw new Error(`${file}: position ${i} has ${m.size} probabilities, expected the full vocabulary ${vocab}`);
        const base = (w * P + i) * vocab;
        for (const [tok, p] of m) out[base + tok] = p;
      }
    }
  } finally {
    await ctx.dispose();
    await model.dispose();
  }
  return { probs: out, vocab };
}

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
function median(v) {
  return quantile([...v].sort((a, b) => a - b), 0.5);
}
// Bootstrap SE of the mean of per-window values (deterministic LCG so reruns agree).
function bootstrapSe(v, n = 1000) {
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const means = [];
  for (let b = 0; b < n; ++b) {
    let t = 0;
    for (let i = 0; i < v.length; ++i) t += v[Math.floor(rnd() * v.length)];
    means.push(t / v.length);
  }
  const mu = means.reduce((a, b) => a + b, 0) / n;
  return Math.sqrt(means.reduce((a, b) => a + (b - mu) ** 2, 0) / (n - 1));
}

function argmax(a, base, V) {
  let best = 0;
  for (let v = 1; v < V; ++v) if (a[base + v] > a[base + best]) best = v;
  return best;
}

// A model's result is cached beside it (FILE.llama-eval.json) and reused while the file, the reference and the
// windows are unchanged (by content), so rerunning the benchmark only evaluates new or changed files.
const stamps = new Map();
function stamp(f) {  // content hash: a file rewritten byte-identical (a rerun) keeps its cached result
  if (!stamps.has(f)) stamps.set(f, createHash("sha256").update(fs.readFileSync(f)).digest("hex"));
  return stamps.get(f);
}
const idsHash = createHash("sha256").update(JSON.stringify(ids)).digest("hex");
const cacheKey = (file) => JSON.stringify({ file: stamp(file), ref: stamp(args.ref), seq: SEQ, windows: ev.windows.map((w) => w.index), ids: idsHash });
function cached(file) {
  try {
    const c = JSON.parse(fs.readFileSync(`${file}.llama-eval.json`, "utf8"));
    return c.key === cacheKey(file) ? c.result : null;
  } catch {
    return null;
  }
}

const t0 = Date.now();
// The reference's probabilities are cached too (FILE.llama-probs.bin + .json key), for reruns.
async function refProbabilities() {
  const key = cacheKey(args.ref), bin = `${args.ref}.llama-probs.bin`, meta = `${args.ref}.llama-probs.json`;
  try {
    const m = JSON.parse(fs.readFileSync(meta, "utf8"));
    if (m.key === key) {
      const buf = fs.readFileSync(bin);
      console.error(`${path.basename(args.ref)}: probabilities cached (${bin})`);
      return { probs: new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), vocab: m.vocab };
    }
  } catch {}
  const r = await probabilities(args.ref);
  fs.writeFileSync(bin, Buffer.from(r.probs.buffer, r.probs.byteOffset, r.probs.byteLength));
  fs.writeFileSync(meta, JSON.stringify({ key, vocab: r.vocab }) + "\n");
  return r;
}
const ref = await refProbabilities();
const V = ref.vocab;
const refLog = new Float64Array(ref.probs.length);
for (let i = 0; i < refLog.length; ++i) refLog[i] = Math.log(ref.probs[i]);
const refArg = new Int32Array(W * P);
for (let k = 0; k < W * P; ++k) refArg[k] = argmax(ref.probs, k * V, V);

function windowNll(probs, w) {
  let s = 0;
  for (let i = 0; i < P; ++i) s -= Math.log(Math.max(probs[(w * P + i) * V + windows[w][i + 1]], 1e-45));
  return s / P;
}

const results = [];
for (const file of [args.ref, ...args.files]) {
  const t1 = Date.now();
  const hit = file === args.ref ? null : cached(file);
  if (hit) {
    results.push(hit);
    console.error(`${path.basename(file)}: cached (${file}.llama-eval.json)`);
    continue;
  }
  const m = file === args.ref ? ref : await probabilities(file);
  if (m.vocab !== V) throw new Error(`${file}: vocabulary ${m.vocab} differs from the reference's ${V}`);
  const kl = new Float64Array(W * P), winKl = [], winNll = [];
  let agree = 0;
  for (let w = 0; w < W; ++w) {
    let wk = 0;
    for (let i = 0; i < P; ++i) {
      const k = w * P + i, base = k * V;
      let d = 0;
      for (let v = 0; v < V; ++v) {
        const pf = ref.probs[base + v];
        if (pf > 0) d += pf * (refLog[base + v] - Math.log(Math.max(m.probs[base + v], 1e-45)));
      }
      kl[k] = Math.max(d, 0);
      wk += kl[k];
      if (argmax(m.probs, base, V) === refArg[k]) ++agree;
    }
    winKl.push(wk / P);
    winNll.push(windowNll(m.probs, w));
  }
  const sorted = Array.from(kl).sort((a, b) => a - b);
  const r = {
    file: path.resolve(file),
    kl_mean: kl.reduce((a, b) => a + b, 0) / kl.length,
    kl_median: quantile(sorted, 0.5),
    kl_p99: quantile(sorted, 0.99),
    kl_mean_se: bootstrapSe(winKl),
    top1: agree / (W * P),
    median_ppl: Math.exp(median(winNll)),
    mean_ppl: winNll.reduce((a, b) => a + Math.exp(b), 0) / W,
    window_kl: winKl,
    window_nll: winNll,
  };
  results.push(r);
  if (file !== args.ref) fs.writeFileSync(`${file}.llama-eval.json`, JSON.stringify({ key: cacheKey(file), result: r }) + "\n");
  console.error(`${path.basename(file)}: KL mean ${r.kl_mean.toFixed(5)} ± ${r.kl_mean_se.toFixed(5)} P99 ${r.kl_p99.toFixed(4)} top-1 ${(100 * r.top1).toFixed(2)} % median PPL ${r.median_ppl.toFixed(4)} (${((Date.now() - t1) / 1000).toFixed(1)} s)`);
}
await llama.dispose();

// Protocol check: the float reference's window NLLs in llama.cpp against squint eval's on the same windows
// (EVAL.json), which agree to ~1e-6 nats when the ids and windows are the same (../shared/spec/gguf.md).
const check = Math.max(...ev.windows.map((w, i) => Math.abs(results[0].window_nll[i] - w.nll)));
console.error(`protocol check: max |ΔNLL| between llama.cpp (${path.basename(args.ref)}) and squint eval (${ev.model}) per window: ${check.toExponential(2)} nats`);

const doc = {
  format: "squint.bench.gguf_eval", version: 1,
  runtime: "node-llama-cpp 3.21.1 (llama.cpp prebuilt CPU), F32 KV cache, flash attention off",
  ids: path.resolve(args.ids), windows_from: path.resolve(args.windows), ref: path.resolve(args.ref),
  seq_len: SEQ, samples: ev.samples, seed: ev.seed, windows: ev.windows.map((w) => w.index), vocab: V,
  predicted_tokens: W * P, squint_eval_model: ev.model, ref_vs_squint_eval_max_abs_dnll: check, models: results,
};
const tmp = path.join(path.dirname(args.o), `.${path.basename(args.o)}.tmp-${process.pid}-00000000`);  // as atomic_output.cpp names them
fs.writeFileSync(tmp, JSON.stringify(doc, null, 1) + "\n");
fs.renameSync(tmp, args.o);
console.error(`wrote ${args.o} (${results.length} models, ${W} windows of ${SEQ}, ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
