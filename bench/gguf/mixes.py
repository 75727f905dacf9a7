#!/usr/bin/env python3
"""Helpers of bench/gguf/mixes.sh (the llama.cpp mixes vs squint at the same size benchmark).

  mixes.py prepare RAW.txt OUT.txt            squint eval's text protocol (core/eval/perplexity.cpp
                                              prepare_eval_text), so `squint tokenize` of OUT gives eval's ids
  mixes.py sizes INSPECT.json                 tensor-data bytes (all, 2-D), params, type counts of a GGUF
  mixes.py budget INSPECT.json ANALYSIS.json  the squint budget matching a llama.cpp file (see below)
  mixes.py rows DIR MIX,MIX,... NOTE          DIR/rows.json: what mixes.sh made for one model
  mixes.py render WORK MODEL...               the generated tables, from WORK/<model>/{rows,eval}.json
  mixes.py docs DOC.md WORK MODEL...          put them between DOC.md's gguf-bench markers

Size accounting. Both files store every 1-D tensor (norms) as F32 and every matrix in a ggml type; squint's
plan counts a 1-D tensor in its keep dtype (F16/BF16), not F32. So the budget given to `squint plan` is the
mix's bytes of 2-D tensors + the plan's own bytes of the 1-D tensors: the matrices get exactly the bytes the
mix gave its matrices, and the written file's tensor data is then at most the mix's. The table reports the
tensor-data bytes of both written files as `squint inspect` reads them (file size minus header/metadata,
which is the same tokenizer and nearly the same keys in both).
"""
import json
import math
import os
import random
import re
import sys


def prepare(raw_path, out_path):
    raw = open(raw_path, encoding="utf-8", newline="").read()
    lines = []
    for line in raw.split("\n"):
        if line.endswith("\r"):
            line = line[:-1]
        if line.strip(" \t\r\f\v"):
            lines.append(line)
    with open(out_path, "w", encoding="utf-8", newline="") as f:
        f.write("\n\n".join(lines))


def sizes(inspect):
    d = json.load(open(inspect))
    types = {}
    for t in d["tensors"]:
        types[t["type"]] = types.get(t["type"], 0) + 1
    return {
        "tensor_bytes": sum(t["bytes"] for t in d["tensors"]),
        "matrix_bytes": sum(t["bytes"] for t in d["tensors"] if len(t["ne"]) >= 2),
        "params": sum(t["params"] for t in d["tensors"]),
        "file_bytes": os.path.getsize(d["location"]) if os.path.exists(d["location"]) else None,
        "types": types,
    }


def budget(inspect, analysis):
    a = json.load(open(analysis))
    one_d = sum(t["keep"]["bytes"] for t in a["tensors"] if len(t["shape"]) < 2)
    return sizes(inspect)["matrix_bytes"] + one_d


# squint-<key>-<mix> files, as bench/gguf/mixes.sh plans them (its KINDS): the planner default (params-mse
# objective, flat priors), the previous default (nrmse, role priors), other data-free settings, and the two that
# read calibration text (not data-free: llama.cpp's mixes are, so they are tabled apart).
KINDS = {"default": "squint params-mse/flat (default)", "nrmse-roles": "squint nrmse/roles (old default)",
         "params-mse-roles": "squint params-mse/roles", "mse-flat": "squint mse/flat", "mse-roles": "squint mse/roles",
         "residual": "squint residual/flat",
         "norm": "squint norm/flat (γ²-weighted)",
         "calibrated": "squint calibrated/flat", "select": "squint measured selection"}
NOT_DATA_FREE = {"calibrated", "select"}


def rows(d, mixes, kinds, note):
    """WORK/<model>/rows.json from the files mixes.sh left there (kinds: the KINDS keys it planned)."""
    def entry(stem):
        e = {"file": stem + ".gguf"}
        if os.path.exists(os.path.join(d, stem + ".inspect.json")):
            e["sizes"] = sizes(os.path.join(d, stem + ".inspect.json"))
        if os.path.exists(os.path.join(d, stem + ".missing")):
            e["missing"] = open(os.path.join(d, stem + ".missing")).read().strip()
            e["file"] = None
        return e
    a = json.load(open(os.path.join(d, "analysis.json")))
    one_d = sum(t["keep"]["bytes"] for t in a["tensors"] if len(t["shape"]) < 2)
    out = {"note": note, "squint_kinds": [KINDS[k] for k in kinds],
           "not_data_free": [KINDS[k] for k in kinds if k in NOT_DATA_FREE], "rows": []}
    fallbacks = []
    for mix in mixes:
        row = {"mix": mix, "llama": entry(f"llama-{mix}")}
        log = os.path.join(d, f"llama-{mix}.log")
        m = re.search(r"(\d+) of (\d+) tensor\(s\) required fallback", open(log).read()) if os.path.exists(log) else None
        if m:
            fallbacks.append(f"{mix} {m.group(1)} of {m.group(2)} tensors")
        ls = row["llama"]["sizes"]
        for k in kinds:
            label = KINDS[k]
            plan = os.path.join(d, f"squint-{k}-{mix}.plan.json")
            row[label] = e = entry(f"squint-{k}-{mix}")
            if os.path.exists(plan):  # the plan's bytes with the 1-D tensors as F32, as the file stores them
                e["plan_tensor_bytes"] = json.load(open(plan))["totals"]["bytes"] - one_d + ls["tensor_bytes"] - ls["matrix_bytes"]
        out["rows"].append(row)
    if fallbacks:
        out["note"] += (" llama.cpp fell back to other types where a row is not a multiple of the block (its log: " +
                        ", ".join(fallbacks) + "); files whose fallbacks coincide are identical.")
    json.dump(out, open(os.path.join(d, "rows.json"), "w"), indent=1)


