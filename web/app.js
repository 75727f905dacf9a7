// Page logic: UI only. Every computation happens in the worker (squint's core compiled to wasm).
const $ = (id) => document.getElementById(id);
const worker = new Worker('./worker.mjs', { type: 'module' });
const state = { info: null, table: null, tensors: null, range: null, plan: null, seq: 0, params: 0 };

function setStatus(s, text) { $('status').dataset.state = s; $('status').textContent = text; }
function showError(msg) { $('error').hidden = false; $('error').textContent = msg; }
function clearError() { $('error').hidden = true; $('error').textContent = ''; }
const fmtBytes = (b) => b >= 1e9 ? (b / 1e9).toFixed(2) + ' GB' : b >= 1e6 ? (b / 1e6).toFixed(2) + ' MB' : (b / 1e3).toFixed(1) + ' KB';

function start(fileList) {
  const files = [...fileList];
  if (!files.length) return;
  clearError();
  $('results').hidden = true;
  $('gate').dataset.verdict = '';
  setStatus('running', `Reading ${files.length} file(s)…`);
  $('cancel').disabled = false;
  worker.postMessage({ type: 'open', files });
}

$('files').addEventListener('change', (e) => start(e.target.files));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); start(e.dataTransfer.files); });
$('cancel').addEventListener('click', () => worker.postMessage({ type: 'cancel' }));

worker.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'opened') { state.info = m; state.params = m.params; }
  else if (m.type === 'progress') {
    $('progress').value = m.total ? m.done / m.total : 1;
    const rate = m.seconds > 0 ? fmtBytes(m.bytes / m.seconds) + '/s' : '';
    setStatus('running', `Analysing: ${m.done} / ${m.total} tensors, ${rate}  ${m.name}`);
  } else if (m.type === 'cancelled') { setStatus('cancelled', 'Cancelled.'); $('cancel').disabled = true; }
  else if (m.type === 'analysed') onAnalysed(m);
  else if (m.type === 'plan') onPlan(m);
  else if (m.type === 'curve') drawCurve(m.points);
  else if (m.type === 'analysisJson') download('analysis.json', m.text);
  else if (m.type === 'error') {
    showError(m.message);
    $('cancel').disabled = true;
    if ($('status').dataset.state === 'running') setStatus('error', 'Could not read this model.');
  }
};

function onAnalysed(m) {
  state.table = m.table; state.tensors = m.tensors;
  $('cancel').disabled = true;
  renderTable(); drawHistogram(); renderFailing();
  $('results').hidden = false;
  state.range = null;
  requestPlan({ min_safe: true }, true);   // learn the feasible range, then plan inside it
}

function renderTable() {
  const rows = state.table.map((r) => r.tensors === 0
    ? `<tr><td>(${r.bits}, ${r.group_size})</td><td>0</td><td colspan="7">no tensor accepts this group size</td></tr>`
    : `<tr><td>(${r.bits}, ${r.group_size})</td><td>${r.tensors}</td>` +
      ['min', 'p5', 'median', 'p95', 'max'].map((k) => `<td${r[k] < 9 ? ' class="bad"' : ''}>${r[k].toFixed(1)}</td>`).join('') +
      `<td${r.below_9db ? ' class="bad"' : ''}>${r.below_9db}</td><td>${r.below_15db}</td></tr>`);
  $('table').innerHTML = '<tr><th>Config</th><th>tensors</th><th>Min</th><th>P5</th><th>Median</th><th>P95</th><th>Max</th><th>&lt;9 dB</th><th>&lt;15 dB</th></tr>' + rows.join('');
}

