#!/usr/bin/env bash
# Runs every speed measurement of the repository in one session and writes
# tests/XnorEdge.Benchmarks/results/: markdown tables, speedup.png and the raw JSON.
#
#   tests/XnorEdge.Benchmarks/run-benchmarks.sh            (from anywhere; takes a few minutes)
#
# Environment: BENCH_CPU (core to pin to with taskset, default 1), BENCH_ROUNDS (alternating rounds per
# comparison, default 15), BENCH_MODELS (space-separated .xnor files for the end-to-end table; default
# tests/fixtures/example.xnor and models/fashion-mnist/model.xnor if present).
#
# What runs (every comparison side by side in one process, or in alternating processes):
#   1. sweep: binary conv (best kernel path) vs our float baseline conv, C = 16..512, 1x1/3x3/5x5, 14x14
#   2. C reference: gcc -O3 -march=native XNOR conv (c-reference/xnor_ref.c) vs the C# kernels, same data
#   3. PyTorch float32 conv2d (/usr/bin/python3, Debian's python3-torch, 1 thread) on the sweep shapes,
#      and 3 alternating rounds PyTorch / C# on the reference shape 256 -> 256, 3x3, 14x14
#   4. ONNX Runtime 1.32.0 (CPU, 1 intra-op thread) on single float conv ONNX files of the sweep shapes
#      (make_conv_onnx.py) against the binary conv, side by side in one process
#   5. the shipped model's binary layers: C probes (probes/xnor_probe.c, "what this CPU can do") and the
#      C# conv layer under both schemes (along K, across output channels), thresholds and packing included;
#      the BWN first layer (BwnDirectKernel) against the float twin's
#   6. end to end: xnoredge bench <model> --baseline float [--onnx <model>.onnx], 1 and 2 threads
#   7. report.py: results/*.md and results/speedup.png
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT=tests/XnorEdge.Benchmarks/results
RAW=$OUT/raw
CPU=${BENCH_CPU:-1}
ROUNDS=${BENCH_ROUNDS:-15}
PIN=(taskset -c "$CPU")
command -v taskset >/dev/null || PIN=()
mkdir -p "$RAW" build/c-reference
rm -f "$RAW"/*.json

build() { # dotnet build, retried once (a concurrent build can hold a file for a moment)
    dotnet build "$1" -c Release -nologo -v q >/dev/null || { sleep 5; dotnet build "$1" -c Release -nologo -v q >/dev/null; }
}
echo "== building" >&2
build tests/XnorEdge.Benchmarks
build firmware-tools/XnorEdge.Cli
# The C reference: a shared library for the in-process comparison, and a stand-alone driver that times itself.
gcc -O3 -march=native -Wall -fPIC -shared -o build/c-reference/libxnorref.so tests/XnorEdge.Benchmarks/c-reference/xnor_ref.c
gcc -O3 -march=native -Wall -DXREF_MAIN -o build/c-reference/xnor_ref tests/XnorEdge.Benchmarks/c-reference/xnor_ref.c
gcc -O3 -march=native -Wall -o build/c-reference/xnor_probe tests/XnorEdge.Benchmarks/probes/xnor_probe.c
BENCH=(dotnet tests/XnorEdge.Benchmarks/bin/Release/net10.0/XnorEdge.Benchmarks.dll)
XNOREDGE=(dotnet firmware-tools/XnorEdge.Cli/bin/Release/net8.0/xnoredge.dll)
PY=/usr/bin/python3
# Check the Python side first, not after minutes of measuring: PyTorch for step 3, onnx for step 4
# (matplotlib only draws speedup.png in step 7; without it the tables are still written).
$PY -c 'import matplotlib' 2>/dev/null || echo "run-benchmarks: no matplotlib in $PY: speedup.png will not be redrawn" >&2
$PY -c 'import torch, onnx' 2>/dev/null || {
    echo "run-benchmarks: $PY cannot import torch and onnx (apt-get install python3-torch python3-onnx)" >&2
    exit 2
}

cat > "$RAW/environment.json" <<EOF
{"date": "$(date -u +%Y-%m-%dT%H:%MZ)", "cpu": "$CPU", "rounds": $ROUNDS, "nproc": $(nproc),
 "loadavg": "$(cut -d' ' -f1-3 /proc/loadavg)",
 "gcc": "$(gcc --version | head -1)",
 "gccFlags": "-O3 -march=native",
 "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"}
EOF

echo "== 1. sweep: binary vs float baseline convolution" >&2
"${PIN[@]}" "${BENCH[@]}" sweep --rounds "$ROUNDS" > "$RAW/sweep.json"

echo "== 2. C reference" >&2
"${PIN[@]}" build/c-reference/xnor_ref 256 3 14 401 > "$RAW/c-reference-standalone.json"
"${PIN[@]}" "${BENCH[@]}" cref --lib build/c-reference/libxnorref.so --channels 128,256,512 --kernels 3 --rounds "$ROUNDS" > "$RAW/cref.json"

echo "== 3. PyTorch" >&2
"${PIN[@]}" $PY tests/XnorEdge.Benchmarks/pytorch_conv.py --rounds "$ROUNDS" > "$RAW/pytorch-sweep.json"
for i in 1 2 3; do
    "${PIN[@]}" $PY tests/XnorEdge.Benchmarks/pytorch_conv.py --channels 256 --kernels 3 --rounds "$ROUNDS" > "$RAW/ref-pytorch-$i.json"
    "${PIN[@]}" "${BENCH[@]}" sweep --channels 256 --kernels 3 --rounds "$ROUNDS" > "$RAW/ref-csharp-$i.json"
done

echo "== 4. ONNX Runtime" >&2
$PY tests/XnorEdge.Benchmarks/make_conv_onnx.py build/onnx
"${PIN[@]}" "${BENCH[@]}" onnx --dir build/onnx --rounds "$ROUNDS" > "$RAW/onnx-sweep.json"

echo "== 5. layer probes" >&2
: > "$RAW/probes.jsonl"
for shape in "28 28 64 96" "14 14 96 128" "7 7 128 128" "14 14 128 128" "14 14 256 256"; do
    "${PIN[@]}" build/c-reference/xnor_probe $shape 3 21 >> "$RAW/probes.jsonl"
done
"${PIN[@]}" "${BENCH[@]}" layers --rounds "$ROUNDS" > "$RAW/layers.json"
"${PIN[@]}" "${BENCH[@]}" first --rounds "$ROUNDS" > "$RAW/first.json"

echo "== 6. end to end" >&2
MODELS=${BENCH_MODELS:-"tests/fixtures/example.xnor models/fashion-mnist/model.xnor"}
for model in $MODELS; do
    [ -f "$model" ] || { echo "   (skipping $model: not present)" >&2; continue; }
    name=$(basename "$(dirname "$model")")
    [ "$name" = fixtures ] && name=$(basename "$model" .xnor)
    ONNX=()
    [ -f "$(dirname "$model")/model.onnx" ] && [ "$(basename "$model")" = model.xnor ] && ONNX=(--onnx "$(dirname "$model")/model.onnx")
    "${PIN[@]}" "${XNOREDGE[@]}" bench "$model" --baseline float "${ONNX[@]}" --warmup 50 --iterations 2000 --json > "$RAW/e2e-$name-1t.json"
    "${XNOREDGE[@]}" bench "$model" --baseline float "${ONNX[@]}" --threads 2 --warmup 50 --iterations 2000 --json > "$RAW/e2e-$name-2t.json"
done

echo "== 7. report" >&2
$PY tests/XnorEdge.Benchmarks/report.py "$OUT"
echo "results in $ROOT/$OUT" >&2
