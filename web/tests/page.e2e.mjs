// End-to-end test of the inspector in real headless Chromium (Debian's, via playwright-core):
//   node web/tests/page.e2e.mjs URL
// Loads the sharded stories260K model, checks the gate and the per-config medians against the native CLI,
// downloads the plan for a budget and checks it is byte-identical to `squint plan`, checks that no request
// left the local server, saves a screenshot, and checks that a malformed file shows an error while the
// worker stays usable. The page runs with ?workers=3 (tensors spread over three workers); a second page with
// one worker must give the same bytes. Also: the budget/unit rule, tooltips, curve axes, labels, the CSP,
// and the demo model (made in the page) against `squint synth` + `squint analyze`. GGUF candidates (the
// #format switch): analysis and plan bytes against `--format gguf`. The gate of a quantized MLX model
// dropped beside its original: gate.json bytes against `squint gate --json`, and the CLI's summary line; the same
// for a squint GGUF (a PASS at 9 dB, a FAIL at 25 dB), plus a truncated GGUF and a GGUF dropped with other files.
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
await context.addInitScript(() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
});
const page = await context.newPage();
const foreign = [], logs = [];
context.on('request', (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) foreign.push(r.url()); });
page.on('pageerror', (e) => logs.push(String(e)));
page.on('console', (m) => logs.push(m.text()));
const withWorkers = (n) => { const u = new URL(url); u.searchParams.set('workers', String(n)); return u.href; };
await page.goto(withWorkers(3));

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
  const doc = JSON.parse(execFileSync(BIN, ['-q', 'analyze', SHARDED, '--sqnr-table-json']).toString());
  const cli = Array.isArray(doc) ? doc : doc.configs;
  const page_rows = await page.$$eval('#table tr', (trs) => trs.slice(1).map((tr) => [...tr.children].map((td) => td.textContent)));
  assert.equal(page_rows.length, cli.length);
  cli.forEach((r, i) => {
    assert.equal(page_rows[i][0], `(${r.bits}, ${r.group_size})`);
    if (r.tensors) assert.equal(page_rows[i][4], r.median.toFixed(1));
  });
});

async function planFor(budget, unit) {
  await page.selectOption('#unit', unit);
  await page.fill('#budget', budget);
  await page.dispatchEvent('#budget', 'change');
}
async function downloadPlan(dir, name) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-plan')]);
  await dl.saveAs(path.join(dir, name));
  return readFileSync(path.join(dir, name));
}

await check('downloaded plan.json is byte-identical to squint plan with the same budget', async () => {
  const budget = '220000';
  await planFor(budget, 'B');
  await page.waitForSelector('#plan-summary[data-budget-bytes="220000"]', { timeout: 30000 });
  const dir = mkdtempSync(path.join(tmpdir(), 'squint-web-'));
  const a = await downloadPlan(dir, 'page-plan.json');
  execFileSync(BIN, ['-q', 'plan', SHARDED, '--budget', budget, '-o', path.join(dir, 'cli-plan.json')]);
  const b = readFileSync(path.join(dir, 'cli-plan.json'));
  assert.ok(a.length > 1000);
  assert.ok(a.equals(b), 'plan bytes differ');
});

await check('budget box and unit agree: a bare number counts in the selected unit, a typed unit moves to the select', async () => {
  await planFor('0.22', 'MB');   // 0.22 MB, the same plan as --budget 0.22MB
  await page.waitForSelector('#plan-summary[data-budget-bytes="220000"]', { timeout: 30000 });
  const dir = mkdtempSync(path.join(tmpdir(), 'squint-web-'));
  const a = await downloadPlan(dir, 'mb.json');
  execFileSync(BIN, ['-q', 'plan', SHARDED, '--budget', '0.22MB', '-o', path.join(dir, 'cli.json')]);
  assert.ok(a.equals(readFileSync(path.join(dir, 'cli.json'))), 'plan bytes differ from --budget 0.22MB');
  await planFor('220000', 'MB');  // 220000 MB, not 220000 bytes
  await page.waitForSelector('#plan-summary[data-budget-bytes="220000000000"]', { timeout: 30000 });
  await planFor('0.25GiB', 'MB');  // the typed unit wins and moves to the select
  await page.waitForSelector(`#plan-summary[data-budget-bytes="${2 ** 28}"]`, { timeout: 30000 });
  assert.equal(await page.inputValue('#budget'), '0.25');
  assert.equal(await page.inputValue('#unit'), 'GiB');
  await page.selectOption('#unit', 'MB');  // changing the unit keeps the budget, rewrites the number
  assert.equal(await page.inputValue('#budget'), String(Number((2 ** 28 / 1e6).toPrecision(6))));
  await page.waitForSelector(`#plan-summary[data-budget-bytes="268435000"]`, { timeout: 30000 });
  await planFor('12 parsecs', 'MB');
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error'), /unknown unit 'parsecs'/);
  await planFor('220000', 'B');
  await page.waitForSelector('#plan-summary[data-budget-bytes="220000"]', { timeout: 30000 });
});