function drawHistogram() {
  const c = $('hist'), g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  const vals = state.tensors.flatMap((t) => Object.values(t.sqnr));
  if (!vals.length) return;
  const lo = 0, hi = Math.min(60, Math.max(...vals) + 1), bins = 60, h = new Array(bins).fill(0);
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

function renderFailing() {
  const out = [];
  for (const r of state.table) {
    const key = `${r.bits}/${r.group_size}`;
    const bad = state.tensors.filter((t) => t.sqnr[key] !== undefined && t.sqnr[key] < Number($('floor').value));
    if (bad.length) out.push(`<p><b>(${r.bits}, ${r.group_size})</b>: ${bad.length} tensor(s) — ${bad.slice(0, 12).map((t) => t.name).join(', ')}${bad.length > 12 ? ', …' : ''}</p>`);
  }
  $('failing-list').innerHTML = out.join('') || '<p>None.</p>';
}

function settings(extra) {
  const s = { floor: Number($('floor').value), preset: $('preset').value };
  return { ...s, ...extra };
}

// #budget accepts what the CLI's --budget accepts (24GB, 22.5GiB, 900MB, bytes) or "4.5 bpw".
function budgetSettings() {
  const v = $('budget').value.trim();
  const m = v.match(/^([0-9.]+)\s*bpw$/i);
  return m ? settings({ bpw: Number(m[1]) }) : settings({ budget: v });
}

function requestPlan(s, learnRange) {
  state.seq++;
  state.learnRange = learnRange;
  worker.postMessage({ type: 'plan', settings: s, seq: state.seq });
}

function onPlan(m) {
  if (m.seq !== state.seq) return;  // a newer request is on its way
  if (m.error) {
    showError(m.error);
    $('plan-summary').textContent = '';
    if (state.learnRange) setStatus('done', 'Analysis done.');
    return;
  }
  clearError();
  if (state.learnRange) {
    state.range = { min: m.min_bytes, max: m.max_bytes };
    const b = Math.round(m.min_bytes + 0.25 * (m.max_bytes - m.min_bytes));
    setBudgetFromBytes(b);
    worker.postMessage({ type: 'curve', settings: settings({}), points: 40 });
    requestPlan(budgetSettings(), false);
    return;
  }
  state.plan = JSON.parse(m.plan);
  state.planText = m.plan;
  renderPlan(m.ms);
  const fail = state.plan.tensors.some((t) => t.sqnr_db < state.plan.options.floor_db);
  $('gate').dataset.verdict = fail ? 'fail' : 'pass';
  $('gate').textContent = fail ? 'FAIL' : 'PASS';
  setStatus('done', `Done: ${state.info.tensors} tensors, ${fmtBytes(state.info.bytes)}. Plan in ${m.ms.toFixed(1)} ms.`);
  if (state.lastCurve) drawCurve(state.lastCurve);
}

function setBudgetFromBytes(b) {
  const u = $('unit').value;
  const v = u === 'bpw' ? (b * 8 / state.params).toFixed(3) + ' bpw'
    : u === 'GiB' ? (b / 2 ** 30).toFixed(6) + 'GiB' : u === 'GB' ? (b / 1e9).toFixed(6) + 'GB' : (b / 1e6).toFixed(4) + 'MB';
  $('budget').value = v;
  if (state.range) $('slider').value = String(Math.round((b - state.range.min) / Math.max(1, state.range.max - state.range.min) * 1000));
}

$('slider').addEventListener('input', () => {
  if (!state.range) return;
  setBudgetFromBytes(Math.round(state.range.min + Number($('slider').value) / 1000 * (state.range.max - state.range.min)));
  requestPlan(budgetSettings(), false);
});
$('budget').addEventListener('change', () => requestPlan(budgetSettings(), false));
$('unit').addEventListener('change', () => state.plan && setBudgetFromBytes(state.plan.totals.bytes));
for (const id of ['floor', 'preset']) $(id).addEventListener('change', () => { renderFailing(); requestPlan(budgetSettings(), false); worker.postMessage({ type: 'curve', settings: settings({}), points: 40 }); });

function renderPlan(ms) {
  const p = state.plan, mix = {};
  for (const t of p.tensors) mix[t.bits] = (mix[t.bits] || 0) + t.params;
  const total = p.totals.params || 1;
  const mixs = Object.entries(mix).map(([b, n]) => `${b === '16' ? 'keep' : b + '-bit'} ${(100 * n / total).toFixed(1)}%`).join(', ');
  $('plan-summary').innerHTML = `<p><b>${fmtBytes(p.totals.bytes)}</b> of ${fmtBytes(p.budget_bytes)} budget ` +
    `(${p.totals.bpw_effective.toFixed(3)} bits/weight) · ${mixs} · objective ${p.objective.toPrecision(6)}, ` +
    `gap ${p.gap === 0 ? '0 (proven optimal)' : p.gap.toExponential(2)} · ${ms.toFixed(1)} ms</p>`;
  const roles = ['attn_q', 'attn_k', 'attn_v', 'attn_o', 'attn_qkv', 'mlp_gate', 'mlp_up', 'mlp_down', 'mlp_gate_up', 'moe_expert', 'router'];
  const byName = new Map(state.tensors.map((t) => [t.name, t]));
  const grid = new Map(), used = new Set();
  for (const t of p.tensors) {
    const a = byName.get(t.name);
    if (!a || a.layer < 0 || !roles.includes(a.role)) continue;
    used.add(a.role);
    if (!grid.has(a.layer)) grid.set(a.layer, {});
    grid.get(a.layer)[a.role] = t.bits === 16 ? 16 : t.bits;
  }
  const cols = roles.filter((r) => used.has(r));
  const color = (b) => b === undefined ? '#fff' : b === 16 ? '#ddd' : `hsl(${(b - 2) * 20}, 70%, 80%)`;
  $('bitmap').innerHTML = `<tr><th>layer</th>${cols.map((c) => `<th>${c.replace('attn_', '').replace('mlp_', '')}</th>`).join('')}</tr>` +
    [...grid.keys()].sort((a, b) => a - b).map((l) => `<tr><td>${l}</td>${cols.map((c) => { const b = grid.get(l)[c]; return `<td style="background:${color(b)}">${b === undefined ? '' : b === 16 ? 'keep' : b}</td>`; }).join('')}</tr>`).join('');
}

function drawCurve(points) {
  state.lastCurve = points;
  const c = $('curve'), g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  if (!points.length) return;
  const xs = points.map((p) => p.bytes), ys = points.map((p) => p.loss);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y1 = Math.max(...ys) || 1;
  const X = (x) => 40 + (x - x0) / Math.max(1, x1 - x0) * (c.width - 50), Y = (y) => c.height - 25 - y / y1 * (c.height - 40);
  g.strokeStyle = '#68a'; g.beginPath();
  points.forEach((p, i) => (i ? g.lineTo(X(p.bytes), Y(p.loss)) : g.moveTo(X(p.bytes), Y(p.loss))));
  g.stroke();
  g.fillStyle = '#333'; g.font = '11px sans-serif';
  g.fillText('loss', 4, 14); g.fillText(fmtBytes(x0), 36, c.height - 8); g.fillText(fmtBytes(x1), c.width - 70, c.height - 8);
  if (state.plan) {
    g.fillStyle = '#c33'; g.beginPath(); g.arc(X(state.plan.totals.bytes), Y(state.plan.objective), 5, 0, 7); g.fill();
  }
}

function download(name, text) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
}
$('download-plan').addEventListener('click', () => state.planText && download('plan.json', state.planText));
$('download-analysis').addEventListener('click', () => worker.postMessage({ type: 'analysisJson' }));
