#!/usr/bin/env python3
"""Writes the fuzz seed corpus (small, generated: no model weights): tests/fuzz/corpus/<target>/."""
import json, os, struct, sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")

def st(tensors, pad=True):
    hdr, off, data = {}, 0, b""
    for name, dtype, shape, raw in tensors:
        hdr[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw); data += raw
    h = json.dumps(hdr, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data

f32 = lambda vals: struct.pack("<%df" % len(vals), *vals)
w = st([("model.layers.0.self_attn.q_proj.weight", "F32", [2, 32], f32([i / 64 - 0.5 for i in range(64)])),
        ("model.layers.0.input_layernorm.weight", "BF16", [4], b"\x80\x3f" * 4)])

def gguf(kvs, tensors, align=32):
    """A GGUF v3 file: kvs = [(key, type_id, packed_value)], tensors = [(name, ne, ggml_type, raw)]."""
    gs = lambda b: struct.pack("<Q", len(b)) + b
    h = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for k, t, v in kvs:
        h += gs(k.encode()) + struct.pack("<I", t) + v
    off, data = 0, b""
    for name, ne, ty, raw in tensors:
        h += gs(name.encode()) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne) + struct.pack("<IQ", ty, off)
        raw += b"\0" * (-len(raw) % align); data += raw; off += len(raw)
    return h + b"\0" * (-len(h) % align) + data

strs = lambda xs: struct.pack("<IQ", 8, len(xs)) + b"".join(struct.pack("<Q", len(x)) + x for x in xs)
g_ok = gguf([("general.architecture", 8, struct.pack("<Q", 5) + b"llama"), ("llama.block_count", 4, struct.pack("<I", 1)),
             ("tokenizer.ggml.tokens", 9, strs([b"<unk>", b"a"])), ("f", 6, struct.pack("<f", 0.5)), ("b", 7, b"\1")],
            [("token_embd.weight", [32, 2], 8, b"\x00\x3c" + b"\x01" * 32 + b"\x00\x3c" + b"\x02" * 32),
             ("output_norm.weight", [4], 0, f32([1, 1, 1, 1]))])
arr = lambda inner, fmt, xs: struct.pack("<IQ", inner, len(xs)) + b"".join(struct.pack(fmt, x) for x in xs)
gs_ = lambda b: struct.pack("<Q", len(b)) + b
g_spm = gguf([("tokenizer.ggml.model", 8, gs_(b"llama")),
              ("tokenizer.ggml.tokens", 9, strs([b"<unk>", b"<s>", b"</s>", "\u2581a".encode(), b"a", b"b", "\u2581".encode()])),
              ("tokenizer.ggml.scores", 9, arr(6, "<f", [0, 0, 0, -1, -2, -3, -4])),
              ("tokenizer.ggml.token_type", 9, arr(5, "<i", [2, 3, 3, 1, 1, 1, 1])),
              ("tokenizer.ggml.bos_token_id", 4, struct.pack("<I", 1)), ("tokenizer.ggml.unknown_token_id", 4, struct.pack("<I", 0))], [])
g_bpe = gguf([("tokenizer.ggml.model", 8, gs_(b"gpt2")), ("tokenizer.ggml.pre", 8, gs_(b"gpt-2")),
              ("tokenizer.ggml.tokens", 9, strs([b"a", b"b", b"ab", "\u0120".encode(), b"<s>"])),
              ("tokenizer.ggml.token_type", 9, arr(5, "<i", [1, 1, 1, 1, 3])),
              ("tokenizer.ggml.merges", 9, strs([b"a b"]))], [])
# imatrix: llama.cpp's GGUF imatrix (a dense entry and a 2-expert stack) and the legacy .dat.
u32 = lambda v: struct.pack("<I", v)
im_meta = [("general.type", 8, gs_(b"imatrix")), ("imatrix.datasets", 9, strs([b"train.txt"])),
           ("imatrix.chunk_count", 4, u32(2)), ("imatrix.chunk_size", 4, u32(16))]
im_gguf = gguf(im_meta, [("blk.0.attn_q.weight.in_sum2", [4], 0, f32([1, 2, 3, 4])), ("blk.0.attn_q.weight.counts", [1], 0, f32([32])),
                         ("blk.0.ffn_up_exps.weight.in_sum2", [2, 2], 0, f32([1, 2, 0, 0])),
                         ("blk.0.ffn_up_exps.weight.counts", [1, 2], 0, f32([5, 0]))])
dat_entry = lambda name, ncall, vals: struct.pack("<i", len(name)) + name + struct.pack("<ii", ncall, len(vals)) + f32(vals)
im_dat = struct.pack("<i", 2) + dat_entry(b"blk.0.attn_q.weight", 2, [0.5, 1, 1.5, 2]) + dat_entry(b"blk.0.ffn_down.weight", 2, [1, 1]) + \
         struct.pack("<i", 2) + struct.pack("<i", 9) + b"train.txt"