await check('bit-map cells name tensor, config, SQNR and bytes; the curve has labelled axes and values', async () => {
  const titles = await page.$$eval('#bitmap td[title]', (tds) => tds.map((td) => td.title));
  assert.ok(titles.length >= 30, `${titles.length} cells`);
  assert.match(titles[0], /^model\.layers\.0\.self_attn\.q_proj\.weight\n {2}(\d-bit, group \d+|kept in float) · SQNR \d+\.\d dB · [\d.]+ K?B$/);
  const texts = await page.$$eval('#curve text', (ts) => ts.map((t) => t.textContent));
  assert.ok(texts.includes('model size (bytes of the quantized model)'), texts.join('|'));
  assert.ok(texts.includes('objective (lower is better)'));
  assert.ok(texts.filter((t) => / KB$/.test(t)).length >= 5, 'x tick values');
  assert.ok(texts.filter((t) => /^\d+(\.\d+)?$/.test(t)).length >= 5, 'y tick values');
});

await check('every control has a label; the status line is announced', async () => {
  const unlabelled = await page.$$eval('input, select, button', (els) => els.filter((e) =>
    !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !(e.tagName === 'BUTTON' && e.textContent.trim())).map((e) => e.id));
  assert.deepEqual(unlabelled, []);
  assert.equal(await page.getAttribute('#status', 'role'), 'status');
  assert.equal(await page.getAttribute('#status', 'aria-live'), 'polite');
});

await check('the Content-Security-Policy holds: no eval, no violations in normal use', async () => {
  const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
  for (const d of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "connect-src 'self'", "object-src 'none'", "frame-src 'none'", "base-uri 'none'"])
    assert.ok(csp.includes(d), d);
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  const injected = await page.evaluate(async () => {
    const s = document.createElement('script');
    s.textContent = 'window.__inline = 1';
    document.body.append(s);
    await new Promise((r) => setTimeout(r, 50));
    s.remove();
    return { ran: window.__inline, violations: window.__cspViolations.length };
  });
  assert.equal(injected.ran, undefined);  // an inline script is refused (and reported, once per policy)
  assert.ok(injected.violations >= 1);
  const r = await fetch(new URL('worker.mjs', url));  // workers get the policy from the header
  assert.ok((r.headers.get('content-security-policy') || '').includes("script-src 'self' 'wasm-unsafe-eval'"));
});

async function downloadAnalysis(p, file) {
  const [dl] = await Promise.all([p.waitForEvent('download'), p.click('#download-analysis')]);
  await dl.saveAs(file);
  return readFileSync(file);
}

await check('downloaded analysis.json is byte-identical to squint analyze, with 3 workers and with 1', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'squint-web-'));
  assert.equal(await page.getAttribute('#status', 'data-workers'), '3');
  const three = await downloadAnalysis(page, path.join(dir, 'a3.json'));
  execFileSync(BIN, ['-q', 'analyze', SHARDED, '-o', path.join(dir, 'cli.json')]);
  const cli = readFileSync(path.join(dir, 'cli.json'));
  assert.ok(three.equals(cli), '3 workers differ from the CLI');
  const one = await context.newPage();
  await one.goto(withWorkers(1));
  await one.setInputFiles('#files', files);
  await one.waitForSelector('#status[data-state="done"]', { timeout: 120000 });
  assert.equal(await one.getAttribute('#status', 'data-workers'), '1');
  assert.ok((await downloadAnalysis(one, path.join(dir, 'a1.json'))).equals(cli), '1 worker differs from the CLI');
  await one.close();
});

await page.screenshot({ path: path.join(ART, 'page.png'), fullPage: true });

