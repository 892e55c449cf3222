#!/usr/bin/python3
"""Turns the raw JSON of run-benchmarks.sh into markdown tables and results/speedup.png.

    /usr/bin/python3 report.py <results dir>     (reads <dir>/raw/*.json, writes <dir>/*.md and <dir>/speedup.png)
"""
import glob
import json
import os
import statistics
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: E402
except ImportError:  # the tables do not need it; speedup.png is then left as it was
    plt = None


LAYOUTS = ("nchw", "channels_last", "onednn")


def load(path):
    with open(path) as f:
        return json.load(f)


def formula(c, k):
    """XNOR-Net's theoretical speed-up, S = 64 c N_W / (c N_W + 64) (N_W = k*k)."""
    return 64.0 * c * k * k / (c * k * k + 64.0)


def table(header, rows, align=None):
    align = align or ["r"] * len(header)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if a == "r" else ":---" for a in align) + "|"]
    out += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def main():
    out = sys.argv[1]
    raw = os.path.join(out, "raw")
    env = load(os.path.join(raw, "environment.json"))
    sweep = load(os.path.join(raw, "sweep.json"))
    torch_sweep = load(os.path.join(raw, "pytorch-sweep.json"))
    cref = load(os.path.join(raw, "cref.json"))
    c_alone = load(os.path.join(raw, "c-reference-standalone.json"))
    ref_cs = [load(p) for p in sorted(glob.glob(os.path.join(raw, "ref-csharp-*.json")))]
    ref_pt = [load(p) for p in sorted(glob.glob(os.path.join(raw, "ref-pytorch-*.json")))]
    e2e = {os.path.basename(p)[4:-5]: load(p) for p in sorted(glob.glob(os.path.join(raw, "e2e-*.json")))}
    onnx_sweep = load(os.path.join(raw, "onnx-sweep.json"))
    layers = load(os.path.join(raw, "layers.json"))
    with open(os.path.join(raw, "probes.jsonl")) as f:
        probes = [json.loads(l) for l in f if l.strip()]

    machine = sweep["machine"]
    head = (f"Machine: {machine['cpu']}, {env['nproc']} logical CPUs, {machine['os']}; {machine['runtime']}; "
            f"binary kernel path {machine['binaryBest']}, float path {machine['floatBest']}; PyTorch {torch_sweep['torch']} "
            f"(1 thread, mkldnn {torch_sweep['mkldnn']}); gcc: {env['gcc']}. Measured {env['date']} with `taskset -c {env['cpu']}`; "
            f"load average at the start {env['loadavg']}. "
            "Every figure is the median of single-call times over alternating rounds of ~20 ms per engine.\n")

    # --- 1. The XNOR-Net sweep -------------------------------------------------------------------
    pt = {(r["channels"], r["kernel"], r["layout"]): r for r in torch_sweep["rows"]}
    rows = []
    for r in sweep["rows"]:
        c, k = r["channels"], r["kernel"]
        p = min((pt[(c, k, l)] for l in LAYOUTS if (c, k, l) in pt), key=lambda x: x["medianMs"], default=None)
        rows.append([
            f"{k}x{k}", c, f"{r['macs'] / 1e6:.1f}",
            f"{r['binaryMs'] * 1000:.1f}", f"{r['binaryGMacs']:.0f}",
            f"{r['floatMs'] * 1000:.1f}", f"{r['floatGMacs']:.1f}",
            f"{p['medianMs'] * 1000:.1f} ({p['layout']})" if p else "-", f"{p['gMacs']:.1f}" if p else "-",
            f"**{r['speedup']:.1f}x**", f"{p['medianMs'] / r['binaryMs']:.1f}x" if p else "-", f"{formula(c, k):.1f}x",
        ])
    sweep_md = ("# Binary vs float convolution: the XNOR-Net sweep\n\n" + head +
                "\nC -> C channels, k x k, 14x14 input, stride 1, same (zero) padding, batch 1, one thread. "
                "Binary: FastXnorConv2D.Execute on the best kernel path (im2col, XNOR-popcount, exact border correction, int32 output). "
                "Float: our float baseline (Runtime/Float: implicit im2col + register-blocked FMA GEMM, FloatConvolution.Run) on the same "
                "shape. PyTorch: float32, the fastest of `conv2d` NCHW, `conv2d` channels_last and oneDNN called directly "
                "(`torch.mkldnn_convolution`): Debian's torch has a generic reference BLAS, and `conv2d` picks its slow im2col + "
                "reference-GEMM path (~3 G MAC/s) for 1x1 and small 3x3 convs, where oneDNN is 10-30x faster (see pytorch-sweep.md). "
                "MACs = 14*14*C*k*k*C "
                "(padded taps included). S is XNOR-Net's theoretical speed-up 64*c*N_W/(c*N_W + 64), N_W = k*k.\n\n" +
                table(["kernel", "C", "M MACs", "binary us", "G bin MAC/s", "float us", "G MAC/s", "PyTorch us", "G MAC/s",
                       "binary vs our float", "binary vs PyTorch", "S (formula)"], rows) +
                "\n![speed-up](speedup.png)\n")
    with open(os.path.join(out, "sweep.md"), "w") as f:
        f.write(sweep_md)

    prow = []
    for r in sweep["rows"]:
        c, k = r["channels"], r["kernel"]
        vals = [pt.get((c, k, l)) for l in LAYOUTS]
        prow.append([f"{k}x{k}", c] + [f"{v['medianMs'] * 1000:.1f} ({v['gMacs']:.1f})" if v else "-" for v in vals])
    with open(os.path.join(out, "pytorch-sweep.md"), "w") as f:
        f.write("# PyTorch float32 convolution per layout\n\n" + head +
                f"\nPyTorch {torch_sweep['torch']}, one thread, 1 x C x 14 x 14, C -> C, k x k, pad k/2: median us (G MAC/s).\n\n" +
                table(["kernel", "C", "conv2d NCHW", "conv2d channels_last", "oneDNN direct"], prow))

    # --- plot ------------------------------------------------------------------------------------
    if plt is None:
        print("report.py: no matplotlib, speedup.png not redrawn", file=sys.stderr)
    else:
        fig, ax = plt.subplots(1, 2, figsize=(12, 4.8))
        colors = {1: "tab:blue", 3: "tab:orange", 5: "tab:green"}
        for k in sorted({r["kernel"] for r in sweep["rows"]}):
            rs = [r for r in sweep["rows"] if r["kernel"] == k]
            cs = [r["channels"] for r in rs]
            ax[0].plot(cs, [r["speedup"] for r in rs], "o-", color=colors.get(k), label=f"{k}x{k} measured (vs our float GEMM)")
            ax[0].plot(cs, [formula(c, k) for c in cs], "--", color=colors.get(k), alpha=0.6, label=f"{k}x{k} formula S")
            ptk = [min((pt[(c, k, l)]["medianMs"] for l in LAYOUTS if (c, k, l) in pt), default=None) for c in cs]
            ax[1].plot(cs, [p / r["binaryMs"] if p else None for p, r in zip(ptk, rs)], "o-", color=colors.get(k), label=f"{k}x{k} vs PyTorch")
            ax[1].plot(cs, [r["speedup"] for r in rs], ":", color=colors.get(k), alpha=0.6, label=f"{k}x{k} vs our float")
        for a in ax:
            a.set_xscale("log", base=2)
            a.set_yscale("log", base=2)
            a.set_xlabel("channels c (C -> C, 14x14 input)")
            a.grid(True, which="both", alpha=0.3)
            a.axhline(1, color="gray", lw=0.8)
        ax[0].set_ylabel("speed-up of the binary conv (x)")
        ax[0].set_title("Binary over float convolution, one thread\nmeasured vs XNOR-Net's S = 64cN_W/(cN_W+64)")
        ax[1].set_title("Binary over PyTorch float32 (fastest of conv2d NCHW,\nchannels_last, oneDNN direct), one thread")
        ax[0].legend(fontsize=7)
        ax[1].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "speedup.png"), dpi=120)

    # --- 2. C reference ----------------------------------------------------------------------------
    rows = []
    for r in cref["rows"]:
        best_c = max((x for x in r["results"] if x["engine"].startswith("C ")), key=lambda x: x["gBinMacs"])
        for x in r["results"]:
            rows.append([f"{r['kernel']}x{r['kernel']}", r["channels"], x["engine"], f"{x['medianMs'] * 1000:.1f}", f"{x['bestMs'] * 1000:.1f}",
                         f"{x['gBinMacs']:.0f}", f"{x['gBinMacs'] / best_c['gBinMacs'] * 100:.0f}%"])
    alone = [[x["variant"], x["channels"], f"{x['medianMs'] * 1000:.1f}", f"{x['bestMs'] * 1000:.1f}", f"{x['gBinMacs']:.0f}"] for x in c_alone]
    cref_md = ("# Binary MAC/s against a C reference kernel\n\n" + head +
               "\nThe C reference (`c-reference/xnor_ref.c`, `gcc -O3 -march=native`, called through P/Invoke in the same process, "
               "interleaved with the C# kernels) does the same work: im2col of 64-bit words (padded taps zero), XOR + popcount, "
               "`acc = base - 2*pop` with the exact border correction folded into a base, int32 output; on the same input bits and "
               "weights, and its output is compared element by element with the C# output before timing. Variants: `builtin` "
               "(plain loop, `__builtin_popcountll`, auto-vectorised by gcc into `vpopcntq`), `vpopcntq` (AVX-512 VPOPCNTDQ "
               "intrinsics, 1 pixel x 1 filter), `vpopcntq-2x4` (2 pixels x 4 filters register-blocked). 14x14, stride 1, pad k/2, "
               "one thread. % = of the best C variant.\n\n" +
               table(["kernel", "C", "engine", "median us", "best us", "G bin MAC/s", "% of best C"], rows, ["r", "r", "l", "r", "r", "r", "r"]) +
               "\nThe stand-alone C driver (`xnor_ref`, times itself, c=256 3x3, random data, checks the variants agree):\n\n" +
               table(["variant", "C", "median us", "best us", "G bin MAC/s"], alone, ["l", "r", "r", "r", "r"]))
    with open(os.path.join(out, "c-reference.md"), "w") as f:
        f.write(cref_md)

    # --- 3. PyTorch at the reference shape, alternating rounds --------------------------------------
    rows = []
    bin_ms, flt_ms, pt_ms = [], [], []
    for i, (cs, p) in enumerate(zip(ref_cs, ref_pt)):
        r = cs["rows"][0]
        nchw = next(x for x in p["rows"] if x["layout"] == "nchw")
        cl = next(x for x in p["rows"] if x["layout"] == "channels_last")
        dnn = next(x for x in p["rows"] if x["layout"] == "onednn")
        best = min(nchw["medianMs"], cl["medianMs"], dnn["medianMs"])
        bin_ms.append(r["binaryMs"])
        flt_ms.append(r["floatMs"])
        pt_ms.append(best)
        rows.append([i + 1, f"{r['binaryMs'] * 1000:.1f}", f"{r['floatMs'] * 1000:.1f}", f"{nchw['medianMs'] * 1000:.1f}", f"{cl['medianMs'] * 1000:.1f}",
                     f"{dnn['medianMs'] * 1000:.1f}", f"{r['floatGMacs']:.1f}", f"{nchw['gMacs']:.1f} / {cl['gMacs']:.1f} / {dnn['gMacs']:.1f}",
                     f"{best / r['binaryMs']:.1f}x", f"{r['speedup']:.1f}x",
                     f"{r['floatGMacs'] / (r['macs'] / best / 1e6) * 100:.0f}%"])
    macs = ref_cs[0]["rows"][0]["macs"] if ref_cs else 0
    mb, mf, mp = (statistics.median(v) if v else float("nan") for v in (bin_ms, flt_ms, pt_ms))
    rows.append(["median", f"{mb * 1000:.1f}", f"{mf * 1000:.1f}", "", "", f"fastest {mp * 1000:.1f}", f"{macs / mf / 1e6:.1f}", f"{macs / mp / 1e6:.1f}",
                 f"**{mp / mb:.1f}x**", f"**{mf / mb:.1f}x**", f"**{(macs / mf) / (macs / mp) * 100:.0f}%**"])
    pt_md = ("# The reference convolution against PyTorch\n\n" + head +
             "\n256 -> 256 channels, 3x3, 14x14, stride 1, pad 1, one thread: our binary kernel, our float baseline and PyTorch "
             "float32 (conv2d NCHW, conv2d channels_last, oneDNN direct; the fastest counts), in alternating processes, 3 rounds.\n\n" +
             table(["round", "binary us", "our float us", "PyTorch NCHW us", "channels_last us", "oneDNN us", "our float G MAC/s",
                    "PyTorch G MAC/s (NCHW / CL / oneDNN)", "binary vs PyTorch", "binary vs our float", "our float / PyTorch"], rows))
    with open(os.path.join(out, "pytorch.md"), "w") as f:
        f.write(pt_md)

    # --- 4. End to end ------------------------------------------------------------------------------
    rows, layer_md = [], ""
    for name, j in e2e.items():
        b, fl = j["binary"], j["float"]
        rows.append([f"`{j['model']}`", j["threads"], j["kernels"], f"{b['medianMs']:.4f}", f"{b['p99Ms']:.4f}", f"{fl['medianMs']:.4f}", f"{fl['p99Ms']:.4f}",
                     f"**{j['speedup']:.2f}x**", f"{b['allocatedBytesPerInference']:g} / {b['processAllocatedBytesPerInference']:g}",
                     f"{fl['allocatedBytesPerInference']:g} / {fl['processAllocatedBytesPerInference']:g}",
                     "yes" if j["agreement"]["argmaxEqual"] else "NO", f"{j['agreement']['maxAbsDifference']:.2g}",
                     f"{j['onnx']['medianMs']:.4f}" if j.get("onnx") else "-", f"**{j['onnxRatio']:.2f}x**" if j.get("onnxRatio") else "-"])
        lr = []
        for lb, lf in zip(b["layers"], fl["layers"]):
            o = lb["output"]
            lr.append([lb["index"], lb["op"], f"{o['type']}[{o['height']}x{o['width']}x{o['channels']}]", f"{lb['meanMs'] * 1000:.1f}", f"{lb['percent']:.1f}",
                       f"{lf['meanMs'] * 1000:.1f}", f"{lf['percent']:.1f}", f"{lf['meanMs'] / lb['meanMs']:.1f}x" if lb["meanMs"] > 0 else "-"])
        layer_md += (f"\n## `{j['model']}`, {j['threads']} thread{'s' if j['threads'] > 1 else ''}: per layer (mean us)\n\n" +
                     table(["#", "operator", "output", "binary us", "%", "float us", "%", "float/binary"], lr, ["r", "l", "l", "r", "r", "r", "r", "r"]))
    e2e_md = ("# End to end: `xnoredge bench <model> --baseline float [--onnx <model>.onnx]`\n\n" + head +
              "\nThe binary model (HostInterpreter, best kernel path) and its float32 twin (FloatTwin: the same layers, binary ones as "
              "float GEMMs on +1/-1 values) in the same process, alternating in blocks of 10 inferences; pseudo-random input. "
              "Allocated = bytes per inference on the calling thread / in the whole process (worker threads included), over the "
              "timed inferences.\n\n" +
              table(["model", "threads", "kernels", "binary median ms", "p99", "float median ms", "p99", "speed-up", "binary B/inf",
                     "float B/inf", "argmax equal", "max abs diff", "ONNX Runtime median ms", "ONNX / binary"], rows,
                    ["l", "r", "l", "r", "r", "r", "r", "r", "r", "r", "l", "r", "r", "r"]) + layer_md)
    with open(os.path.join(out, "end-to-end.md"), "w") as f:
        f.write(e2e_md)

    # --- ONNX Runtime on the sweep shapes -------------------------------------------------------------
    rows = []
    for r in onnx_sweep["rows"]:
        rows.append([r["channels"], f"{r['kernel']}x{r['kernel']}", f"{r['binaryMs'] * 1000:.1f}", f"{r['onnxMs'] * 1000:.1f}",
                     f"{r['onnxGMacs']:.1f}", f"**{r['ratio']:.1f}x**"])
    onnx_md = ("# ONNX Runtime as the peer\n\n" + head +
               f"\nONNX Runtime {onnx_sweep['onnxRuntime']} (Microsoft.ML.OnnxRuntime, CPU execution provider, 1 intra-op thread, all graph "
               "optimisations) runs a single float32 Conv (C -> C, k x k, 14x14, pad k/2, +1/-1 weights; make_conv_onnx.py), "
               "alternating in one process with our binary conv of the same shape (best kernel path, int32 output).\n\n" +
               table(["C", "kernel", "binary us", "ONNX Runtime us", "ONNX G MAC/s", "ONNX / binary"], rows, ["r", "l", "r", "r", "r", "r"]))
    with open(os.path.join(out, "onnx.md"), "w") as f:
        f.write(onnx_md)

    prb = {}
    for p_ in probes:
        prb.setdefault(p_["shape"], {})[p_["variant"]] = p_
    layer_rows = []
    for r in layers["rows"]:
        h, w, ci, co = (int(v) for v in r["shape"].split("x"))
        pr = prb.get(f"{h}x{w}x{ci}->{co} k3", {})
        best_c = max(pr.values(), key=lambda x: x["gbmacs"]) if pr else None
        cs = max(r["acrossGMacs"], r["alongKGMacs"])
        layer_rows.append([f"{ci} -> {co}, 3x3, {h}x{w}", f"{r['alongKUs']:.1f} ({r['alongKGMacs']:.0f})", f"{r['acrossUs']:.1f} ({r['acrossGMacs']:.0f})",
                     " / ".join(f"{pr[v]['median_us']:.1f}" for v in ("plain", "vpopcnt", "lut", "hs") if v in pr),
                     f"{best_c['median_us']:.1f} ({best_c['gbmacs']:.0f}, {best_c['variant']})" if best_c else "-",
                     f"**{best_c['gbmacs'] / cs:.2f}x**" if best_c else "-"])
    layers_md = ("# The shipped model's binary layers against C probes\n\n" + head +
                 "\nOne 3x3 pad-1 XNOR conv layer with a thresholded bit output (border correction, thresholds and packing included), "
                 "C# (`layers` mode, best kernel path) under both schemes side by side, and the C probes (probes/xnor_probe.c, gcc -O3 "
                 "-march=native, the same work: im2col, XNOR-popcount across output channels, threshold + packing; plain = gcc's "
                 "auto-vectorised `__builtin_popcountll`, vpopcnt = AVX-512 VPOPCNTDQ intrinsics, lut = AVX-512BW nibble lookup with a "
                 "running carry-save adder, hs = the C# kernel's method: Harley-Seal along K and a VBMI `vpermb` popcount, what .NET "
                 "can emit). us per layer (G binary MAC/s).\n\n" +
                 table(["layer", "C# along K", "C# across channels", "C plain / vpopcnt / lut / hs us", "best C", "best C / best C#"], layer_rows,
                       ["l", "r", "r", "r", "r", "r"]))
    first_path = os.path.join(raw, "first.json")
    if os.path.exists(first_path):
        with open(first_path) as f:
            first = json.load(f)
        layers_md += ("\nThe first layer (BWN, float image, 3x3 pad 1, thresholded bits; `first` mode): BwnDirectKernel against the "
                      "float twin of the same one-layer model, side by side.\n\n" +
                      table(["layer", "path", "BWN direct us", "best us", "float twin us"],
                            [[r["shape"], r["path"], f"{r['bwnUs']:.1f}", f"{r['bwnBestUs']:.1f}", f"{r['twinUs']:.1f}"] for r in first["rows"]],
                            ["l", "l", "r", "r", "r"]))
    with open(os.path.join(out, "layers.md"), "w") as f:
        f.write(layers_md)

    # --- Summary: the targets --------------------------------------------------------------------------
    s256 = next(r for r in sweep["rows"] if r["channels"] == 256 and r["kernel"] == 3)
    c256 = next(r for r in cref["rows"] if r["channels"] == 256 and r["kernel"] == 3)
    cs_best = c256["results"][0]
    c_best = max((x for x in c256["results"] if x["engine"].startswith("C ")), key=lambda x: x["gBinMacs"])
    targets = [
        ["binary conv >= 8x PyTorch float conv (256, 3x3, 1 thread)", f"{mp / mb:.1f}x", "met" if mp / mb >= 8 else "NOT met"],
        ["binary conv >= 10x our float baseline (same shape)", f"{mf / mb:.1f}x (sweep: {s256['speedup']:.1f}x)",
         "met" if min(mf / mb, s256["speedup"]) >= 10 else ("borderline" if max(mf / mb, s256["speedup"]) >= 10 else "NOT met")],
        ["float baseline >= 50% of PyTorch's float MAC/s", f"{(macs / mf) / (macs / mp) * 100:.0f}% ({macs / mf / 1e6:.0f} vs {macs / mp / 1e6:.0f} G MAC/s)",
         "met" if mp / mf >= 0.5 else "NOT met"],
        [f"binary MAC/s >= 50% of the C reference ({c_best['engine']})", f"{cs_best['gBinMacs'] / c_best['gBinMacs'] * 100:.0f}% "
         f"({cs_best['gBinMacs']:.0f} vs {c_best['gBinMacs']:.0f} G bin MAC/s)", "met" if cs_best["gBinMacs"] >= 0.5 * c_best["gBinMacs"] else "NOT met"],
    ]
    for name, j in e2e.items():
        targets.append([f">= 8x end to end over the float twin, `{j['model']}`, {j['threads']} thread(s)", f"{j['speedup']:.2f}x", "met" if j["speedup"] >= 8 else "NOT met"])
        if j.get("onnxRatio") is not None:
            targets.append([f">= 8x end to end over ONNX Runtime, `{j['model']}`, {j['threads']} thread(s)", f"{j['onnxRatio']:.2f}x",
                            "met" if j["onnxRatio"] >= 8 else "NOT met"])
    for model in sorted({j["model"] for j in e2e.values()}):
        one = next((j for j in e2e.values() if j["model"] == model and j["threads"] == 1), None)
        two = next((j for j in e2e.values() if j["model"] == model and j["threads"] == 2), None)
        if one and two:
            g = one["binary"]["medianMs"] / two["binary"]["medianMs"]
            targets.append([f"2 threads >= 1.6x over 1 thread, `{model}`", f"{g:.2f}x", "met" if g >= 1.6 else "NOT met"])
    l64 = next((r for r in layers["rows"] if r["shape"] == "28x28x64x96"), None)
    if l64:
        g = max(l64["acrossGMacs"], l64["alongKGMacs"])
        targets.append(["64 -> 96 3x3 on 28x28 >= 500 G binary MAC/s (thresholds included)", f"{g:.0f} G", "met" if g >= 500 else "NOT met"])
    for r in layers["rows"]:
        if r["shape"] == "14x14x256x256":
            pr = prb.get("14x14x256->256 k3", {})
            if pr:
                best_c = max(pr.values(), key=lambda x: x["gbmacs"])
                g = best_c["gbmacs"] / max(r["acrossGMacs"], r["alongKGMacs"])
                targets.append([f"256 -> 256 3x3 on 14x14 within 1.3x of the best C (probe, {best_c['variant']})", f"{g:.2f}x",
                                "met" if g <= 1.3 else "NOT met"])
    worst = max((float(r[-1].strip("*x")) for r in layer_rows if r[-1] != "-"), default=None)
    if worst is not None:
        targets.append(["every binary conv layer within 2x of the best C probe", f"worst {worst:.2f}x", "met" if worst <= 2 else "NOT met"])
    alloc = all(j[e]["allocatedBytes"] == 0 and j[e]["processAllocatedBytes"] == 0 for j in e2e.values() for e in ("binary", "float"))
    targets.append(["0 bytes allocated per inference (1 and 2 threads, binary and float)", "0" if alloc else "see end-to-end.md", "met" if alloc else "NOT met"])
    summary = ("# Benchmark results\n\n" + head +
               "\nProduced by `tests/XnorEdge.Benchmarks/run-benchmarks.sh` (one session); raw JSON in `raw/`.\n\n" +
               table(["target", "measured", ""], targets, ["l", "r", "l"]) +
               "\n- [sweep.md](sweep.md): binary vs float convolution for C = 16..512, 1x1/3x3/5x5, next to XNOR-Net's formula; "
               "[speedup.png](speedup.png)\n- [c-reference.md](c-reference.md): binary MAC/s against a C kernel with `vpopcntq`\n"
               "- [pytorch.md](pytorch.md): the reference conv against PyTorch\n- [end-to-end.md](end-to-end.md): `xnoredge bench --baseline float --onnx`\n"
               "- [onnx.md](onnx.md): the sweep convs against ONNX Runtime\n- [layers.md](layers.md): the shipped model's layers against C probes\n")
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(summary)
    print(summary)


if __name__ == "__main__":
    main()
