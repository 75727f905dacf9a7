// The tokenizer tables of the docs, regenerated in one run: the match table (tests/tokenize/match.mjs)
// and the speed table (bench/tokenize/bench.mjs, wikitext-2 test, median of REPEAT runs).
//   node bench/tokenize/tables.mjs            print both (markdown)
//   node bench/tokenize/tables.mjs --write    also replace them in docs/eval.md and README.md, between
//                                             <!-- tokenize:NAME --> and <!-- /tokenize:NAME --> markers
// Run it on an idle machine if the speed numbers are to be quoted; the ratio is from the same run anyway.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root, texts, tokenizers, tokenizerNames, matchRows, matchTable, failures } from '../../tests/tokenize/match.mjs';
import { speedRows, speedTable } from './bench.mjs';

const f = (x) => x.toLocaleString('en-US');
// README's short form: one row per tokenizer, each text's cell "with specials · without", and the speed ratio.
function readmeTable(rows, speed) {
  const labels = Object.keys(texts);
  const out = [`| tokenizer | ${labels.map((l) => `${l}: ids with · without specials`).join(' | ')} | encode speed squint / HF |`,
    `|---|${labels.map(() => '---|').join('')}---|`];
  for (const name of tokenizers) {
    const cells = labels.map((l) => {
      const [w, wo] = [true, false].map((s) => rows.find((r) => r.name === name && r.label === l && r.special === s));
      const cell = (r) => (r.first < 0 ? f(r.hf) : `${f(r.equal)} / ${f(Math.max(r.hf, r.squint))} equal`);
      return `${cell(w)} · ${cell(wo)}${w.first < 0 && wo.first < 0 ? ' identical' : ''}`;
    });
    const s = speed.rows.find((r) => r.name === name);
    out.push(`| ${tokenizerNames[name]} | ${cells.join(' | ')} | ${(s.hfEncode / s.sqEncode).toFixed(1)}x |`);
  }
  return out.join('\n');
}

function replaceBlock(file, name, body) {
  const p = path.join(root, file);
  const src = readFileSync(p, 'utf8');
  const re = new RegExp(`(<!-- tokenize:${name} -->\\n)[\\s\\S]*?(<!-- /tokenize:${name} -->)`);
  if (!re.test(src)) throw new Error(`${file}: no <!-- tokenize:${name} --> block`);
  const tmp = `${p}.tmp${process.pid}`;
  writeFileSync(tmp, src.replace(re, (_, a, b) => a + body + '\n' + b));
  renameSync(tmp, p);  // whole file or nothing
}

const rows = await matchRows();
const speed = await speedRows();
const conditions = `${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at the end of the run; ` +
  `${path.basename(speed.textFile)} (${f(speed.bytes)} bytes), median of ${speed.repeat} runs`;
const tables = {
  match: matchTable(rows),
  speed: `${speedTable(speed)}\n\n(${conditions})`,
  readme: readmeTable(rows, speed),
};
for (const [k, v] of Object.entries(tables)) console.log(`${k}:\n${v}\n`);
if (process.argv.includes('--write')) {
  replaceBlock('docs/eval.md', 'match', tables.match);
  replaceBlock('docs/eval.md', 'speed', tables.speed);
  replaceBlock('README.md', 'readme', tables.readme);
  console.log('wrote docs/eval.md and README.md');
}
const bad = failures(rows);
if (bad.length) { console.error(bad.join('\n')); process.exit(1); }