def paired(a, b, n=2000, seed=7):
    """Mean of a−b over windows and its 95 % paired-bootstrap interval (resampling windows)."""
    rnd = random.Random(seed)
    d = [x - y for x, y in zip(a, b)]
    means = sorted(sum(d[rnd.randrange(len(d))] for _ in d) / len(d) for _ in range(n))
    return sum(d) / len(d), means[int(0.025 * n)], means[int(0.975 * n) - 1]


def fmt_int(n):
    return f"{n:,}"


def render(work, models):
    """The markdown of the generated tables (one section per model)."""
    out = []
    w = out.append
    for name in models:
        d = os.path.join(work, name)
        ev = json.load(open(os.path.join(d, "eval.json")))
        meta = json.load(open(os.path.join(d, "rows.json")))
        by_file = {os.path.basename(m["file"]): m for m in ev["models"]}
        ref = by_file[os.path.basename(ev["ref"])]
        w(f"### {name}\n")
        w(f"{meta['note']}\n")
        w(f"{len(ev['windows'])} windows of {ev['seq_len']} tokens ({fmt_int(ev['predicted_tokens'])} predicted tokens; "
          f"`--samples {ev['samples']}`, seed {ev['seed']}), vocabulary {ev['vocab']}. Float (F32 GGUF) in llama.cpp: "
          f"median PPL {ref['median_ppl']:.4f}, mean PPL {ref['mean_ppl']:.4f}; protocol check: its window NLLs equal "
          f"`squint eval`'s within {ev['ref_vs_squint_eval_max_abs_dnll']:.1e} nats.\n")
        not_free = set(meta.get("not_data_free", []))
        groups = [("", [k for k in meta["squint_kinds"] if k not in not_free])]
        if not_free:
            groups.append((f"Not data-free (they read ../shared/data/tinystories/train.txt: --calibrate 32 windows, --select-text 16, of 256 tokens, seed 42; never the "
                           "evaluation text; llama.cpp's mixes, repeated for reference, read no text):",
                           [k for k in meta["squint_kinds"] if k in not_free]))
        for title, kinds in groups:
            if title:
                w(f"{title}\n")
            w("| mix | model | tensor bytes | bpw | types | KL mean ± SE | KL median | KL P99 | top-1 | median PPL | "
              "ΔKL vs llama.cpp (95 % CI) |")
            w("|---|---|---|---|---|---|---|---|---|---|---|")
            tally = {}
            for row in meta["rows"]:
                base = by_file.get(row["llama"]["file"])
                for kind, r in [("llama.cpp", row["llama"])] + [(k, row[k]) for k in kinds if k in row]:
                    m = by_file.get(r["file"]) if r.get("file") else None
                    types = ", ".join(f"{t} {c}" for t, c in sorted(r["sizes"]["types"].items())) if r.get("sizes") else ""
                    size = r["sizes"]["tensor_bytes"] if r.get("sizes") else None
                    bpw = 8 * size / r["sizes"]["params"] if size else None
                    if m is None:
                        planned = f"plan: {fmt_int(r['plan_tensor_bytes'])}" if "plan_tensor_bytes" in r else ""
                        w(f"| {row['mix']} | {kind} | {planned} | | | not written: {r.get('missing', 'not evaluated').removeprefix('squint: error: ')} | | | | | |")
                        continue
                    cmp = ""
                    if kind != "llama.cpp" and base is not None:
                        mu, lo, hi = paired(m["window_kl"], base["window_kl"])
                        verdict = "better" if hi < 0 else "worse" if lo > 0 else "tie"
                        tally.setdefault(kind, {"better": 0, "tie": 0, "worse": 0})[verdict] += 1
                        cmp = f"{100 * mu / base['kl_mean']:+.1f} % ({100 * lo / base['kl_mean']:+.1f} … {100 * hi / base['kl_mean']:+.1f} %): **{verdict}**"
                    w(f"| {row['mix']} | {kind} | {fmt_int(size)} | {bpw:.3f} | {types} | {m['kl_mean']:.5f} ± {m['kl_mean_se']:.5f} | "
                      f"{m['kl_median']:.5f} | {m['kl_p99']:.4f} | {100 * m['top1']:.2f} % | {m['median_ppl']:.4f} | {cmp} |")
            w("")
            if tally:
                w("squint vs llama.cpp at the same size (mean KL, paired bootstrap over windows, 95 %): " +
                  "; ".join(f"`{k}` {v['better']} better / {v['tie']} tie / {v['worse']} worse" for k, v in tally.items()) + ".\n")
    return "\n".join(out)


def docs(path, work, models):
    """Replaces the text between the gguf-bench markers of PATH (appending them if absent)."""
    begin, end = "<!-- gguf-bench:begin -->", "<!-- gguf-bench:end -->"
    doc = open(path).read()
    if begin not in doc:
        doc = doc.rstrip("\n") + "\n\n" + begin + "\n" + end + "\n"
    head, rest = doc.split(begin, 1)
    tail = rest.split(end, 1)[1]
    with open(path + ".tmp", "w") as f:
        f.write(head + begin + "\n" + render(work, models) + "\n" + end + tail)
    os.replace(path + ".tmp", path)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "prepare":
        prepare(*args)
    elif cmd == "sizes":
        print(json.dumps(sizes(args[0])))
    elif cmd == "budget":
        print(budget(*args))
    elif cmd == "rows":
        rows(args[0], args[1].split(","), args[2].split(","), args[3])
    elif cmd == "render":
        print(render(args[0], args[1:]))
    elif cmd == "docs":
        docs(args[0], args[1], args[2:])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
