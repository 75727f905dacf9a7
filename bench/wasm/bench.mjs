// node bench/wasm/bench.mjs RUNS NATIVE_SECONDS — wasm analysis time (SIMD and scalar builds) as medians,
// compared with the native single-thread time measured just before on the same tensors.
import { loadSquint } from '../../web/tests/load_node.mjs';
const runs = Number(process.argv[2] || 3), native = Number(process.argv[3]);
const params = 1024 * 4096 + 4096 * 4096 * 2 + 1024 * 4096 * 2 + 14336 * 4096 * 3 + 1024 * 4096;  // synth llama3-8b, 1 layer, vocab 1024
const med = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
const out = {};
for (const name of ['simd', 'nosimd']) {
  const M = await loadSquint(`build-wasm-${name}/squint_node.cjs`);
  const t = [];
  for (let i = 0; i < runs; i++) t.push(M.benchAnalyzeSynthetic('llama3-8b', 1, 1024));
  out[name] = med(t);
}
const row = (n, s) => console.log(`${n.padEnd(24)} ${s.toFixed(3).padStart(8)} s ${(params / s / 1e6).toFixed(1).padStart(8)} M params/s ${(params * 2 / s / 1e9).toFixed(3).padStart(7)} GB/s  ${(native / s).toFixed(2)}x native`);
console.log(`analysis of ${(params / 1e6).toFixed(0)} M params (BF16, 18 configs), medians of ${runs} runs`);
row('native, 1 thread', native);
row('wasm SIMD128 (node)', out.simd);
row('wasm scalar (node)', out.nosimd);