// The exit status of a CLI call that may exit 1 (gate FAIL) and its stdout.
function cli(args) {
  try { return { rc: 0, out: execFileSync(BIN, args) }; } catch (e) { if (e.status !== 1) throw e; return { rc: 1, out: e.stdout }; }
}

await check('gate of a quantized MLX model dropped beside its original: gate.json == squint gate --json, same summary line', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'squint-web-'));
  const q = path.join(dir, 'q');
  execFileSync(BIN, ['-q', 'quantize', SHARDED, '--budget', '200000', '-o', q]);
  const qfiles = readdirSync(q).filter((f) => /\.(safetensors|json)$/.test(f)).map((f) => path.join(q, f));
  await page.setInputFiles('#quantized', qfiles);
  await page.waitForSelector('#gate-model[data-verdict="pass"], #gate-model[data-verdict="fail"]', { timeout: 60000 });
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-gate')]);
  await dl.saveAs(path.join(dir, 'gate.json'));
  const page_report = readFileSync(path.join(dir, 'gate.json'));
  const json = cli(['-q', 'gate', SHARDED, q, '--json']);
  assert.ok(page_report.equals(json.out), 'gate.json bytes differ from squint gate --json');
  assert.equal(await page.getAttribute('#gate-model', 'data-verdict'), json.rc === 0 ? 'pass' : 'fail');
  const human = cli(['gate', SHARDED, q]).out.toString().trim().split('\n');
  assert.equal(await page.textContent('#gate-summary'), human[human.length - 1]);
  const rows = await page.$$eval('#gate-table tr', (trs) => trs.slice(1).map((tr) => tr.children[0].textContent));
  assert.deepEqual(rows, human.slice(1, 1 + rows.length).map((l) => l.split(/\s+/)[0]), 'worst tensors, in the CLI\'s order');
  // Not a pair (the quantized model without its config.json): a message, and the page still works.
  await page.setInputFiles('#quantized', qfiles.filter((f) => !f.endsWith('config.json')));
  await page.waitForSelector('#gate-model[data-verdict="error"]', { timeout: 30000 });
  assert.match(await page.textContent('#error'), /config\.json/);
});

await check('gate of a squint GGUF dropped beside its original: gate.json == squint gate --json, same verdict, summary line and worst tensors', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'squint-web-'));
  // 7.5 bpw passes the 9 dB floor and fails a 25 dB one (the page's #floor is the gate's --floor).
  const g = path.join(dir, 'pass.gguf');
  execFileSync(BIN, ['-q', 'quantize', SHARDED, '--format', 'gguf', '--bpw', '7.5', '-o', g]);
  for (const floor of ['9', '25']) {
    await page.fill('#floor', floor);
    await page.dispatchEvent('#floor', 'change');
    await page.setInputFiles('#quantized', []);  // the same file again is no change event
    await page.setInputFiles('#quantized', [g]);
    await page.waitForSelector('#gate-model[data-verdict="pass"], #gate-model[data-verdict="fail"]', { timeout: 60000 });
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-gate')]);
    await dl.saveAs(path.join(dir, `gate-${floor}.json`));
    const json = cli(['-q', 'gate', SHARDED, g, '--floor', floor, '--json']);
    assert.ok(readFileSync(path.join(dir, `gate-${floor}.json`)).equals(json.out), `floor ${floor}: gate.json bytes differ from squint gate --json`);
    assert.equal(json.rc, floor === '9' ? 0 : 1);
    assert.equal(await page.getAttribute('#gate-model', 'data-verdict'), json.rc === 0 ? 'pass' : 'fail');
    const human = cli(['gate', SHARDED, g, '--floor', floor]).out.toString().trim().split('\n');
    assert.equal(await page.textContent('#gate-summary'), human[human.length - 1]);
    const rows = await page.$$eval('#gate-table tr', (trs) => trs.slice(1).map((tr) => [tr.children[0].textContent, tr.children[1].textContent]));
    assert.ok(rows.length >= 5);
    assert.deepEqual(rows, human.slice(1, 1 + rows.length).map((l) => l.split(/\s+/).slice(0, 2)), 'worst tensors and their GGUF types, in the CLI\'s order');
  }
  await page.fill('#floor', '9');
  await page.dispatchEvent('#floor', 'change');
  // A truncated GGUF and a GGUF dropped with other files: readable messages, and the page still works.
  const cut = path.join(dir, 'cut.gguf');
  writeFileSync(cut, readFileSync(path.join(dir, 'pass.gguf')).subarray(0, 5000));
  await page.setInputFiles('#quantized', [cut]);
  await page.waitForSelector('#gate-model[data-verdict="error"]', { timeout: 30000 });
  assert.match(await page.textContent('#error'), /cut\.gguf/);
  await page.setInputFiles('#quantized', [path.join(dir, 'pass.gguf'), path.join(SHARDED, 'config.json')]);
  await page.waitForSelector('#gate-model[data-verdict="error"]', { timeout: 30000 });
  assert.match(await page.textContent('#error'), /\.gguf file alone/);
  await page.setInputFiles('#quantized', [path.join(dir, 'pass.gguf')]);
  await page.waitForSelector('#gate-model[data-verdict="pass"]', { timeout: 60000 });
});

