// Page logic: presentation only. Everything shown is computed by squint's core (wasm) in workers: the
// analysis, the SQNR table, plans and their preview (summary, bit mix, per-layer map, gate verdict).
//
// Safety: a model file is untrusted, and so is every string in it (names, dtypes, metadata, config values,
// error messages that quote them). The page never parses data as HTML: nodes are built with el()/svg()
// below, whose children become Text nodes, and there is no innerHTML anywhere in the page.
const $ = (id) => document.getElementById(id);

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'title') e.title = v;
    else if (k === 'colSpan') e.colSpan = v;
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);  // strings -> Text nodes
  return e;
}
function svg(tag, attrs, text) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}
// Sizes as the CLI shows them (core/util/units.h show_size): decimal units with 2 decimals, bytes below 1 KB;
// a plan's size and budget in the unit the budget box counts in (fmtInUnit), as `squint plan --budget 2MB` does.
const fmtBytes = (b) => b >= 1e12 ? (b / 1e12).toFixed(2) + ' TB' : b >= 1e9 ? (b / 1e9).toFixed(2) + ' GB'
  : b >= 1e6 ? (b / 1e6).toFixed(2) + ' MB' : b >= 1e3 ? (b / 1e3).toFixed(2) + ' KB' : `${b} B`;
const fmtInUnit = (b) => {
  const u = $('unit').value;
  return !(u in UNIT_BYTES) ? fmtBytes(b) : u === 'B' ? `${b} B` : (b / UNIT_BYTES[u]).toFixed(2) + ' ' + u;
};

// --- Workers: request/response with ids, one error channel --------------------------------------------
// call() resolves with the worker's result or rejects with its error message; a worker that dies (failed
// load, out of memory) rejects everything still pending. terminate() is how analysis is cancelled.
class Rpc {
  constructor() {
    this.worker = new Worker('./worker.mjs', { type: 'module' });
    this.next = 1;
    this.pending = new Map();
    this.worker.onmessage = (e) => {
      const { id, result, error } = e.data;
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (error !== undefined) p.reject(new Error(error)); else p.resolve(result);
    };
    this.worker.onerror = (e) => { e.preventDefault(); this.failAll(`the analysis worker stopped: ${e.message || 'unknown error'}`); };
  }
  call(method, ...args) {
    return new Promise((resolve, reject) => {
      const id = this.next++;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args });
    });
  }
  failAll(message) {
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
  }
  terminate() { this.worker.terminate(); this.failAll('cancelled'); }
}

// One worker per core (capped: each holds its own wasm heap); ?workers=N overrides (tests, benchmarks).
const WORKERS = Math.max(1, Math.min(16, Number(new URLSearchParams(location.search).get('workers')) ||
  Math.min(8, navigator.hardwareConcurrency || 2)));
let pool = [], planner = null, run = 0;
const state = { files: null, gateText: null, info: null, table: null, tensors: null, range: null, plan: null, planText: null, preview: null, seq: 0, lastCurve: null };

function setStatus(s, text) { $('status').dataset.state = s; $('status').textContent = text; }
function showError(msg) { $('error').hidden = false; $('error').textContent = msg; }
function clearError() { $('error').hidden = true; $('error').textContent = ''; }
function stopWorkers() {
  for (const w of pool) w.terminate();
  if (planner && !pool.includes(planner)) planner.terminate();
  pool = []; planner = null;
}

