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
#   4. end to end: xnoredge bench <model> --baseline float, 1 and 2 threads
#   5. report.py: results/*.md and results/speedup.png
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
BENCH=(dotnet tests/XnorEdge.Benchmarks/bin/Release/net10.0/XnorEdge.Benchmarks.dll)
XNOREDGE=(dotnet firmware-tools/XnorEdge.Cli/bin/Release/net8.0/xnoredge.dll)
PY=/usr/bin/python3
# Check the Python side first, not after minutes of measuring: PyTorch for step 3, matplotlib for step 5.
$PY -c 'import torch, matplotlib' 2>/dev/null || {
    echo "run-benchmarks: $PY cannot import torch and matplotlib (apt-get install python3-torch python3-matplotlib)" >&2
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

echo "== 4. end to end" >&2
MODELS=${BENCH_MODELS:-"tests/fixtures/example.xnor models/fashion-mnist/model.xnor"}
for model in $MODELS; do
    [ -f "$model" ] || { echo "   (skipping $model: not present)" >&2; continue; }
    name=$(basename "$(dirname "$model")")
    [ "$name" = fixtures ] && name=$(basename "$model" .xnor)
    "${PIN[@]}" "${XNOREDGE[@]}" bench "$model" --baseline float --warmup 50 --iterations 2000 --json > "$RAW/e2e-$name-1t.json"
    "${XNOREDGE[@]}" bench "$model" --baseline float --threads 2 --warmup 50 --iterations 2000 --json > "$RAW/e2e-$name-2t.json"
done

echo "== 5. report" >&2
$PY tests/XnorEdge.Benchmarks/report.py "$OUT"
echo "results in $ROOT/$OUT" >&2
