// End-to-end test of the inspector in real headless Chromium (Debian's, via playwright-core):
//   node web/tests/page.e2e.mjs URL
// Loads the sharded stories260K model, checks the gate and the per-config medians against the native CLI,
// downloads the plan for a budget and checks it is byte-identical to `squint plan`, checks that no request
// left the local server, saves a screenshot, and checks that a malformed file shows an error while the
// worker stays usable.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';

const url = process.argv[2];
const BIN = process.env.SQUINT_BIN || 'build/squint';
const SHARDED = process.env.SQUINT_TEST_SHARDED || '../shared/models/stories260K-sharded';
const ART = process.env.SQUINT_ARTIFACTS || 'build/web-artifacts';
mkdirSync(ART, { recursive: true });
const origin = new URL(url).origin;
let passed = 0, failed = 0;
async function check(name, fn) {
  try { await fn(); passed++; console.log(`ok - ${name}`); }
  catch (e) { failed++; console.log(`not ok - ${name}\n  ${String(e.stack || e).split('\n').join('\n  ')}`); }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'] });
const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
const page = await context.newPage();
const foreign = [], logs = [];
context.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) foreign.push(r.url()); });
page.on('pageerror', (e) => logs.push(String(e)));
page.on('console', (m) => logs.push(m.text()));
await page.goto(url);

const files = readdirSync(SHARDED).filter((f) => /\.(safetensors|json)$/.test(f)).map((f) => path.join(SHARDED, f));
await page.setInputFiles('#files', files);
await page.waitForSelector('#status[data-state="done"]', { timeout: 120000 });

await check('gate verdict matches the native gate of the same plan', async () => {
  const verdict = await page.getAttribute('#gate', 'data-verdict');
  assert.ok(verdict === 'pass' || verdict === 'fail');
  const dir = mkdtempSync(path.join(tmpdir(), 'squint-web-'));
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-plan')]);
  const p = path.join(dir, 'default-plan.json');
  await dl.saveAs(p);
  let rc = 0;
  try { execFileSync(BIN, ['-q', 'gate', SHARDED, '--plan', p]); } catch (e) { rc = e.status; }
  assert.equal(verdict, rc === 0 ? 'pass' : 'fail');
});

await check('per-config medians equal the CLI\'s --sqnr-table-json', async () => {
  const cli = JSON.parse(execFileSync(BIN, ['-q', 'analyze', SHARDED, '--sqnr-table-json']).toString());
  const page_rows = await page.$$eval('#table tr', (trs) => trs.slice(1).map((tr) => [...tr.children].map((td) => td.textContent)));
  assert.equal(page_rows.length, cli.length);
  cli.forEach((r, i) => {
    assert.equal(page_rows[i][0], `(${r.bits}, ${r.group_size})`);
    if (r.tensors) assert.equal(page_rows[i][4], r.median.toFixed(1));
  });
});

await check('downloaded plan.json is byte-identical to squint plan with the same budget', async () => {
  const budget = '220000';
  await page.fill('#budget', budget);
  await page.dispatchEvent('#budget', 'change');
  await page.waitForFunction(() => document.querySelector('#plan-summary').textContent.includes('220.0 KB'), null, { timeout: 30000 });
  const dir = mkdtempSync(path.join(tmpdir(), 'squint-web-'));
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-plan')]);
  await dl.saveAs(path.join(dir, 'page-plan.json'));
  execFileSync(BIN, ['-q', 'plan', SHARDED, '--budget', budget, '-o', path.join(dir, 'cli-plan.json')]);
  const a = readFileSync(path.join(dir, 'page-plan.json')), b = readFileSync(path.join(dir, 'cli-plan.json'));
  assert.ok(a.length > 1000);
  assert.ok(a.equals(b), 'plan bytes differ');
});

await check('downloaded analysis.json is byte-identical to squint analyze', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'squint-web-'));
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-analysis')]);
  await dl.saveAs(path.join(dir, 'a.json'));
  execFileSync(BIN, ['-q', 'analyze', SHARDED, '-o', path.join(dir, 'cli.json')]);
  assert.ok(readFileSync(path.join(dir, 'a.json')).equals(readFileSync(path.join(dir, 'cli.json'))));
});

await page.screenshot({ path: path.join(ART, 'page.png'), fullPage: true });

await check('a malformed file shows an error in the page; the worker then analyses a good model', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'squint-web-'));
  const good = readFileSync(path.join(SHARDED, '..', 'stories260K', 'model.safetensors'));
  const bad = path.join(dir, 'model.safetensors');
  writeFileSync(bad, good.subarray(0, 3000));
  await page.setInputFiles('#files', [bad]);
  await page.waitForSelector('#error:not([hidden])', { timeout: 30000 });
  const msg = await page.textContent('#error');
  assert.match(msg, /model\.safetensors/);
  assert.equal(await page.getAttribute('#status', 'data-state'), 'error');
  await page.screenshot({ path: path.join(ART, 'page-error.png') });
  await page.setInputFiles('#files', files);
  await page.waitForSelector('#status[data-state="done"]', { timeout: 120000 });
});

await check('no request left the local server', async () => { assert.deepEqual(foreign, []); });

await browser.close();
if (failed) console.log(logs.join('\n'));
console.log(`# screenshot: ${path.join(ART, 'page.png')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