// Analysis: the first worker validates the headers and cuts the tensors into batches; every worker opens
// the same files and takes the next batch until none are left (biggest first, for balance); the pieces
// are joined, in tensor order, in the first worker, which then serves plans and curves.
async function start(fileList) {
  const files = [...fileList];
  if (!files.length) return;
  const my = ++run;
  stopWorkers();
  clearError();
  state.files = files;
  resetGate();
  $('results').hidden = true;
  $('gate').dataset.verdict = '';
  $('gate').textContent = '—';
  $('progress').value = 0;
  setStatus('running', `Reading ${files.length} file(s)…`);
  $('cancel').disabled = false;
  pool = [new Rpc()];
  // Timing hooks (benchmarks, tests): data-open-ms once every worker has validated the headers,
  // data-analysis-ms once the measured pieces are assembled (both wall-clock ms, from the previous mark).
  delete $('status').dataset.openMs;
  delete $('status').dataset.analysisMs;
  const tOpen = performance.now();
  try {
    const format = $('format').value;  // the candidate set: MLX configs or GGUF types
    const info = await pool[0].call('open', files, format);
    if (my !== run) return;
    state.info = info;
    const n = Math.max(1, Math.min(WORKERS, info.batches.length));
    while (pool.length < n) pool.push(new Rpc());
    await Promise.all(pool.slice(1).map((w) => w.call('open', files, format)));
    $('status').dataset.workers = String(pool.length);
    $('status').dataset.openMs = (performance.now() - tOpen).toFixed(1);
    const order = info.batches.map((_, i) => i).sort((a, b) => info.batches[b][2] - info.batches[a][2] || a - b);
    const pieces = new Array(info.batches.length);
    let next = 0, doneBytes = 0, doneTensors = 0;
    const t0 = performance.now();
    const progress = () => {
      const s = (performance.now() - t0) / 1000, rate = s > 0 ? doneBytes / s : 0;
      const eta = rate > 0 ? (info.bytes - doneBytes) / rate : NaN;
      $('progress').value = info.bytes ? doneBytes / info.bytes : 1;
      setStatus('running', `Analysing with ${pool.length} worker(s): ${doneTensors} / ${info.tensors} tensors, ` +
        `${fmtBytes(doneBytes)} of ${fmtBytes(info.bytes)}` + (rate ? `, ${fmtBytes(rate)}/s` : '') +
        (Number.isFinite(eta) ? `, about ${eta < 1 ? '<1' : Math.round(eta)} s left` : ''));
    };
    progress();
    await Promise.all(pool.map(async (w) => {
      while (next < order.length && my === run) {
        const i = order[next++], [b, e, bytes] = info.batches[i];
        pieces[i] = await w.call('analyzeRange', b, e);
        doneBytes += bytes; doneTensors += e - b;
        if (my === run) progress();
      }
    }));
    if (my !== run) return;
    planner = pool[0];
    for (const w of pool.slice(1)) w.terminate();  // their heaps are not needed any more
    pool = [planner];
    await planner.call('assemble', pieces);
    if (my !== run) return;
    $('status').dataset.analysisMs = (performance.now() - t0).toFixed(1);
    const r = await planner.call('results');
    if (my !== run) return;
    $('cancel').disabled = true;
    state.table = r.table; state.tensors = r.tensors;
    state.analysisSeconds = (performance.now() - t0) / 1000;
    renderTable(); drawHistogram(); renderFailing();
    $('results').hidden = false;
    state.range = null;
    await learnRange(my);
  } catch (err) {
    if (my !== run) return;  // cancelled or superseded: not an error
    stopWorkers();
    $('cancel').disabled = true;
    showError(err.message);
    setStatus('error', 'Could not read this model.');
  }
}

function cancel() {
  if ($('status').dataset.state !== 'running') return;
  run++;
  stopWorkers();
  $('cancel').disabled = true;
  setStatus('cancelled', 'Cancelled.');
}

$('files').addEventListener('change', (e) => start(e.target.files));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); start(e.dataTransfer.files); });
$('cancel').addEventListener('click', cancel);
// Another candidate set means another analysis of the same files.
$('format').addEventListener('change', () => {
  $('preset').disabled = $('format').value === 'gguf';  // mint8 is a set of MLX configs
  if (state.files) start(state.files);
});

// The demo: squint's seeded demo checkpoint (the core's synth, byte-identical to `squint synth OUT`),
// made inside the page and analysed like dropped files.
$('demo').addEventListener('click', async () => {
  const my = ++run;
  stopWorkers();
  clearError();
  setStatus('running', 'Making the demo model…');
  const w = new Rpc();
  try {
    const made = await w.call('demo');
    if (my === run) start(made.map((f) => new File([f.bytes], f.name)));
  } catch (err) {
    if (my === run) { showError(err.message); setStatus('error', 'Could not make the demo model.'); }
  } finally {
    w.terminate();
  }
});

