// Child process for tests whose GGUF might kill llama.cpp's process (an abort in its loader ends the whole
// node process, so the test runs it here and looks at the exit): loads FILE and prints the mean NLL of each
// window of IDS_JSON ({"ids": [...]}) as JSON.   usage: node window_nll_child.mjs FILE IDS_JSON SEQ WINDOWS
import fs from "node:fs";
import { openLlama, withContext, llamaNll } from "./llama_harness.mjs";

const [file, idsFile, seq, windows] = process.argv.slice(2);
const ids = JSON.parse(fs.readFileSync(idsFile, "utf8")).ids;
const llama = await openLlama();
const nll = await withContext(llama, file, async (s) => {
  const out = [];
  for (let w = 0; w < Number(windows); ++w) out.push(await llamaNll(s, ids.slice(w * seq, (w + 1) * seq)));
  return out;
});
await llama.dispose();
process.stdout.write(JSON.stringify(nll));
