#!/usr/bin/python3
"""Issue 19's results table: post-training compression of a float Fashion-MNIST network with `xnoredge convert`.

    firmware-tools/compress/compress-table.sh --float <model.onnx> [--out build/compress/table] [--md <file.md>]

1. Data: the trainer's validation split (5,000 training images, split_validation seed 0) and calibration images
   drawn from the other training images (split_idx.py); the test set is the 10,000 t10k images.
2. Choices, on the validation split only: BWNH's calibration image count, sweeps and calibration treatment (none,
   --recalibrate-bn, --correct-channels or both; for hidden-only and for all layers separately), sign's treatment,
   and for each k-bit family and layer selection the per-channel scale rule (max or mse) and the treatment, chosen
   at --choose-bits (4) and used for every width. Every candidate is scored on validation; the best is kept (ties: the
   cheaper, listed first).
3. Rows, each scored once on validation and once on the test set: float; sign and BWNH (binary weights, real
   activations) for hidden layers and all layers; exp:k and linear:k, k = 2..6, for first+last and for all layers;
   int8. Other families by --families (e.g. hexp, the half-step exponential levels; chosen exactly as exp), and
   --binary-layers none --no-int8 to add only k-bit rows to an existing table. File size, `xnoredge simulate --target esp32` and `xnoredge bench -t 1` (all models in turn, several
   rounds, the median of the round medians: side by side in one run).
Writes <out>/table.json and the markdown table (stdout, and --md if given).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CLI = os.environ.get("XNOREDGE_CLI") or os.path.join(ROOT, "firmware-tools", "XnorEdge.Cli", "bin", "Release", "net8.0", "xnoredge")
TEST_IMAGES = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
TEST_LABELS = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"


def run(args, log):
    t = time.time()
    p = subprocess.run([CLI] + args, capture_output=True, text=True)
    log.write(f"$ xnoredge {' '.join(args)}  ({time.time() - t:.1f} s, exit {p.returncode})\n{p.stdout}{p.stderr}\n")
    log.flush()
    if p.returncode != 0:
        sys.exit(f"xnoredge {' '.join(args)} failed:\n{p.stderr}")
    return p.stdout


class Runner:
    def __init__(self, onnx, out, data, log):
        self.onnx, self.out, self.data, self.log = onnx, out, data, log
        self.converted = {}

    def convert(self, name, args):
        """Converts once per distinct set of options (a final row reuses its candidate's file: conversion is deterministic)."""
        path = os.path.join(self.out, name + ".xnor")
        key = tuple(args)
        if key in self.converted:
            shutil.copyfile(self.converted[key][0], path)
            return path, self.converted[key][1]
        text = run(["convert", self.onnx, "-o", path, "--allow-float"] + args, self.log)
        self.converted[key] = (path, text)
        return path, text

    def accuracy(self, path, split):
        images, labels = ((os.path.join(self.data, "val-images-idx3-ubyte.gz"), os.path.join(self.data, "val-labels-idx1-ubyte.gz"))
                          if split == "val" else (TEST_IMAGES, TEST_LABELS))
        d = json.loads(run(["eval", path, "--images", images, "--labels", labels, "--json"], self.log))
        return d["accuracy"]

    def calibration(self, count):
        return ["--calibration", os.path.join(self.data, "calib-images-idx3-ubyte.gz"), "--calibration-count", str(count)]


TREATMENTS = {"none": [], "bn": ["--recalibrate-bn"], "channels": ["--correct-channels"], "channels+bn": ["--correct-channels", "--recalibrate-bn"]}


def compress_args(weights, layers, choice, runner):
    """convert's options for one row: the encoding, the layers, and the chosen calibration settings."""
    args = ["--weights", weights, "--layers", layers]
    if "scaleRule" in choice:
        args += ["--scale-rule", choice["scaleRule"]]
    treatment = choice.get("treatment", "none")
    if weights == "bwnh" or treatment != "none":
        args += runner.calibration(choice.get("count", 256))
    if weights == "bwnh":
        args += ["--bwnh-sweeps", str(choice["sweeps"])]
    return args + TREATMENTS[treatment]


def objectives(text):
    """(node, naive objective, method objective) from convert's notes."""
    rows = []
    for m in re.finditer(r"--weights (?:bwnh|sign): (\w+ '[^']+'): objective \|\|X\(W - B\*alpha\)\|\|\^2 (\S+) for sign\(W\)\*mean\|W\|, (\S+) for", text):
        rows.append((m.group(1), float(m.group(2)), float(m.group(3))))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--float", dest="onnx", required=True, help="the float network (ONNX from train_fashion.py --float)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "compress", "table"))
    ap.add_argument("--md", help="also write the markdown table to this file")
    ap.add_argument("--counts", default="256,1024", help="BWNH calibration image counts to choose from")
    ap.add_argument("--sweeps", default="1,50", help="BWNH sweep limits to choose from")
    ap.add_argument("--bits", default="2,3,4,5,6")
    ap.add_argument("--families", default="exp,linear")
    ap.add_argument("--choose-bits", type=int, default=4, help="the width at which each k-bit family's settings are chosen")
    ap.add_argument("--kbit-layers", default="first,last;all", help="layer selections of the k-bit rows, ';'-separated")
    ap.add_argument("--binary-layers", default="hidden,all", help="layer selections of the sign/BWNH rows ('none': no sign/BWNH rows)")
    ap.add_argument("--treatments", default="none,bn,channels,channels+bn", help="calibration treatments to choose from")
    ap.add_argument("--kbit-treatments", help="calibration treatments for the k-bit rows (default: --treatments)")
    ap.add_argument("--no-int8", dest="int8", action="store_false")
    ap.add_argument("--render-only", action="store_true", help="rewrite the markdown of an existing <out>/table.json")
    ap.add_argument("--bench-only", action="store_true", help="re-run only the bench of an existing <out>/table.json and rewrite the table")
    ap.add_argument("--bench-rounds", type=int, default=3)
    ap.add_argument("--bench-iterations", type=int, default=100)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.bench_only or args.render_only:
        with open(os.path.join(args.out, "table.json")) as f:
            report = json.load(f)
        # The objectives again from the conversions' output in the log (older tables parsed them wrongly).
        blocks = open(os.path.join(args.out, "log.txt")).read().split("$ xnoredge ")
        for res in report["rows"]:
            opts = " ".join(res["args"])
            text = next((b for b in reversed(blocks) if b.startswith("convert ") and b.split("\n", 1)[0].split("  (")[0].endswith(opts)), "")
            res["objectives"] = objectives(text)
        if args.bench_only:
            log = open(os.path.join(args.out, "log.txt"), "a")
            bench(report["rows"], args, log)
        finish(report, args)
        return
    data = os.path.join(args.out, "data")
    if not os.path.exists(os.path.join(data, "calib-images-idx3-ubyte.gz")):
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "firmware-tools", "compress", "split_idx.py"), "--out", data], check=True)
    log = open(os.path.join(args.out, "log.txt"), "a")
    r = Runner(os.path.abspath(args.onnx), args.out, data, log)
    choices, selection = {}, []

    # ---- 2. choices on validation
    def choose(row, name, weights, layers, candidates):
        best = None
        for c in candidates:
            path, _ = r.convert(f"choose-{name}-" + "-".join(str(v) for v in c.values()), compress_args(weights, layers, c, r))
            acc = r.accuracy(path, "val")
            selection.append({"row": row, **c, "val": acc})
            print(f"choose {row}: {c}: val {acc:.2f}", flush=True)
            if best is None or acc > best[0]:
                best = (acc, c)
        choices[row] = best[1]
        return best[1]

    counts = [int(c) for c in args.counts.split(",")]
    sweeps = [int(s) for s in args.sweeps.split(",")]
    treatments = args.treatments.split(",")
    kbit_treatments = (args.kbit_treatments or args.treatments).split(",")
    binary_sets = [s for s in args.binary_layers.split(",") if s and s != "none"]
    for layers in binary_sets:
        # Sweeps and count without re-estimation, then every re-estimation with the full solver at each count.
        choose(f"bwnh {layers}", f"bwnh-{layers}", "bwnh", layers,
               [{"count": counts[0], "sweeps": w, "treatment": "none"} for w in sweeps]
               + [{"count": n, "sweeps": sweeps[-1], "treatment": t} for t in treatments for n in counts if (t, n) != ("none", counts[0])])
        # The naive baseline is plain sign; "sign+calibrated" re-estimates scales/batch norms like BWNH may.
        choices[f"sign {layers}"] = {}
        choose(f"sign+calibrated {layers}", f"sign-{layers}", "sign", layers,
               [{"count": choices[f"bwnh {layers}"]["count"], "treatment": t} for t in treatments if t != "none"])
    bits = [int(b) for b in args.bits.split(",")]
    kbit_rows = [(f"{family}:{k}", layers) for layers in args.kbit_layers.split(";") for family in args.families.split(",") for k in bits]
    if args.int8:
        kbit_rows.append(("int8", "all"))
    # k-bit rows: the scale rule, then the calibration treatment, chosen per family and layer selection at
    # --choose-bits (one choice applied to every width of that family and selection, to keep the sweep short).
    groups = {}
    for weights, layers in kbit_rows:
        family = weights.split(":")[0]
        groups.setdefault((family, layers), []).append(weights)
    for (family, layers), members in groups.items():
        w = f"{family}:{args.choose_bits}" if family != "int8" else "int8"
        row, name = f"{family} {layers}", f"{w.replace(':', '')}-{layers.replace(',', '')}"
        rule = choose(row + " (scale rule)", name, w, layers, [{"scaleRule": "max"}, {"scaleRule": "mse"}])["scaleRule"]
        plain = next(x["val"] for x in selection if x["row"] == row + " (scale rule)" and x["scaleRule"] == rule)
        selection.append({"row": row, "weights": w, "scaleRule": rule, "treatment": "none", "val": plain})
        best = choose(row, name + "-" + rule, w, layers,
                      [{"scaleRule": rule, "count": 256, "treatment": t} for t in kbit_treatments if t != "none"]) if len(kbit_treatments) > 1 else None
        if best is None or plain >= next(x["val"] for x in selection if x["row"] == row and x.get("treatment") == best["treatment"]):
            best = {"scaleRule": rule, "treatment": "none"}
        for m in members:
            choices[f"{m} {layers}"] = best

    # ---- 3. rows with the chosen settings, each scored once on validation and once on test
    rows = [("float", "float", ["--weights", "float"])]
    for layers in binary_sets:
        for row, weights in ((f"sign {layers}", "sign"), (f"sign+calibrated {layers}", "sign"), (f"bwnh {layers}", "bwnh")):
            rows.append((row, row.replace(" ", "-").replace("+", ""), compress_args(weights, layers, choices[row], r)))
    for weights, layers in kbit_rows:
        row = f"{weights} {layers}"
        rows.append((row, f"{weights.replace(':', '')}-{layers.replace(',', '')}", compress_args(weights, layers, choices[row], r)))

    results = []
    for key, name, cargs in rows:
        path, text = r.convert(name, cargs)
        sim = json.loads(run(["simulate", path, "--target", "esp32", "--json"], log))
        res = {"row": key, "file": path, "args": cargs, "bytes": os.path.getsize(path),
               "val": r.accuracy(path, "val"), "test": r.accuracy(path, "test"),
               "esp32LowMs": sim["latency"]["estimateLowMs"], "esp32HighMs": sim["latency"]["estimateHighMs"],
               "hostNanoClrMs": sim["latency"]["hostNanoClrMs"], "objectives": objectives(text)}
        results.append(res)
        print(f"{key}: {res['bytes']} bytes, val {res['val']:.2f}, test {res['test']:.2f}", flush=True)

    bench(results, args, log)
    report = {"onnx": os.path.abspath(args.onnx), "choices": choices, "selection": selection, "rows": results}
    finish(report, args)


