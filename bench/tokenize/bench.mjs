// Tokenizer speed: squint tokenize vs the Hugging Face library (@anush008/tokenizers 0.6.0, in this node
// process) on the four real tokenizer.json files, same text, same machine, one after the other.
//   node bench/tokenize/bench.mjs [TEXT]   (default: wikitext-2 test, 1.29 MB; needs build/squint)
// Encode time only, the median of REPEAT runs (default 5): HF's is encode() + getIds() (the binding's
// conversion of the result included), squint's what `squint tokenize` reports on stderr; the load columns
// are HF's Tokenizer.fromFile and the rest of squint's process (startup, reading tokenizer.json).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Tokenizer } from '@anush008/tokenizers';
import { bin, texts, tokenizers, tokenizerNames, tokenizerFile } from '../../tests/tokenize/match.mjs';

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };

export async function speedRows(textFile = texts['wikitext-2 test'], repeat = Number(process.env.REPEAT || 5)) {
  const text = readFileSync(textFile, 'utf8');
  const rows = [];
  for (const name of tokenizers) {
    const file = tokenizerFile(name);
    let t0 = process.hrtime.bigint();
    const hf = Tokenizer.fromFile(file);
    const hfLoad = ms(t0) / 1000;
    const hfRuns = [], sqRuns = [], sqTotals = [];
    let n = 0;
    for (let r = 0; r < repeat; r++) {
      t0 = process.hrtime.bigint();
      n = (await hf.encode(text, null, { addSpecialTokens: true })).getIds().length;
      hfRuns.push(ms(t0) / 1000);
      t0 = process.hrtime.bigint();
      const p = spawnSync(bin, ['tokenize', file, '--text', textFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      if (p.status !== 0) throw new Error(`${name}: squint failed: ${p.stderr}`);
      sqTotals.push(ms(t0) / 1000);
      const m = p.stderr.toString().match(/(\d+) ids from \d+ bytes in ([0-9.]+) s/);
      if (!m || Number(m[1]) !== n) throw new Error(`${name}: squint gave ${m && m[1]} ids, HF ${n}`);
      sqRuns.push(Number(m[2]));
    }
    rows.push({ name, ids: n, hfLoad, sqLoad: median(sqTotals) - median(sqRuns), hfEncode: median(hfRuns), sqEncode: median(sqRuns) });
  }
  return { textFile, bytes: Buffer.byteLength(text), repeat, rows };
}

const f = (x) => Math.round(x).toLocaleString('en-US');
export function speedTable({ rows }) {
  const out = ['| tokenizer | ids | HF load s | squint load s | HF encode s | squint encode s | HF tokens/s | squint tokens/s | speed squint / HF |',
    '|---|---|---|---|---|---|---|---|---|'];
  for (const r of rows)
    out.push(`| ${tokenizerNames[r.name]} | ${f(r.ids)} | ${r.hfLoad.toFixed(2)} | ${r.sqLoad.toFixed(2)} | ${r.hfEncode.toFixed(3)} | ` +
      `${r.sqEncode.toFixed(3)} | ${f(r.ids / r.hfEncode)} | ${f(r.ids / r.sqEncode)} | ${(r.hfEncode / r.sqEncode).toFixed(1)}x |`);
  return out.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const s = await speedRows(process.argv[2]);
  console.log(`text: ${s.textFile} (${s.bytes} bytes), median of ${s.repeat} runs`);
  console.log(speedTable(s));
}