seeds = {
    "imatrix": {"gguf": im_gguf, "dat": im_dat, "dat_no_trailer": im_dat[:-17], "trunc": im_gguf[:150]},
    "gguf": {"ok": g_ok, "trunc": g_ok[:100], "empty": gguf([], []), "vocab_llama": g_spm, "vocab_gpt2": g_bpe},
    "safetensors": {"ok": w, "empty": st([]), "trunc": w[:40], "meta": st([])},
    "checkpoint": {"ok": json.dumps({"weight_map": {"model.layers.0.self_attn.q_proj.weight": "a.safetensors",
                                                    "model.layers.0.input_layernorm.weight": "a.safetensors"}}).encode() + b"\0" + w,
                   "missing": json.dumps({"weight_map": {"x": "b.safetensors"}}).encode() + b"\0" + w},
    "mlx": {"plain": b'{"num_hidden_layers":1}\0' + w,
            "q4": json.dumps({"quantization": {"group_size": 32, "bits": 4}}).encode() + b"\0" +
                  st([("l.weight", "U32", [2, 4], b"\x11" * 32), ("l.scales", "F16", [2, 1], b"\x00\x3c" * 2),
                      ("l.biases", "F16", [2, 1], b"\x00\x00" * 2)])},
    "plan": {"plan": json.dumps({"format": "squint.plan", "version": 1, "model_fingerprint": "xxh64:0", "options": {},
                                 "budget_bytes": 10, "totals": {"bytes": 8, "params": 4, "bpw_nominal": 16, "bpw_effective": 16},
                                 "objective": 0, "bound": 0, "gap": 0, "solver": "exact",
                                 "tensors": [{"name": "a", "bits": 4, "group_size": 64, "bytes": 8, "nrmse": 0.1,
                                              "sqnr_db": 20, "prior": 1}]}).encode(),
             "analysis": json.dumps({"format": "squint.analysis", "version": 1, "model": {"fingerprint": "xxh64:0"},
                                     "configs": [{"bits": 4, "group_size": 64}],
                                     "tensors": [{"name": "a", "shape": [4, 64], "dtype": "BF16", "params": 256, "bytes": 512,
                                                  "measured": True, "keep": {"bytes": 512, "nrmse": 0},
                                                  "configs": [{"bits": 4, "group_size": 64, "nrmse": 0.09, "sqnr_db": 20.9, "bytes": 144}]}]}).encode()},
    # tokenizer.json (+ "\0" + text): a byte-level and a SentencePiece-style BPE, one component each
    "tokenizer_json": {
        "bytelevel": json.dumps({"added_tokens": [{"id": 9, "content": "<s>", "special": True, "normalized": False, "lstrip": True}],
                                 "normalizer": {"type": "NFC"},
                                 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                                     {"type": "Split", "pattern": {"Regex": "\\p{L}+|\\p{N}{1,3}|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": False},
                                     {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}]},
                                 "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}],
                                                    "special_tokens": {"<s>": {"id": "<s>", "ids": [9], "tokens": ["<s>"]}}},
                                 "decoder": {"type": "ByteLevel"},
                                 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "\u0120": 3}, "merges": ["a b"], "ignore_merges": True}}).encode() + b"\0ab ab\xc3\xa9",
        "sp": json.dumps({"normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                                              {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
                          "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True},
                          "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
                          "model": {"type": "BPE", "byte_fallback": True, "fuse_unk": True, "unk_token": "<unk>",
                                    "vocab": {"<unk>": 0, "<0x41>": 1, "\u2581": 2, "x": 3, "\u2581x": 4}, "merges": [["\u2581", "x"]]}}).encode(),
    },
}
# Partial analysis outputs (analysis/analysis_parts.h, analysis_journal.h) of the identity fuzz_analysis_parts.cpp
# holds: a part file, and a resume journal (JSON, tab, FNV-1a 64 of the JSON in hex, per line).
ident = {"squint": "fuzz", "part": 1, "parts": 1, "tensor_count": 2, "data_sample": "xxh64:0", "features": False,
         "analysis": {"format": "squint.analysis", "version": 1,
                      "model": {"fingerprint": "xxh64:0", "files": ["model.safetensors"], "num_layers": 1,
                                "tied_embeddings": False, "num_experts": 0, "params": 68, "bytes": 264},
                      "f32_output_dtype": "float16", "configs": [{"bits": 4, "group_size": 32}]}}
tensors = [{"name": "model.layers.0.self_attn.q_proj.weight", "shape": [2, 32], "dtype": "F32", "output_dtype": "F16",
            "params": 64, "bytes": 256, "role": "attn_q", "layer": 0, "first_layer": True, "last_layer": True,
            "measured": True, "keep": {"bytes": 128, "nrmse": 0.0001, "sqnr_db": 80},
            "configs": [{"bits": 4, "group_size": 32, "nrmse": 0.09, "sqnr_db": 20.9, "bytes": 40}]},
           {"name": "model.layers.0.input_layernorm.weight", "shape": [4], "dtype": "BF16", "output_dtype": "BF16",
            "params": 4, "bytes": 8, "role": "norm", "layer": 0, "measured": False, "reason": "1-D tensor; always kept",
            "keep": {"bytes": 8, "nrmse": 0, "sqnr_db": 300}, "configs": []}]
part = dict(ident, format="squint.analysis_part", version=1, indices=[0, 1])
part["analysis"] = dict(ident["analysis"], tensors=tensors)

def fnv1a64(b):
    h = 14695981039346656037
    for c in b:
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h

def journal_line(obj):
    body = json.dumps(obj, separators=(",", ":")).encode()
    return body + b"\t" + b"%016x" % fnv1a64(body) + b"\n"

journal = journal_line(dict(ident, format="squint.analysis_journal", version=1)) + \
    b"".join(journal_line({"index": i, "tensor": t}) for i, t in enumerate(tensors))
seeds["analysis_parts"] = {"part": json.dumps(part).encode(), "journal": journal, "torn": journal[:-40]}

for target, files in seeds.items():
    d = os.path.join(out, target); os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        open(os.path.join(d, name), "wb").write(data)