// --- Analysis views -------------------------------------------------------------------------------------
// A config's name and its key in the per-tensor SQNRs: the GGUF type, or (bits, group) for MLX.
const configName = (r) => r.type || `(${r.bits}, ${r.group_size})`;
const configKey = (r) => r.type || `${r.bits}/${r.group_size}`;

function renderTable() {
  const head = el('tr', null, ['Config', 'tensors', 'Min', 'P5', 'Median', 'P95', 'Max', '<9 dB', '<15 dB'].map((h) => el('th', null, h)));
  const rows = state.table.map((r) => r.tensors === 0
    ? el('tr', null, el('td', null, configName(r)), el('td', null, '0'),
      el('td', { colSpan: 7 }, 'no tensor accepts this group size'))
    : el('tr', null, el('td', null, configName(r)), el('td', null, String(r.tensors)),
      ['min', 'p5', 'median', 'p95', 'max'].map((k) => el('td', r[k] < 9 ? { class: 'bad' } : null, r[k].toFixed(1))),
      el('td', r.below_9db ? { class: 'bad' } : null, String(r.below_9db)), el('td', null, String(r.below_15db))));
  $('table').replaceChildren(head, ...rows);
}

function drawHistogram() {
  const c = $('hist'), g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  const vals = state.tensors.flatMap((t) => Object.values(t.sqnr));
  if (!vals.length) return;
  const lo = 0, hi = Math.min(60, vals.reduce((a, b) => Math.max(a, b), 0) + 1), bins = 60, h = new Array(bins).fill(0);
  for (const v of vals) h[Math.max(0, Math.min(bins - 1, Math.floor((v - lo) / (hi - lo) * bins)))]++;
  const mx = Math.max(...h), W = c.width - 40, H = c.height - 30;
  g.fillStyle = '#68a';
  h.forEach((n, i) => { const bh = n / mx * H; g.fillRect(30 + i * W / bins, 10 + H - bh, W / bins - 1, bh); });
  const x9 = 30 + (9 - lo) / (hi - lo) * W;
  g.strokeStyle = '#c33'; g.beginPath(); g.moveTo(x9, 5); g.lineTo(x9, 10 + H); g.stroke();
  g.fillStyle = '#333'; g.font = '11px sans-serif';
  g.fillText('9 dB', x9 + 3, 16);
  for (let d = 0; d <= hi; d += 10) g.fillText(String(d), 30 + d / (hi - lo) * W - 4, c.height - 6);
  g.fillText('SQNR of every (tensor, config), dB', c.width - 210, 16);
}

// Which tensors a uniform quantization with each config would put under the floor (from core's SQNRs).
function renderFailing() {
  const out = [];
  const floor = Number($('floor').value);
  for (const r of state.table) {
    const key = configKey(r);
    const bad = state.tensors.filter((t) => t.sqnr[key] !== undefined && t.sqnr[key] < floor);
    if (bad.length) {
      out.push(el('p', null, el('b', null, configName(r)),
        `: ${bad.length} tensor(s) — ${bad.slice(0, 12).map((t) => t.name).join(', ')}${bad.length > 12 ? ', …' : ''}`));
    }
  }
  $('failing-list').replaceChildren(...(out.length ? out : [el('p', null, 'None.')]));
}

// --- Budget: the box holds a number, the unit select says what it counts ---------------------------------
// A unit typed into the box ("24GB", "0.5 GiB", "4.5 bpw") moves to the select, so box and select never
// disagree: 220000 with MB selected is 220000 MB. Changing the unit keeps the budget and rewrites the number.
const UNIT_BYTES = { GB: 1e9, GiB: 2 ** 30, MB: 1e6, MiB: 2 ** 20, KB: 1e3, B: 1 };
const UNITS = [...Object.keys(UNIT_BYTES), 'bpw'];

