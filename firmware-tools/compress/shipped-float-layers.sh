#!/bin/sh
# Quantises the float layers of the shipped Fashion-MNIST model (its one real-valued layer, the last Dense;
# the first layer is a BwnConv2D, binary already) with every k-bit encoding, and prints file size and
# top-1 on the 10,000 test images for each, float first. Usage: firmware-tools/compress/shipped-float-layers.sh [outdir]
# Needs the built CLI (dotnet build firmware-tools/XnorEdge.Cli -c Release). Results: firmware-tools/XnorEdge.Exporter/compression.md.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$(mktemp -d)}
x="$root/firmware-tools/XnorEdge.Cli/bin/Release/net8.0/xnoredge"
data="$root/models/fashion-mnist/data"
onnx="$root/models/fashion-mnist/model.onnx"
printf '%-10s %10s %8s\n' weights bytes top-1
for w in float sign int8 linear:8 linear:6 linear:5 linear:4 linear:3 linear:2 exp:8 exp:6 exp:5 exp:4 exp:3 exp:2; do
    f="$out/fm-$(echo "$w" | tr : -).xnor"
    "$x" convert "$onnx" -o "$f" --name fashion-mnist --weights "$w" --layers first,last > /dev/null
    top1=$("$x" eval "$f" --images "$data/t10k-images-idx3-ubyte.gz" --labels "$data/t10k-labels-idx1-ubyte.gz" --json \
        | sed -n 's/.*"accuracy": *\([0-9.]*\).*/\1/p' | head -1)
    printf '%-10s %10s %8s\n' "$w" "$(wc -c < "$f")" "$top1"
done
# BWNH on the last layer, calibrated on 256 training images outside the validation split (split_idx.py; never the test set).
calib="$out/data/calib-images-idx3-ubyte.gz"
[ -f "$calib" ] || /usr/bin/python3 "$root/firmware-tools/compress/split_idx.py" --out "$out/data" > /dev/null
f="$out/fm-bwnh.xnor"
"$x" convert "$onnx" -o "$f" --name fashion-mnist --weights bwnh --layers last --calibration "$calib" --calibration-count 256 \
    | grep 'note.*bwnh' >&2
top1=$("$x" eval "$f" --images "$data/t10k-images-idx3-ubyte.gz" --labels "$data/t10k-labels-idx1-ubyte.gz" --json \
    | sed -n 's/.*"accuracy": *\([0-9.]*\).*/\1/p' | head -1)
printf '%-10s %10s %8s\n' bwnh "$(wc -c < "$f")" "$top1"
