// The only place where JS meets wasm. One Session per dropped model; files are read in slices with
// FileReaderSync (synchronous in workers), tensor by tensor, never whole and never uploaded.
// Protocol (request/response, one error channel): the page posts {id, method, args}; the worker answers
// {id, result} or {id, error: "message"}. The page runs one such worker per core (web/app.js).
import createSquint from './squint.mjs';

const ready = createSquint();  // no top-level await before onmessage: the first message would be lost
let M = null, session = null, files = [], modelFiles = 0;  // files: the model's, then a quantized one's (gate)
const reader = new FileReaderSync();

// Each read is a fresh ArrayBuffer (FileReaderSync cannot fill an existing one), copied into the wasm heap at
// once and then garbage. V8 frees such buffers when it scavenges the young generation, which happens as young
// objects are allocated; this worker allocates almost none (the wasm heap is not the JS heap), so with the
// core's 8 MB read-ahead windows hundreds of MB of dead buffers piled up in the renderer, growing with the
// file (649 MB at 1.40 GB, 826 MB at 2.27 GB, 1 worker). A few short-lived objects per read (~1/64 of the
// read's bytes) keep the scavenges coming: 328 MB at 2.27 GB, and no slower (bench/web, docs/web.md).
let youngGarbage = null;
self.squintReadSlice = (id, offset, length) => {
  const bytes = new Uint8Array(reader.readAsArrayBuffer(files[id].slice(offset, offset + length)));
  for (let i = 0; i < length >> 7; i++) youngGarbage = [i];
  return bytes;
};

// Core answers are JSON text; {"error": ...} becomes a thrown Error (and so the reply's error field).
function parse(s) { const j = JSON.parse(s); if (j && j.error) throw new Error(j.error); return j; }
function need() { if (!session) throw new Error('no model is open'); return session; }

const methods = {
  open(list, format = 'mlx') {
    if (session) session.delete();
    session = new M.Session();
    files = list;
    modelFiles = list.length;
    for (const f of files) session.addFile(f.name, f.size);
    parse(session.setFormat(format));
    return parse(session.open());
  },
  // The measured gate of a quantized model (MLX files or one .gguf) against the open one: {report: gate.json text, exactly as
  // `squint gate ORIGINAL QUANTIZED --json` prints it, worst: [tensor indices, worst first]}.
  gate(list, floor) {
    need();
    files = files.slice(0, modelFiles).concat(list);
    return parse(session.gate(list.map((f) => f.name), list.map((f) => f.size), floor));
  },
  analyzeRange(begin, end) { return need().analyzeRange(begin, end); },  // text: passed on unparsed
  assemble(pieces) { return parse(need().assemble(JSON.stringify(pieces))); },
  results() { return { table: parse(need().sqnrTable()), tensors: parse(need().tensorSqnr()) }; },
  plan(settings) { return parse(need().plan(JSON.stringify(settings))); },
  curve(settings, points) { return parse(need().curve(JSON.stringify(settings), points)); },
  analysisJson() { return need().analysisJson(); },
  demo() {
    const d = M.demoFiles();
    return d.names.map((name, i) => ({ name, bytes: d.buffers[i] }));
  },
};

self.onmessage = async (e) => {
  const { id, method, args } = e.data;
  try {
    M = M || await ready;
    if (!Object.hasOwn(methods, method)) throw new Error(`unknown method ${method}`);
    const result = methods[method](...(args || []));
    if (typeof result === 'string' && method === 'analyzeRange' && result.startsWith('{"error"')) parse(result);
    self.postMessage({ id, result });
  } catch (err) {
    self.postMessage({ id, error: String((err && err.message) || err) });
  }
};
