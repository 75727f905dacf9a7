// Where the GGUF tests find squint, llama.cpp's shared library and ../shared (one place for all of them).
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const squint = process.env.SQUINT_BIN ? path.resolve(process.env.SQUINT_BIN) : path.join(root, "build/squint");
export const llq = path.join(path.dirname(squint), "gguf_llama_quantize");  // bench/gguf_llama_quantize.cpp
export const lib = path.join(root, "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama.v0.4.0.so");
export const shared = process.env.SQUINT_SHARED_DIR ?? path.resolve(root, "../shared");