def bench(results, args, log):
    """Every model in turn, --bench-rounds rounds, one thread; the median of the round medians."""
    times = {res["row"]: [] for res in results}
    allocated = {}
    for _ in range(args.bench_rounds):
        for res in results:
            d = json.loads(run(["bench", res["file"], "-t", "1", "-n", str(args.bench_iterations), "--warmup", "10", "--json"], log))
            times[res["row"]].append(d["binary"]["medianMs"])
            allocated[res["row"]] = d["binary"]["allocatedBytesPerInference"]
    for res in results:
        res["benchMs"] = statistics.median(times[res["row"]])
        res["benchRoundsMs"] = times[res["row"]]
        res["allocatedBytesPerInference"] = allocated[res["row"]]


def finish(report, args):
    report["cpu"] = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    report["loadAverage"] = open("/proc/loadavg").read().split()[:3]
    with open(os.path.join(args.out, "table.json"), "w") as f:
        json.dump(report, f, indent=1)
    md = markdown(report)
    print(md)
    if args.md:
        with open(args.md, "w") as f:
            f.write(md)


def markdown(rep):
    rows = rep["rows"]
    base = rows[0]
    out = [f"Float network: `{os.path.relpath(rep['onnx'], ROOT)}`. Bench: `xnoredge bench -t 1`, median of "
           f"{len(base['benchRoundsMs'])} rounds over every model in turn, on {rep['cpu']} (2 vCPUs shared; load average "
           f"{' '.join(rep['loadAverage'])} at the end). ESP32: `xnoredge simulate --target esp32` (managed C# on stock firmware).",
           "",
           "| row | settings (chosen on validation) | validation | test | Δ test vs float | file bytes | vs float | bench ms | vs float | B/inference | ESP32 estimate |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for res in rows:
        settings = " ".join(a for a in res["args"] if not a.startswith("/") and "idx" not in a)
        settings = settings.replace("--calibration --calibration-count", "--calibration-count")
        out.append(f"| {res['row']} | `{settings}` | {res['val']:.2f} % | {res['test']:.2f} % | {res['test'] - base['test']:+.2f} | "
                   f"{res['bytes']:,} | {base['bytes'] / res['bytes']:.1f}x smaller | {res['benchMs']:.3f} | "
                   f"{res['benchMs'] / base['benchMs']:.2f}x | {res['allocatedBytesPerInference']} | {res['esp32LowMs'] / 1000:.1f}-{res['esp32HighMs'] / 1000:.1f} s |")
    out.append("")
    out.append("BWNH objective ‖X(W − BΛ)‖²_F per layer (calibration inputs from the float network), plain sign(W)·mean|W| against BWNH:")
    out.append("")
    out.append("| row | layer | sign | BWNH | BWNH / sign |")
    out.append("|---|---|---:|---:|---:|")
    for res in rows:
        if res["row"].startswith("bwnh"):
            for node, naive, ours in res["objectives"]:
                out.append(f"| {res['row']} | {node} | {naive:.4g} | {ours:.4g} | {ours / naive:.3f} |")
    out.append("")
    out.append("Validation scores of every candidate (the choice is the best; the test set was not used):")
    out.append("")
    out.append("| row | candidate | validation |")
    out.append("|---|---|---:|")
    for s in rep["selection"]:
        cand = ", ".join(f"{k} {v}" for k, v in s.items() if k not in ("row", "val"))
        out.append(f"| {s['row']} | {cand} | {s['val']:.2f} % |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
