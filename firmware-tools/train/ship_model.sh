#!/usr/bin/env bash
# Turns a finished training run into the shipped model folder: copies the ONNX export and golden
# file, converts, verifies against PyTorch's logits, evaluates on the 10,000 test images, measures
# size, arena, speed, the MCU budget and the accuracy on simulated camera scenes, and writes MODEL_CARD.md from those measurements. For
# models/fashion-mnist it also re-embeds the model in the nanoFramework sample (Sample/Resources.resx).
#
#   firmware-tools/train/ship_model.sh <binary run dir> <float run dir> [<model dir>]
#
# e.g. firmware-tools/train/ship_model.sh build/train/xnor build/train/float models/fashion-mnist
# The model's name (xnoredge convert --name) is the model dir's last component: fashion-mnist, fashion-mnist-mcu.
# Every model is evaluated on the test set committed in models/fashion-mnist/data/.
# The run dirs are train_fashion.py --out folders (model.onnx, golden.bin, metrics.json); a card-notes.md
# in the binary run dir, if present, is copied into the card's Training section (one bullet per line).
set -euo pipefail
usage() { echo "usage: $0 <binary run dir> <float run dir> [<model dir>]" >&2; exit 2; }
[[ $# -ge 2 && $# -le 3 ]] || usage
run=$1 floatrun=$2 dest=${3:-models/fashion-mnist}
name=$(basename "$dest")
for f in "$run/model.onnx" "$run/golden.bin" "$run/metrics.json" "$floatrun/metrics.json"; do
  [[ -f $f ]] || { echo "ship_model: $f is missing" >&2; exit 2; }
done
cd "$(dirname "$0")/../.."
root=$(pwd)
py=/usr/bin/python3
[[ -x $py ]] || py=python3

echo "+ building the CLI (Release)"
dotnet build -c Release firmware-tools/XnorEdge.Cli -v quiet -nologo >/dev/null
x() { dotnet "$root/firmware-tools/XnorEdge.Cli/bin/Release/net8.0/xnoredge.dll" "$@"; }

meas=$(mktemp -d)
trap 'rm -rf "$meas"' EXIT
mkdir -p "$dest"
cp "$run/model.onnx" "$dest/model.onnx"
cp "$run/golden.bin" "$dest/golden.bin"
images=models/fashion-mnist/data/t10k-images-idx3-ubyte.gz
labels=models/fashion-mnist/data/t10k-labels-idx1-ubyte.gz

echo "+ xnoredge convert"
x convert "$dest/model.onnx" -o "$dest/model.xnor" --name "$name" --json > "$meas/convert.json"
echo "+ xnoredge verify (500 golden images)"
x verify "$dest/model.xnor" --onnx "$dest/model.onnx" --images "$dest/golden.bin" --json > "$meas/verify.json"
echo "+ xnoredge eval (10,000 test images)"
x eval "$dest/model.xnor" --images "$images" --labels "$labels" --json > "$meas/eval.json"
echo "+ xnoredge inspect"
x inspect "$dest/model.xnor" --json > "$meas/inspect.json"
echo "+ xnoredge bench --baseline float (1 and 2 threads)"
x bench "$dest/model.xnor" --baseline float --iterations 500 --json > "$meas/bench1.json"
x bench "$dest/model.xnor" --baseline float --iterations 500 --threads 2 --json > "$meas/bench2.json"
echo "+ xnoredge simulate"
for t in esp32 esp32-psram esp32-s3 stm32f769; do
  x simulate "$dest/model.xnor" --target "$t" --json > "$meas/sim-$t.json"
  x simulate "$dest/model.xnor" --target "$t" --streaming --json > "$meas/sim-$t-streaming.json"
  x simulate "$dest/model.xnor" --target "$t" --native --json > "$meas/sim-$t-native.json"
done
echo "+ camera scenes (firmware-tools/framing/measure-framing.cs, 2,000 test images a scene)"
framing() { dotnet run -c Release firmware-tools/framing/measure-framing.cs -- --model "$dest/model.xnor" --frames 2000 "$@"; }
framing --table > "$meas/framing.txt"
framing --framing none "clean,size=28x28,format=gray8" > "$meas/framing-direct.txt"

if [[ $(realpath "$dest") == "$root/models/fashion-mnist" ]]; then
  echo "+ xnoredge emit: the nanoFramework sample embeds the shipped model"
  x emit "$dest/model.xnor" --format resx -o src/XnorEdge.Nano/Sample/Resources.resx
fi

echo "+ writing $dest/MODEL_CARD.md"
"$py" firmware-tools/train/model_card.py --run "$run" --float-run "$floatrun" --measurements "$meas" \
  --out "$dest/MODEL_CARD.md" --name "$name"
echo "done: $dest"
