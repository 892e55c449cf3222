#!/bin/sh
# Issue 19's results table: every compression of a float Fashion-MNIST network (sign and BWNH binary weights,
# exp/linear 2-6 bits for first+last and all layers, int8), settings chosen on the trainer's validation split,
# each row scored once on the test set, file size, bench time (one thread, side by side) and the ESP32 estimate.
# Usage: firmware-tools/compress/compress-table.sh --float <model.onnx> [--out dir] [--md file.md] [more options: compress_table.py --help]
# Builds the CLI first (Release). Results: firmware-tools/XnorEdge.Exporter/compression.md.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dotnet build "$root/firmware-tools/XnorEdge.Cli/XnorEdge.Cli.csproj" -c Release -v q -nologo > /dev/null
exec /usr/bin/python3 "$root/firmware-tools/compress/compress_table.py" "$@"
