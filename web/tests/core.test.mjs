// node:test on the Embind API: the wasm analysis and plan are byte-identical to the native CLI's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSquint } from './load_node.mjs';

const BIN = process.env.SQUINT_BIN || 'build/squint';
const MODEL = process.env.SQUINT_TEST_MODEL || '../shared/models/stories260K';

function filesOf(dir, names) {
  return [names, names.map((n) => new Uint8Array(readFileSync(path.join(dir, n))))];
}

test('wasm analysis.json is byte-identical to the native CLI', async () => {
  const M = await loadSquint();
  const [names, bufs] = filesOf(MODEL, ['model.safetensors', 'config.json']);
  const wasm = M.analyzeBytes(names, bufs);
  assert.ok(!wasm.startsWith('{"error"'), wasm.slice(0, 200));
  const dir = mkdtempSync(path.join(tmpdir(), 'squint-'));
  execFileSync(BIN, ['-q', 'analyze', MODEL, '-o', path.join(dir, 'a.json')]);
  assert.equal(wasm, readFileSync(path.join(dir, 'a.json'), 'utf8'));
});

test('a malformed file is a clear error, not a crash', async () => {
  const M = await loadSquint();
  const bad = new Uint8Array(readFileSync(path.join(MODEL, 'model.safetensors')).subarray(0, 4000));
  const out = JSON.parse(M.analyzeBytes(['model.safetensors'], [bad]));
  assert.match(out.error, /model\.safetensors/);
});
