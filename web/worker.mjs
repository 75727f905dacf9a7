// The only place where JS meets wasm. One Session per dropped model; files are read in slices with
// FileReaderSync (synchronous in workers), tensor by tensor, never whole and never uploaded.
import createSquint from './squint.mjs';

const ready = createSquint();  // no top-level await before onmessage: the first message would be lost
let M = null, session = null, files = [], cancelled = false;
const reader = new FileReaderSync();

self.squintReadSlice = (id, offset, length) =>
  new Uint8Array(reader.readAsArrayBuffer(files[id].slice(offset, offset + length)));

function post(type, data) { self.postMessage({ type, ...data }); }
function parse(s) { const j = JSON.parse(s); if (j && j.error) throw new Error(j.error); return j; }

async function analyse(list) {
  M = M || await ready;
  if (session) session.delete();
  session = new M.Session();
  files = list;
  cancelled = false;
  for (const f of files) session.addFile(f.name, f.size);
  const info = parse(session.open());
  post('opened', info);
  const t0 = performance.now();
  for (;;) {
    const p = parse(session.analyzeNext());
    post('progress', { ...p, seconds: (performance.now() - t0) / 1000 });
    if (p.done >= p.total) break;
    await new Promise((r) => setTimeout(r, 0));  // lets a 'cancel' message in
    if (cancelled) { post('cancelled', {}); return; }
  }
  post('analysed', { table: parse(session.sqnrTable()), tensors: parse(session.tensorSqnr()), info });
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.type === 'open') await analyse(m.files);
    else if (m.type === 'cancel') cancelled = true;
    else if (m.type === 'plan') {
      const t0 = performance.now();
      const r = JSON.parse(session.plan(JSON.stringify(m.settings)));
      post('plan', { ...r, ms: performance.now() - t0, seq: m.seq });
    } else if (m.type === 'curve') post('curve', { points: parse(session.curve(JSON.stringify(m.settings), m.points)) });
    else if (m.type === 'analysisJson') post('analysisJson', { text: session.analysisJson() });
  } catch (err) {
    post('error', { message: String(err.message || err) });
  }
};