await check('GGUF candidates: analysis.json and plan.json downloaded from the page equal squint analyze/plan --format gguf', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'squint-web-'));
  await page.selectOption('#format', 'gguf');  // re-analyses the same files with the 13 ggml types (IQ3_S among them)
  await page.waitForSelector('#status[data-state="done"]', { timeout: 120000 });
  const a = await downloadAnalysis(page, path.join(dir, 'page-analysis.json'));
  execFileSync(BIN, ['-q', 'analyze', SHARDED, '--format', 'gguf', '-o', path.join(dir, 'cli-analysis.json')]);
  assert.ok(a.equals(readFileSync(path.join(dir, 'cli-analysis.json'))), 'GGUF analysis bytes differ');
  const names = await page.$$eval('#table tr', (trs) => trs.slice(1).map((tr) => tr.children[0].textContent));
  assert.ok(names.includes('Q4_K') && names.includes('IQ4_XS') && names.includes('IQ3_S') && names.length === 13, names.join(' '));
  await planFor('250000', 'B');
  await page.waitForSelector('#plan-summary[data-budget-bytes="250000"]', { timeout: 30000 });
  const p = await downloadPlan(dir, 'page-plan.json');
  execFileSync(BIN, ['-q', 'plan', SHARDED, '--format', 'gguf', '--budget', '250000', '-o', path.join(dir, 'cli-plan.json')]);
  assert.ok(p.equals(readFileSync(path.join(dir, 'cli-plan.json'))), 'GGUF plan bytes differ');
  const cells = await page.$$eval('#bitmap td[title]', (tds) => tds.map((td) => td.textContent));
  // GGUF terms: a kept tensor under the float type the file holds it in (F16, BF16, F32), never "16" or "keep".
  assert.ok(cells.length >= 30 && cells.every((c) => /^(I?Q\d_[A-Z0-9_]+|B?F(16|32))(,(I?Q\d_[A-Z0-9_]+|B?F(16|32)))*$/.test(c)), cells.join(' '));
  assert.match(await page.textContent('#plan-summary'), /^\d+ B of 250000 B budget .* parameters: [^·]*Q\d_/);
  await page.selectOption('#format', 'mlx');
  await page.waitForSelector('#status[data-state="done"]', { timeout: 120000 });
  assert.equal((await page.$$eval('#table tr', (trs) => trs.length)) - 1, 18);
});

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

await check('the demo button makes squint\'s demo model in the page and analyses it like the CLI', async () => {
  await page.click('#demo');
  await page.waitForSelector('#status[data-state="done"]', { timeout: 180000 });
  await page.screenshot({ path: path.join(ART, 'demo.png'), fullPage: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'squint-web-'));
  const a = await downloadAnalysis(page, path.join(dir, 'demo.json'));
  execFileSync(BIN, ['-q', 'synth', path.join(dir, 'demo')]);
  execFileSync(BIN, ['-q', 'analyze', path.join(dir, 'demo'), '-o', path.join(dir, 'cli.json')]);
  assert.ok(a.equals(readFileSync(path.join(dir, 'cli.json'))), 'demo analysis differs from squint synth + analyze');
  assert.equal(await page.getAttribute('#gate', 'data-verdict'), 'pass');
});

await check('no request left the local server', async () => { assert.deepEqual(foreign, []); });

await browser.close();
if (failed) console.log(logs.join('\n'));
console.log(`# screenshot: ${path.join(ART, 'page.png')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