function budgetSettings() {
  const text = $('budget').value.trim();
  const m = text.match(/^([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)$/);
  if (!m) throw new Error(`Budget: cannot read '${text}' as a number (e.g. 220, 24GB, 4.5 bpw)`);
  if (m[2]) {
    const u = UNITS.find((x) => x.toLowerCase() === m[2].toLowerCase());
    if (!u) throw new Error(`Budget: unknown unit '${m[2]}' (use ${UNITS.join(', ')})`);
    $('unit').value = u;
    $('budget').value = m[1];
  }
  const u = $('unit').value;
  // The string the CLI's --budget would get for the same meaning (recorded in plan.json as written).
  return settings(u === 'bpw' ? { bpw: Number(m[1]) } : { budget: u === 'B' ? m[1] : m[1] + u });
}

function setBudgetFromBytes(b) {
  const u = $('unit').value;
  const n = u === 'bpw' ? b * 8 / state.info.params : b / UNIT_BYTES[u];
  $('budget').value = u === 'B' ? String(Math.round(n)) : String(Number(n.toPrecision(6)));
  if (state.range) $('slider').value = String(Math.round((b - state.range.min) / Math.max(1, state.range.max - state.range.min) * 1000));
}

function settings(extra) {
  return { floor: Number($('floor').value), preset: $('format').value === 'gguf' ? '' : $('preset').value, ...extra };
}

// --- Plans: everything shown comes from core's plan preview ----------------------------------------------
async function learnRange(my) {
  let r;
  try {
    r = await planner.call('plan', settings({ min_safe: true }));
  } catch (err) {  // e.g. nothing quantizable: the analysis still stands
    if (my !== run) return;
    showError(err.message);
    setStatus('done', `Done: ${state.info.tensors} tensors, ${fmtBytes(state.info.bytes)}; no plan.`);
    return;
  }
  if (my !== run) return;
  state.range = { min: r.min_bytes, max: r.max_bytes };
  setBudgetFromBytes(Math.round(r.min_bytes + 0.25 * (r.max_bytes - r.min_bytes)));
  requestCurve();
  await requestPlan();
}

async function requestPlan() {
  if (!planner) return;
  const seq = ++state.seq;
  try {
    const s = budgetSettings();
    const t0 = performance.now();
    const r = await planner.call('plan', s);
    if (seq !== state.seq) return;  // a newer request is on its way
    clearError();
    state.planText = r.plan;
    state.plan = JSON.parse(r.plan);
    state.preview = r.preview;
    renderPlan(performance.now() - t0);
  } catch (err) {
    if (seq !== state.seq) return;
    showError(err.message);
    $('plan-summary').textContent = '';
  }
  if ($('status').dataset.state === 'running') {
    setStatus('done', `Done: ${state.info.tensors} tensors, ${fmtBytes(state.info.bytes)} in ` +
      `${state.analysisSeconds.toFixed(1)} s with ${$('status').dataset.workers} worker(s).`);
  }
}

async function requestCurve() {
  try {
    drawCurve(await planner.call('curve', settings({}), 40));
  } catch (err) {
    showError(err.message);
  }
}

$('slider').addEventListener('input', () => {
  if (!state.range) return;
  setBudgetFromBytes(Math.round(state.range.min + Number($('slider').value) / 1000 * (state.range.max - state.range.min)));
  requestPlan();
});
$('budget').addEventListener('change', requestPlan);
$('unit').addEventListener('change', () => {
  if (state.preview) setBudgetFromBytes(state.preview.budget_bytes);
  requestPlan();
});
for (const id of ['floor', 'preset']) $(id).addEventListener('change', () => { renderFailing(); requestPlan(); requestCurve(); });

function configText(t) {
  if (t.bits === 16) return t.label === '16' ? 'kept in float' : `kept in ${t.label}`;
  return t.label.includes('/') ? `${t.bits}-bit, group ${t.group_size}` : `${t.label} (${t.bits}-bit, block ${t.group_size})`;
}

function renderPlan(ms) {
  const v = state.preview;
  // A GGUF plan's mix is by type (kept tensors under the float type the file holds them in), as the CLI prints it.
  const mix = v.type_mix.length ? v.type_mix.map((m) => `${m.type} ${m.percent.toFixed(1)}%`).join(', ')
    : v.mix.map((m) => `${m.bits === 16 ? 'kept' : m.bits + '-bit'} ${m.percent.toFixed(1)}%`).join(', ');
  $('plan-summary').dataset.budgetBytes = String(v.budget_bytes);
  $('plan-summary').replaceChildren(el('p', null,
    el('b', null, fmtInUnit(v.total_bytes)), ` of ${fmtInUnit(v.budget_bytes)} budget (${v.budget_percent.toFixed(1)}%) · ` +
    `${v.bpw_effective.toFixed(3)} bits/weight effective, ${v.bpw_nominal.toFixed(3)} nominal · ` +
    `parameters: ${mix} · objective ${v.objective.toPrecision(6)}, ` +
    `gap ${v.proven_optimal ? '0 (proven optimal)' : v.gap.toExponential(2)} · ${ms.toFixed(1)} ms`));

  const g = v.gate;
  $('gate').dataset.verdict = g.pass ? 'pass' : 'fail';
  $('gate').textContent = g.pass ? 'PASS' : `FAIL: ${g.below_floor.length} tensor(s) below ${g.floor_db} dB`;
  $('gate').title = g.pass ? `every quantized tensor of this plan is at or above ${g.floor_db} dB`
    : g.below_floor.slice(0, 20).map((t) => `${t.name}: ${t.sqnr_db.toFixed(2)} dB`).join('\n');

  const color = (b) => b === 16 ? '#ddd' : `hsl(${(b - 2) * 20}, 70%, 80%)`;
  const head = el('tr', null, el('th', null, 'layer'), v.columns.map((c) => el('th', null, c)));
  const rows = v.rows.map((r) => el('tr', null, el('td', null, String(r.layer)), r.cells.map((c) => {
    if (!c) return el('td', null, '');
    const td = el('td', { title: cellTitle(c.tensors) }, c.label === '16' ? 'keep' : c.label);
    td.style.background = color(c.bits);  // CSSOM, which the page's CSP allows (inline style attributes it does not)
    return td;
  })));
  $('bitmap').replaceChildren(head, ...rows);
  $('others').replaceChildren(...v.others.slice(0, 200).map((t) =>
    el('tr', { title: cellTitle([t]) }, el('td', null, t.name), el('td', null, t.label === '16' ? 'keep' : t.label))));
  $('others-box').hidden = !v.others.length;
  if (state.lastCurve) drawCurve(state.lastCurve);
}

// A bit-map cell's tooltip: each tensor's name, config, SQNR and bytes.
function cellTitle(ts) {
  const lines = ts.slice(0, 8).map((t) => `${t.name}\n  ${configText(t)} · SQNR ${t.sqnr_db.toFixed(1)} dB · ${fmtBytes(t.bytes)}`);
  if (ts.length > 8) lines.push(`… and ${ts.length - 8} more`);
  return lines.join('\n');
}

// The budget curve as SVG (text nodes, so axes and values are real, selectable, accessible text).
function drawCurve(points) {
  state.lastCurve = points;
  const box = $('curve'), W = 440, H = 240, L = 60, R = 14, T = 14, B = 44;
  box.replaceChildren();
  if (!points.length) return;
  const xs = points.map((p) => p.bytes), ys = points.map((p) => p.loss);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y1 = Math.max(...ys) || 1;
  const X = (x) => L + (x - x0) / Math.max(1, x1 - x0) * (W - L - R), Y = (y) => H - B - y / y1 * (H - T - B);
  box.append(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }),
    svg('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }));
  for (let i = 0; i <= 4; i++) {
    const xv = x0 + (x1 - x0) * i / 4, yv = y1 * i / 4;
    box.append(svg('text', { x: X(xv), y: H - B + 14, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle', class: 'tick' }, fmtBytes(xv)),
      svg('text', { x: L - 4, y: Y(yv) + 4, 'text-anchor': 'end', class: 'tick' }, yv.toPrecision(3)));
  }
  box.append(svg('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis-title' }, 'model size (bytes of the quantized model)'),
    svg('text', { x: 12, y: (T + H - B) / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${(T + H - B) / 2})`, class: 'axis-title' }, 'objective (lower is better)'),
    svg('polyline', { points: points.map((p) => `${X(p.bytes)},${Y(p.loss)}`).join(' '), class: 'curve' }));
  if (state.preview) {
    const p = state.preview, cx = X(p.total_bytes), cy = Y(p.objective);
    const dot = svg('circle', { cx, cy, r: 5, class: 'here' });
    dot.append(svg('title', {}, `this plan: ${fmtBytes(p.total_bytes)}, objective ${p.objective.toPrecision(4)}`));
    box.append(dot, svg('text', { x: Math.min(cx + 8, W - R - 110), y: Math.max(cy - 8, T + 10), class: 'here-label' },
      `${fmtBytes(p.total_bytes)}, ${p.objective.toPrecision(4)}`));
  }
}

function download(name, text) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
}
$('download-plan').addEventListener('click', () => state.planText && download('plan.json', state.planText));
$('download-analysis').addEventListener('click', async () => {
  if (!planner) return;
  try { download('analysis.json', await planner.call('analysisJson')); } catch (err) { showError(err.message); }
});

// --- Gate a quantized model against the open one: core's gate_models (MLX) or gate_gguf in the planner worker
// The report is gate.json exactly as `squint gate ORIGINAL QUANTIZED --json` prints it; the page shows its
// verdict, counts and the worst tensors (core's worst_tensors order) and offers the bytes for download.
function resetGate() {
  state.gateText = null;
  $('gate-model').dataset.verdict = '';
  $('gate-model').textContent = '—';
  $('gate-summary').textContent = '';
  $('gate-table').replaceChildren();
  $('download-gate').disabled = true;
}

async function runGate(fileList) {
  const files = [...fileList];
  if (!files.length) return;
  resetGate();
  if (!planner) { showError('Gate: drop the original model first and wait for its analysis.'); return; }
  const my = run;
  clearError();
  $('gate-model').dataset.verdict = 'running';
  $('gate-model').textContent = `measuring ${files.length} file(s)…`;
  try {
    const g = await planner.call('gate', files, Number($('floor').value));
    if (my !== run) return;
    state.gateText = g.report;
    renderGate(JSON.parse(g.report), g.worst);
  } catch (err) {
    if (my !== run) return;
    $('gate-model').dataset.verdict = 'error';
    $('gate-model').textContent = 'error';
    showError(err.message);
  }
}

function renderGate(r, worst) {
  $('gate-model').dataset.verdict = r.pass ? 'pass' : 'fail';
  $('gate-model').textContent = r.pass ? 'PASS' : 'FAIL';
  $('gate-summary').textContent = `${r.pass ? 'PASS' : 'FAIL'} (measured): ${r.quantized} quantized tensors, ${r.kept} kept, ` +
    `min SQNR ${r.min_sqnr_db === null ? 'n/a' : r.min_sqnr_db.toFixed(3) + ' dB'}, ${r.below_floor} below the ${r.floor_db.toFixed(2)} dB floor`;
  const head = el('tr', null, ['worst tensors', 'config', 'SQNR dB', ''].map((h) => el('th', null, h)));
  $('gate-table').replaceChildren(head, ...worst.map((i) => r.tensors[i]).map((t) => el('tr', null,
    el('td', null, t.name), el('td', null, t.type || `${t.bits}b/g${t.group_size}`),  // a GGUF's tensors carry their ggml type, as the CLI prints it
    el('td', t.below_floor ? { class: 'bad' } : null, t.sqnr_db.toFixed(3)), el('td', null, t.below_floor ? 'BELOW FLOOR' : ''))));
  $('download-gate').disabled = false;
}

$('quantized').addEventListener('change', (e) => runGate(e.target.files));
const gateBox = $('gate-box');
gateBox.addEventListener('dragover', (e) => { e.preventDefault(); e.stopPropagation(); gateBox.classList.add('over'); });
gateBox.addEventListener('dragleave', () => gateBox.classList.remove('over'));
gateBox.addEventListener('drop', (e) => { e.preventDefault(); e.stopPropagation(); gateBox.classList.remove('over'); runGate(e.dataTransfer.files); });
$('download-gate').addEventListener('click', () => state.gateText && download('gate.json', state.gateText));
