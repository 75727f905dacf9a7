// node bench/web/bench.mjs URL RUNS NATIVE.json MODEL_DIR... — the inspector page's analysis throughput in
// headless Chromium against the native CLI on the same files, and the renderer's peak memory against the
// file size (the workers run inside the renderer process, so its peak covers their wasm heaps and windows).
// NATIVE.json: {"MODEL_DIR": {"params": P, "bytes": B, "j1": [seconds...], "j2": [seconds...]}} from run.sh.
// Every page run is a fresh browser (a fresh renderer, so its peak RSS is this run's), timed by the page's
// own hooks: #status[data-open-ms] (headers validated in every worker) and [data-analysis-ms] (measured and
// assembled). The wasm-in-node row (bench/wasm's benchAnalyzeSynthetic on the same synthetic tensors, in
// memory, one thread) separates the core's wasm speed from the page's reading and messaging.
import { chromium } from 'playwright-core';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { loadSquint } from '../../web/tests/load_node.mjs';

const [url, runsArg, nativeFile, ...models] = process.argv.slice(2);
const runs = Number(runsArg || 3);
const native = JSON.parse(readFileSync(nativeFile, 'utf8'));
const med = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const mb = (kb) => kb / 1024;

// Resident memory of the browser's processes, from /proc (Linux): the renderer's peak (VmHWM, kernel-kept)
// and the sum over every chromium process, sampled.
function procTree(root) {
  const kids = new Map();
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const ppid = Number(readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(p));
    } catch { /* gone */ }
  }
  const out = [], todo = [root];
  while (todo.length) { const p = todo.pop(); out.push(p); todo.push(...(kids.get(p) || [])); }
  return out;
}
function status(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8'), cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const kb = (k) => Number((s.match(new RegExp(`${k}:\\s+(\\d+)`)) || [0, 0])[1]);
    return { pid, renderer: cmd.includes('--type=renderer'), rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch { return null; }
}

async function pageRun(files, workers) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-dev-shm-usage'] });
  const root = process.pid;  // playwright spawns chromium from this process: its tree is the browser's (and ours)
  let peakTotal = 0;
  const sample = () => {
    const ps = procTree(root).filter((p) => p !== root).map(status).filter(Boolean);
    peakTotal = Math.max(peakTotal, ps.reduce((a, p) => a + p.rss, 0));
    return ps;
  };
  const timer = setInterval(sample, 200);
  try {
    const page = await browser.newPage();
    const u = new URL(url);
    u.searchParams.set('workers', String(workers));
    await page.goto(u.href);
    await page.setInputFiles('#files', files);
    await page.waitForSelector('#status[data-analysis-ms], #status[data-state="error"]', { timeout: 1800000 });
    const st = await page.$eval('#status', (e) => ({ ...e.dataset, text: e.textContent }));
    if (st.state === 'error') throw new Error(`page error: ${await page.textContent('#error')}`);
    const renderer = Math.max(...sample().filter((p) => p.renderer).map((p) => p.hwm));
    return { open: Number(st.openMs) / 1000, analysis: Number(st.analysisMs) / 1000, workers: Number(st.workers), renderer, total: peakTotal };
  } finally {
    clearInterval(timer);
    await browser.close();
  }
}

// The synth arguments of a model made by run.sh, from its folder name (.../l{layers}-v{vocab}).
const synthArgs = (dir) => path.basename(dir).match(/^l(\d+)-v(\d+)$/).slice(1).map(Number);

const rows = [];
const row = (...c) => { rows.push(c); console.log(c.join(' | ')); };
console.log(`page ${url}, ${runs} run(s) per row (medians); the machine is shared with other work`);
row('model', 'file', 'params', 'who', 's (median)', 'M params/s', 'x native -j2', 'x native -j1', 'peak renderer RSS', 'peak browser RSS');
for (const dir of models) {
  const n = native[dir], files = readdirSync(dir).filter((f) => /\.(safetensors|json)$/.test(f)).map((f) => path.join(dir, f));
  const gb = (n.bytes / 1e9).toFixed(2) + ' GB', mp = (n.params / 1e6).toFixed(0) + 'M';
  const rate = (s) => (n.params / s / 1e6).toFixed(1);
  const j1 = med(n.j1), j2 = med(n.j2);
  row(path.basename(dir), gb, mp, 'native squint analyze -j2', j2.toFixed(2), rate(j2), '1.00', (j1 / j2).toFixed(2), '', '');
  row(path.basename(dir), gb, mp, 'native squint analyze -j1', j1.toFixed(2), rate(j1), (j2 / j1).toFixed(2), '1.00', '', '');
  // Only where the whole checkpoint fits the wasm heap twice over (it is made in memory, in a growing vector).
  if (process.env.BENCH_NODE !== '0' && n.bytes < 1e9) {
    const M = await loadSquint();
    const [layers, vocab] = synthArgs(dir);
    const t = [];
    for (let i = 0; i < runs; i++) t.push(M.benchAnalyzeSynthetic('llama3-8b', layers, vocab));
    const s = med(t);
    row(path.basename(dir), gb, mp, 'wasm in node, in memory, 1 thread', s.toFixed(2), rate(s), (j2 / s).toFixed(2), (j1 / s).toFixed(2), '', '');
  }
  for (const w of [1, 2]) {
    const rs = [];
    for (let i = 0; i < runs; i++) rs.push(await pageRun(files, w));
    if (rs.some((r) => r.workers !== w)) throw new Error(`asked for ${w} workers, the page used ${rs.map((r) => r.workers)}`);
    const s = med(rs.map((r) => r.analysis)), open = med(rs.map((r) => r.open));
    row(path.basename(dir), gb, mp, `page, ${w} worker(s) (open ${open.toFixed(2)} s not counted)`, s.toFixed(2), rate(s),
      (j2 / s).toFixed(2), (j1 / s).toFixed(2), `${mb(Math.max(...rs.map((r) => r.renderer))).toFixed(0)} MB`,
      `${mb(Math.max(...rs.map((r) => r.total))).toFixed(0)} MB`);
  }
}
console.log('\nmarkdown:\n');
console.log(`| ${rows[0].join(' | ')} |\n|${rows[0].map(() => '---').join('|')}|`);
for (const r of rows.slice(1)) console.log(`| ${r.join(' | ')} |`);
