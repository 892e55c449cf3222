#!/usr/bin/env bash
# Smoke test of the whole training pipeline, for CI: one short epoch of train_fashion.py on a subset of
# Fashion-MNIST with binary activations and real weights (--real-weights, stage 1 of two-stage training),
# then two binary epochs from it (--init-from, stage 2, with --average-last 2 and --recalibrate-bn), both
# holding out the same validation split (--val 256) and choosing the shipped weights on it (checked in
# metrics.json: the split, per-epoch validation scores, the candidates and the choice), ONNX
# export and golden file, `xnoredge convert`, then `xnoredge verify` of the .xnor against ONNX Runtime and the
# golden (PyTorch) logits, which must agree in argmax on every golden image. Everything goes to a
# temporary folder, removed at the end. Exits non-zero on any failure.
#
# Needs Debian's python3-torch, python3-onnx and dataset-fashion-mnist (.ci/run installs them) and the
# .NET SDK. Usage: firmware-tools/train/smoke.sh   (from anywhere; about a minute on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

python=/usr/bin/python3
data=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
work=$(mktemp -d "${TMPDIR:-/tmp}/xnoredge-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS

step() { echo "smoke: $*"; }
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }

[ -x "$python" ] || fail "$python is missing"
"$python" -c 'import torch, onnx' 2>/dev/null || fail "$python cannot import torch and onnx (apt-get install python3-torch python3-onnx)"
[ -f "$data/train-images-idx3-ubyte.gz" ] || fail "no Fashion-MNIST training set in $data (apt-get install dataset-fashion-mnist)"

step "training 1 epoch (--real-weights) on the first 2048 training images, 256 held out for validation (test on 500) into $work/train"
"$python" firmware-tools/train/train_fashion.py --out "$work/train" --data "$data" --epochs 1 \
  --subset 2048 --val 256 --test-subset 500 --threads 2 --real-weights || fail "train_fashion.py --real-weights exited with $?"
for f in checkpoint.pt metrics.json; do
  [ -s "$work/train/$f" ] || fail "train_fashion.py --real-weights wrote no $f"
done
[ ! -e "$work/train/model.onnx" ] || fail "train_fashion.py --real-weights exported ONNX from real weights"

step "binary stage, 2 epochs from $work/train/checkpoint.pt (--init-from, another --seed, same --val 256, --max-shift 1, --average-last 2, --recalibrate-bn, golden file of 50) into $work/tune"
"$python" firmware-tools/train/train_fashion.py --out "$work/tune" --data "$data" --epochs 2 --seed 2 \
  --subset 2048 --val 256 --test-subset 500 --golden 50 --threads 2 --lr 5e-4 --max-shift 1 --camera-jitter 0.5 --average-last 2 --recalibrate-bn \
  --init-from "$work/train/checkpoint.pt" || fail "train_fashion.py --init-from exited with $?"
"$python" - "$work/train/metrics.json" "$work/tune/metrics.json" <<'PY' || fail "$work/tune/metrics.json: the stages, the validation split or the selection on it are not as expected"
import json, sys
m1, m = (json.load(open(p)) for p in sys.argv[1:3])
assert m["init_epochs"] == 1 and m["total_epochs"] == 3, m
assert m["average_last"] == 2 and m["recalibrated_bn"], m
assert m["total_train_seconds"] > m["train_seconds"] > 0, m
# the validation split: 256 of the 2048 images, stratified (each class within one image of its share of the
# subset), the same images in both stages whatever --seed, and none of them trained on
v, v1 = m["validation"], m1["validation"]
assert v["count"] == 256 and v["of_images"] == 2048 and sum(v["per_class"]) == 256, v
assert v["indices_sha256"] == v1["indices_sha256"] and v["first_indices"] == v1["first_indices"], (v, v1)
assert max(v["per_class"]) - min(v["per_class"]) <= 12, v
# every epoch is scored on validation, never on the test set; the test set once, at the end, on 500 images
for h in m1["history"] + m["history"]:
    assert 0 <= h["val_acc"] <= 1 and "test_acc" not in h, h
assert m["test_images"] == 500 and 0 <= m["test_accuracy"] <= 1, m
# the shipped network is the candidate (last epoch, 2-epoch average, best epoch) with the best validation score
c = m["candidates"]
assert {"last", "average"} <= set(c) and m["shipped"] in c and m["ship"] == "auto", m
assert m["val_accuracy"] == max(x["val_accuracy"] for x in c.values()) == c[m["shipped"]]["val_accuracy"], m
assert m["best_val_accuracy"] == max(h["val_acc"] for h in m["history"]), m
assert m["camera_jitter"] == {"share": 0.5, "rotate": 10.0, "scale_jitter": 0.05} and m1["camera_jitter"] is None, m
PY

step "camera jitter: rotated items refitted to their rotated bounding box, as object framing crops them"
"$python" - "$data" <<'PY' || fail "train_fashion.camera_jitter does not rotate and refit the items as expected"
import sys, torch
sys.path.insert(0, "firmware-tools/train")
import train_fashion as t
x, _ = t.load_split(sys.argv[1], "train")
x = x[:256]
g = torch.Generator().manual_seed(5)
assert torch.equal(t.camera_jitter(x, g, 0.0, 10, 0.05), x)
y = t.camera_jitter(x, g, 1.0, 10, 0.0)
changed = (y.int() - x.int()).abs().flatten(1).amax(1) > 40
assert changed.float().mean() > 0.9, changed.float().mean()
def long_side(im):
    m = im > 16
    rows, cols = m.any(2), m.any(1)
    h = 28 - rows.int().argmax(1) - rows.flip(1).int().argmax(1)
    w = 28 - cols.int().argmax(1) - cols.flip(1).int().argmax(1)
    return torch.maximum(h, w)
d = (long_side(y) - long_side(x)).abs()
assert d.float().mean() < 1.5 and d.max() <= 4, (d.float().mean(), d.max())  # refitted: still spans ~the image
PY

step "building xnoredge (Release) into $work/cli"
dotnet build firmware-tools/XnorEdge.Cli -c Release -o "$work/cli" -v quiet -nologo >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; fail "dotnet build of firmware-tools/XnorEdge.Cli"; }
xnoredge() { dotnet "$work/cli/xnoredge.dll" "$@"; }

step "xnoredge convert $work/tune/model.onnx -o $work/model.xnor"
xnoredge convert "$work/tune/model.onnx" -o "$work/model.xnor" --name fashion-smoke || fail "xnoredge convert exited with $?"

step "xnoredge verify $work/model.xnor --onnx $work/tune/model.onnx --images $work/tune/golden.bin"
set +e
xnoredge verify "$work/model.xnor" --onnx "$work/tune/model.onnx" --images "$work/tune/golden.bin"
status=$?
set -e
case $status in
  0) ;;
  1) fail "the runtime's argmax differs from the float reference's or the golden logits' (see above)" ;;
  *) fail "xnoredge verify exited with $status" ;;
esac

step "OK in $((SECONDS - start)) s: trained with real weights, then binary from those (weights averaged), exported, converted, and verified on every golden image"
