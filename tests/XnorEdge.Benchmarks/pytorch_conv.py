#!/usr/bin/python3
"""PyTorch float32 convolution on the benchmark shapes, one thread (run by run-benchmarks.sh).

torch.nn.functional.conv2d on 1 x C x S x S, C -> C channels, k x k, stride 1, padding k // 2, in the
default NCHW layout and in channels_last, and oneDNN called directly (torch.mkldnn_convolution, NCHW):
Debian's torch is built with a generic (reference) BLAS, so conv2d's own choice falls back to a slow
im2col + reference GEMM (about 3 G MAC/s) for 1x1 convs and small 3x3 ones, where oneDNN is 10-30x
faster; the tables take the fastest of the three. They run in alternating rounds of about 20 ms, and
each figure is the median of all single-call times (the best too). JSON on stdout.

    /usr/bin/python3 pytorch_conv.py [--channels 16,32,...] [--kernels 1,3,5] [--size 14] [--rounds 11]
"""
import argparse
import json
import platform
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--channels", default="16,32,64,128,256,512")
    ap.add_argument("--kernels", default="1,3,5")
    ap.add_argument("--size", type=int, default=14)
    ap.add_argument("--rounds", type=int, default=11)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rows = []
    for k in [int(v) for v in a.kernels.split(",")]:
        for c in [int(v) for v in a.channels.split(",")]:
            x = torch.randn(1, c, a.size, a.size)
            w = torch.randn(c, c, k, k)
            xl, wl = x.contiguous(memory_format=torch.channels_last), w.contiguous(memory_format=torch.channels_last)
            p = k // 2
            engines = {
                "nchw": lambda: torch.nn.functional.conv2d(x, w, padding=p),
                "channels_last": lambda: torch.nn.functional.conv2d(xl, wl, padding=p),
                "onednn": lambda: torch.mkldnn_convolution(x, w, None, [p, p], [1, 1], [1, 1], 1),
            }
            reps = {}
            with torch.no_grad():
                expected = engines["nchw"]()
                for name, run in engines.items():
                    assert torch.allclose(run(), expected, rtol=1e-4, atol=1e-3), name
                    for _ in range(3):
                        run()
                    t0 = time.perf_counter()
                    calls = 0
                    while time.perf_counter() - t0 < 0.005 or calls < 2:
                        run()
                        calls += 1
                    each = (time.perf_counter() - t0) / calls
                    reps[name] = min(5000, max(3, int(0.020 / each) + 1))
                samples = {name: [] for name in engines}
                for _ in range(a.rounds):
                    for name, run in engines.items():
                        s = samples[name]
                        for _ in range(reps[name]):
                            t = time.perf_counter()
                            run()
                            s.append(time.perf_counter() - t)
            macs = a.size * a.size * c * k * k * c
            for name, s in samples.items():
                med = statistics.median(s)
                rows.append({
                    "channels": c, "kernel": k, "size": a.size, "layout": name, "macs": macs,
                    "medianMs": med * 1e3, "bestMs": min(s) * 1e3, "gMacs": macs / med / 1e9,
                })
    print(json.dumps({
        "mode": "pytorch",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "python": platform.python_version(),
        "rounds": a.rounds,
        "rows": rows,
    }, indent=2))


if __name__ == "__main__":
    main()
