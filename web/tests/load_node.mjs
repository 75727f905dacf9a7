// Loads the node flavour of the wasm module (emscripten 3.1.6 under node >= 18 needs the bytes passed in).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export async function loadSquint(cjsPath = process.env.SQUINT_NODE_JS || 'build-wasm/squint_node.cjs') {
  const abs = path.resolve(cjsPath);
  const create = createRequire(import.meta.url)(abs);
  return create({ wasmBinary: readFileSync(abs.replace(/\.cjs$/, '.wasm')) });
}
