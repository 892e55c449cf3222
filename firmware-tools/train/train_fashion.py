#!/usr/bin/python3
"""Train the Fashion-MNIST XNOR-Net (or its float baseline), export ONNX and a golden file.

Run with Debian's Python, which has PyTorch 1.13 and ONNX 1.12:
    /usr/bin/python3 firmware-tools/train/train_fashion.py --out build/train/xnor --epochs 30
    /usr/bin/python3 firmware-tools/train/train_fashion.py --float --out build/train/float --epochs 30
A run resumes from <out>/checkpoint.pt when it exists (one checkpoint per epoch).
With --init-from <run>/checkpoint.pt a new run (new out folder, fresh optimiser and schedule)
starts from another run's weights: a fine-tuning stage; its metrics count every earlier stage.
With --real-weights the activations are binary and the weights real: stage 1 of two-stage training
(ReActNet's order); stage 2 is a normal binary run with --init-from <stage 1>/checkpoint.pt. A
--real-weights run writes checkpoints and metrics but no ONNX or golden file (nothing to ship).
With --teacher <float run>/checkpoint.pt the binary network also learns from the float
baseline's soft outputs (knowledge distillation, temperature --kd-temp, weight --kd-weight).
With --average-last N (and --recalibrate-bn) the exported network is the average of the weights
at the end of the last N epochs (stochastic weight averaging on the latent weights; the running sum
travels in the checkpoint, so a resumed run averages the same epochs), not the last epoch's.
With --arch mcu the network is the microcontroller-sized one of models/fashion-mnist-mcu/ (fashion_model.py).

Model selection on a validation split: --val N (default 5,000, one in 12 with --subset) holds out N of the training images (a fixed,
class-stratified choice drawn with --val-seed, the same for every run and training seed) and trains on the
rest. Every epoch reports validation accuracy; best.pt is the best epoch on validation; at the end the
candidates (the last epoch, the --average-last average, the best validation epoch) are scored on
validation and --ship auto ships the best of them. The test set is evaluated once, on the shipped network.
--val 0 trains on every training image and makes no selection (--ship last or average).
Outputs in <out>: model.onnx, golden.bin, metrics.json, checkpoint.pt, best.pt (with --val).

golden.bin (little-endian): "XGLD", u32 version=1, u32 count, u32 height, u32 width,
u32 channels, u32 classes, then count*h*w*c u8 raw pixels (0..255, before normalisation),
count u32 labels, count*classes f32 logits of the exported (eval-mode) network.
"""
import argparse
import copy
import gzip
import hashlib
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_model import ARCHITECTURES, build_model  # noqa: E402
from xnornet import clip_latent_weights, set_export_mode  # noqa: E402

DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN = 0.2860 * 255.0   # dataset mean of raw pixels (0..255)
STD = 0.3530 * 255.0    # dataset standard deviation of raw pixels
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_split(data_dir, prefix):
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    return torch.from_numpy(x.copy()), torch.from_numpy(y.astype(np.int64))


def normalise(raw_u8):
    return (raw_u8.float().unsqueeze(1) - MEAN) / STD


def augment(raw_u8, gen, max_shift=2):
    """Random shift by up to max_shift pixels (zero = background) and random horizontal flip."""
    n, s = raw_u8.shape[0], max_shift
    padded = F.pad(raw_u8, (s, s, s, s))
    dx = torch.randint(0, 2 * s + 1, (n,), generator=gen)
    dy = torch.randint(0, 2 * s + 1, (n,), generator=gen)
    rows = (dy.view(n, 1) + torch.arange(28).view(1, 28))            # n x 28
    cols = (dx.view(n, 1) + torch.arange(28).view(1, 28))            # n x 28
    out = padded[torch.arange(n).view(n, 1, 1), rows.view(n, 28, 1), cols.view(n, 1, 28)]
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


def camera_jitter(raw_u8, gen, prob, max_degrees, scale_jitter):
    """What object framing leaves of a camera's view (src/XnorEdge.Vision/framing.md): a small rotation, the
    item shrunk so that its rotated bounding box spans the image again (framing crops a square on the box's
    longer side), and a little scale error. Applied to a share `prob` of the images; bilinear, zero ground."""
    n = raw_u8.shape[0]
    pick = torch.rand(n, generator=gen) < prob
    if prob <= 0 or not bool(pick.any()):
        return raw_u8
    sub = raw_u8[pick].float()
    m = sub.shape[0]
    theta = (torch.rand(m, generator=gen) * 2 - 1) * (max_degrees * math.pi / 180)
    fg = sub > 16
    idx = torch.arange(28, dtype=torch.float32)
    rows, cols = fg.any(2).float(), fg.any(1).float()
    def extent(mask):  # first..last foreground index + 1, 28 for an empty image
        first = torch.where(mask.any(1), (mask * 100 - idx).argmax(1).float(), torch.zeros(m))
        last = torch.where(mask.any(1), (mask * (idx + 100)).argmax(1).float(), torch.full((m,), 27.0))
        return last - first + 1
    h, w = extent(rows), extent(cols)
    c, s = theta.cos().abs(), theta.sin().abs()
    fit = torch.maximum(h, w) / torch.maximum(w * c + h * s, w * s + h * c)
    scale = fit * (1 + (torch.rand(m, generator=gen) * 2 - 1) * scale_jitter)
    a = torch.zeros(m, 2, 3)
    a[:, 0, 0], a[:, 0, 1] = theta.cos() / scale, -theta.sin() / scale
    a[:, 1, 0], a[:, 1, 1] = theta.sin() / scale, theta.cos() / scale
    grid = F.affine_grid(a, (m, 1, 28, 28), align_corners=False)
    out = F.grid_sample(sub.unsqueeze(1), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    result = raw_u8.clone()
    result[pick] = out.squeeze(1).round().clamp(0, 255).to(torch.uint8)
    return result


def split_validation(y, count, seed):
    """A class-stratified validation split: `count` indices of the training images, each class contributing in
    proportion to its share (largest remainders get the leftover), drawn with a generator seeded by `seed` alone
    so that every run with the same data, --subset, --val and --val-seed holds out the same images.
    Returns (train indices, validation indices), both sorted, as int64 tensors."""
    labels = y.numpy()
    n = labels.shape[0]
    if not 0 < count < n:
        raise ValueError(f"--val {count}: expected 1 to {n - 1} (the training set has {n} images)")
    classes, sizes = np.unique(labels, return_counts=True)
    exact = sizes * count / n
    take = np.floor(exact).astype(np.int64)
    for i in np.argsort(-(exact - take), kind="stable")[:count - take.sum()]:
        take[i] += 1
    rng = np.random.RandomState(seed)
    val = []
    for c, k in zip(classes, take):
        members = np.flatnonzero(labels == c)
        val.append(rng.permutation(members)[:k])
    val = np.sort(np.concatenate(val))
    mask = np.ones(n, dtype=bool)
    mask[val] = False
    return torch.from_numpy(np.flatnonzero(mask)), torch.from_numpy(val)


def same_split(checkpoint, path, split, what):
    """A teacher or an earlier stage trained on the validation images would leak them into the selection: the run
    it comes from must have held out the same split (or, without --val here, anything)."""
    if split is None:
        return
    theirs = checkpoint.get("validation", "unknown")
    metrics = os.path.join(os.path.dirname(path), "metrics.json")
    if theirs == "unknown" and os.path.exists(metrics):  # a finished run records its split in metrics.json too
        with open(metrics) as f:
            theirs = json.load(f).get("validation", "unknown")
    if theirs == "unknown":
        print(f"warning: {what} does not record its validation split (an older checkpoint); it may have been trained "
              f"on the validation images", flush=True)
    elif theirs is None or theirs["indices_sha256"] != split["indices_sha256"]:
        sys.exit(f"train_fashion: {what} was trained " + ("on every training image" if theirs is None else
                 f"with another validation split ({theirs['count']} images, seed {theirs['seed']})")
                 + f", so it has seen this run's validation images (--val {split['count']}, --val-seed {split['seed']}): "
                 "train it with the same --val, --val-seed and --subset")


def evaluate(model, x_u8, y, batch=1000):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, x_u8.shape[0], batch):
            xb = normalise(x_u8[i:i + batch]).contiguous(memory_format=torch.channels_last)
            out = model(xb)
            loss += F.cross_entropy(out, y[i:i + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    return correct / x_u8.shape[0], loss / x_u8.shape[0]


def recalibrate_bn(model, x_u8, batch=500):
    """Re-estimates every batch-norm's running mean and variance with the final weights: one pass over the
    (un-augmented) training images with cumulative averaging instead of the training-time moving average,
    which still carries statistics of earlier weights. Training data only; the weights do not change."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for i in range(0, x_u8.shape[0], batch):
            model(normalise(x_u8[i:i + batch]).contiguous(memory_format=torch.channels_last))
    for m, momentum in zip(bns, saved):
        m.momentum = momentum
    model.eval()


def accumulate_weights(total, state):
    """Adds a state dict's floating-point tensors (weights, latent weights, batch-norm parameters and
    statistics) to a running float64 sum; integer buffers (batch counters) are not averaged."""
    if total is None:
        return {n: t.detach().double().clone() for n, t in state.items() if t.is_floating_point()}
    for n, t in total.items():
        t += state[n].detach().double()
    return total


def averaged_weights(total, count, state):
    """The state dict with every floating-point tensor replaced by its average over `count` epochs
    (stochastic weight averaging on the latent weights; the sign of the average is what gets exported)."""
    return {n: (total[n] / count).to(t.dtype) if n in total else t for n, t in state.items()}


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def write_golden(model, x_u8, y, path, count):
    model.eval()
    with torch.no_grad():
        logits = model(normalise(x_u8[:count]).contiguous(memory_format=torch.channels_last))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"XGLD")
        f.write(struct.pack("<6I", 1, count, 28, 28, 1, logits.shape[1]))
        f.write(x_u8[:count].numpy().astype(np.uint8).tobytes())
        f.write(y[:count].numpy().astype("<u4").tobytes())
        f.write(logits.numpy().astype("<f4").tobytes())
    os.replace(tmp, path)
    return logits


def export_onnx(model, path):
    model.eval()
    set_export_mode(model, True)
    dummy = torch.zeros(1, 1, 28, 28)
    tmp = path + ".tmp"
    # Constant folding would turn Sign(W) into a constant: keep the graph as trained.
    torch.onnx.export(model.to(memory_format=torch.contiguous_format), dummy, tmp,
                      input_names=["input"], output_names=["logits"], opset_version=13,
                      do_constant_folding=False, dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    set_export_mode(model, False)
    import onnx
    m = onnx.load(tmp)
    onnx.checker.check_model(m)
    for key, value in (("labels", json.dumps(LABELS)), ("mean", str(MEAN)), ("scale", str(1.0 / STD)),
                       ("input_layout", "NCHW gray 28x28, x = (pixel - mean) * scale")):
        entry = m.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(m, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder (checkpoints, ONNX, golden file)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--float", dest="float_baseline", action="store_true", help="train the float baseline")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--subset", type=int, default=0, help="train on the first N images only (smoke test)")
    ap.add_argument("--test-subset", type=int, default=0, help="evaluate on the first N test images only")
    ap.add_argument("--golden", type=int, default=500, help="test images in the golden file")
    ap.add_argument("--arch", choices=sorted(ARCHITECTURES), default="fashion",
                    help="fashion: the shipped model's network; mcu: the microcontroller-sized one")
    ap.add_argument("--channels", default=None, help="conv channels (default: the architecture's)")
    ap.add_argument("--val", type=int, default=None, metavar="N",
                    help="hold out N training images (class-stratified, fixed by --val-seed) for model selection; 0: none "
                         "(default: one in 12, 5,000 of the 60,000)")
    ap.add_argument("--val-seed", type=int, default=0, help="seed of the validation split (independent of --seed)")
    ap.add_argument("--ship", choices=["auto", "last", "average", "best"], default="auto",
                    help="the network exported: auto = the best on validation of the last epoch, the --average-last "
                         "average and the best validation epoch (without --val: the average if --average-last, else the "
                         "last epoch); or one of them by name")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--data", default=DATA_DIR)
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--max-shift", type=int, default=2, help="augmentation: largest random shift in pixels")
    ap.add_argument("--camera-jitter", type=float, default=0.0, metavar="P",
                    help="augmentation: share of images given what framing leaves of a camera view (a rotation of up to "
                         "--rotate degrees, the item refitted to the image, a scale error of up to --scale-jitter)")
    ap.add_argument("--rotate", type=float, default=10.0, help="camera jitter: largest rotation in degrees")
    ap.add_argument("--scale-jitter", type=float, default=0.05, help="camera jitter: largest relative scale error")
    ap.add_argument("--init-from", help="start from the weights of another run's checkpoint.pt (fine-tuning stage)")
    ap.add_argument("--real-first", action="store_true",
                    help="the first conv keeps real weights (a real Conv2D in the file); with --init-from from a binary first "
                         "conv it starts from that conv's binary weights (alpha x sign)")
    ap.add_argument("--teacher", help="checkpoint of a trained float baseline to distil from")
    ap.add_argument("--kd-weight", type=float, default=0.5)
    ap.add_argument("--kd-temp", type=float, default=2.0)
    ap.add_argument("--real-weights", action="store_true",
                    help="binary activations, real weights: stage 1 of two-stage training (not exportable)")
    ap.add_argument("--recalibrate-bn", action="store_true",
                    help="after the last epoch, re-estimate the batch-norm statistics on the training images")
    ap.add_argument("--average-last", type=int, default=0, metavar="N",
                    help="ship the average of the weights (latent weights for binary layers) at the end of the last N "
                         "epochs instead of the last epoch's; needs --recalibrate-bn (averaged weights need fresh "
                         "batch-norm statistics)")
    args = ap.parse_args()
    if args.real_weights and args.float_baseline:
        ap.error("--real-weights trains binary activations; it does not go with --float")
    if args.average_last < 0 or args.average_last > args.epochs:
        ap.error(f"--average-last {args.average_last}: expected 0 to --epochs ({args.epochs})")
    if args.val is None:
        args.val = (args.subset or 60000) // 12
    if args.val < 0:
        ap.error(f"--val {args.val}: expected 0 (no validation split) or a number of training images")
    if args.ship == "best" and not args.val:
        ap.error("--ship best needs a validation split (--val N): the best epoch is chosen on validation")
    if args.ship == "average" and not args.average_last:
        ap.error("--ship average needs --average-last N")
    if args.average_last and not args.recalibrate_bn:
        ap.error("--average-last needs --recalibrate-bn: the running batch-norm statistics belong to no single set of "
                 "the averaged weights")

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    if args.subset:
        x_train, y_train = x_train[:args.subset], y_train[:args.subset]
    x_eval, y_eval = (x_test[:args.test_subset], y_test[:args.test_subset]) if args.test_subset else (x_test, y_test)
    split = None
    if args.val:
        if args.val >= x_train.shape[0]:
            ap.error(f"--val {args.val}: the training set has only {x_train.shape[0]} images")
        train_idx, val_idx = split_validation(y_train, args.val, args.val_seed)
        x_val, y_val = x_train[val_idx], y_train[val_idx]
        x_train, y_train = x_train[train_idx], y_train[train_idx]
        split = {"count": int(val_idx.shape[0]), "seed": args.val_seed, "of_images": int(train_idx.shape[0] + val_idx.shape[0]),
                 "per_class": np.bincount(y_val.numpy(), minlength=10).tolist(),
                 "indices_sha256": hashlib.sha256(val_idx.numpy().astype("<i8").tobytes()).hexdigest(),
                 "first_indices": val_idx[:10].tolist()}
        print(f"validation split: {split['count']} of {split['of_images']} training images (seed {args.val_seed}, "
              f"per class {split['per_class']}); training on the other {x_train.shape[0]}", flush=True)

    channels = tuple(int(c) for c in (args.channels or ARCHITECTURES[args.arch][1]).split(","))
    model = build_model(args.arch, binary=not args.float_baseline, channels=",".join(map(str, channels)),
                        hidden=args.hidden, real_weights=args.real_weights, real_first=args.real_first)
    model = model.to(memory_format=torch.channels_last)
    teacher = None
    if args.teacher:
        tk = torch.load(args.teacher)
        # A checkpoint names its network; older ones (no "arch") are the shipped architecture with these flags.
        teacher = build_model(tk.get("arch", args.arch), binary=False,
                              channels=",".join(map(str, tk.get("channels", channels))), hidden=tk.get("hidden", args.hidden))
        teacher.load_state_dict(tk["model"])
        same_split(tk, args.teacher, split, "--teacher " + args.teacher)
        teacher = teacher.to(memory_format=torch.channels_last).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
    init = None
    if args.init_from:
        init = torch.load(args.init_from)
        model.load_state_dict(init["model"])
        if args.real_first and not init.get("real_first") and not init.get("real_weights"):
            # The binary first conv's effective weights (alpha x sign W): the fine-tune starts from the same network.
            with torch.no_grad():
                w = model.conv1.weight
                w.copy_(torch.where(w >= 0, 1.0, -1.0) * w.abs().mean(dim=(1, 2, 3), keepdim=True))
        same_split(init, args.init_from, split, "--init-from " + args.init_from)
        print(f"starting from the weights of {args.init_from} (epoch {init['epoch']})", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = (x_train.shape[0] + args.batch - 1) // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=steps_per_epoch, pct_start=0.15)
    gen = torch.Generator().manual_seed(args.seed)
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    start_epoch, best, best_epoch, train_seconds, history = 0, 0.0, 0, 0.0, []
    avg_sum, avg_count = None, 0  # running sum of the weights over the last --average-last epochs
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        gen.set_state(ck["gen"])
        torch.set_rng_state(ck["torch_rng"])
        start_epoch, best, train_seconds, history = ck["epoch"], ck["best"], ck["seconds"], ck["history"]
        best_epoch = ck.get("best_epoch", 0)
        if "validation" in ck and ck["validation"] != split:
            sys.exit(f"train_fashion: {ckpt_path} was trained with another validation split than --val {args.val} "
                     f"--val-seed {args.val_seed} asks for: resume with the flags it was started with, or use a new --out")
        avg_sum, avg_count = ck.get("avg_sum"), ck.get("avg_count", 0)
        print(f"resumed from {ckpt_path} at epoch {start_epoch}", flush=True)

    kind = "float" if args.float_baseline else ("binact" if args.real_weights else "xnor")
    for epoch in range(start_epoch, args.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        total_loss, correct = 0.0, 0
        for i in range(0, x_train.shape[0], args.batch):
            idx = perm[i:i + args.batch]
            raw = x_train[idx] if args.no_augment else augment(x_train[idx], gen, args.max_shift)
            if args.camera_jitter and not args.no_augment:
                raw = camera_jitter(raw, gen, args.camera_jitter, args.rotate, args.scale_jitter)
            xb = normalise(raw).contiguous(memory_format=torch.channels_last)
            out = model(xb)
            loss = F.cross_entropy(out, y_train[idx])
            if teacher is not None:
                with torch.no_grad():
                    soft = F.softmax(teacher(xb) / args.kd_temp, dim=1)
                kd = F.kl_div(F.log_softmax(out / args.kd_temp, dim=1), soft, reduction="batchmean")
                loss = (1 - args.kd_weight) * loss + args.kd_weight * args.kd_temp ** 2 * kd
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if not args.float_baseline:
                clip_latent_weights(model)
            total_loss += loss.item() * idx.shape[0]
            correct += (out.argmax(1) == y_train[idx]).sum().item()
        train_seconds += time.time() - t0
        entry = {"epoch": epoch + 1, "train_loss": total_loss / x_train.shape[0], "train_acc": correct / x_train.shape[0]}
        if args.val:  # the test set is not looked at during training: every choice is made on validation
            val_acc, val_loss = evaluate(model, x_val, y_val)
            entry.update(val_acc=val_acc, val_loss=val_loss)
            if val_acc > best:
                best, best_epoch = val_acc, epoch + 1
                save_atomic({"model": model.state_dict(), "epoch": epoch + 1, "val_acc": val_acc, "arch": args.arch,
                             "channels": channels, "hidden": args.hidden, "binary": not args.float_baseline,
                             "real_weights": args.real_weights, "real_first": args.real_first},
                            os.path.join(args.out, "best.pt"))
        history.append(entry)
        if args.average_last and epoch + 1 > args.epochs - args.average_last:
            avg_sum = accumulate_weights(avg_sum, model.state_dict())
            avg_count += 1
        save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                     "gen": gen.get_state(), "torch_rng": torch.get_rng_state(), "epoch": epoch + 1,
                     "best": best, "best_epoch": best_epoch, "seconds": train_seconds, "history": history,
                     "arch": args.arch, "channels": channels, "hidden": args.hidden, "validation": split,
                     "avg_sum": avg_sum, "avg_count": avg_count, "real_first": args.real_first}, ckpt_path)
        print(f"[{kind}] epoch {epoch + 1}/{args.epochs} loss {total_loss / x_train.shape[0]:.4f} "
              f"train {100 * correct / x_train.shape[0]:.2f}% "
              + (f"val {100 * entry['val_acc']:.2f}% " if args.val else "")
              + f"lr {sched.get_last_lr()[0]:.5f} time {time.time() - t0:.0f}s", flush=True)

    # The candidates for the shipped network: the last epoch's weights (the schedule ends at lr ~ 0), the average
    # of the last --average-last epochs, and the best epoch on validation; each is finalised the same way
    # (--recalibrate-bn on the training images) and scored on the validation split. The test set plays no part:
    # it is evaluated once, on the network shipped.
    if args.average_last and avg_count != args.average_last:
        sys.exit(f"train_fashion: {ckpt_path} holds the weights of {avg_count} epoch(s) to average, expected "
                 f"{args.average_last}: was the run started without --average-last {args.average_last}?")
    states = {"last": copy.deepcopy(model.state_dict())}
    if args.average_last:
        states["average"] = averaged_weights(avg_sum, avg_count, model.state_dict())
    best_path = os.path.join(args.out, "best.pt")
    if args.val and best_epoch and best_epoch != args.epochs and os.path.exists(best_path):
        states["best"] = torch.load(best_path)["model"]
    candidates = {}
    for name, state in states.items():
        model.load_state_dict(state)
        score = {"epoch": {"last": args.epochs, "best": best_epoch}.get(name),
                 "epochs_averaged": avg_count if name == "average" else None}
        if args.val:
            score["val_accuracy_before_recalibration"] = evaluate(model, x_val, y_val)[0]
        if args.recalibrate_bn:
            recalibrate_bn(model, x_train)
        if args.val:
            score["val_accuracy"] = evaluate(model, x_val, y_val)[0]
        states[name] = copy.deepcopy(model.state_dict())
        candidates[name] = score
        if args.val:
            print(f"[{kind}] candidate {name}: val {100 * score['val_accuracy_before_recalibration']:.2f}%"
                  + (f" -> {100 * score['val_accuracy']:.2f}% with re-estimated batch-norm statistics" if args.recalibrate_bn else ""),
                  flush=True)
    if args.ship != "auto":
        shipped = args.ship
    elif args.val:  # the best on validation; on a tie the simplest (last, then average, then best epoch)
        shipped = max(candidates, key=lambda k: (candidates[k]["val_accuracy"], -list(candidates).index(k)))
    else:
        shipped = "average" if args.average_last else "last"
    model.load_state_dict(states[shipped])
    val_acc = candidates[shipped].get("val_accuracy")
    acc, _ = evaluate(model, x_eval, y_eval)  # the one evaluation on the test set
    print(f"[{kind}] shipping the {shipped} weights" + (f" (val {100 * val_acc:.2f}%)" if args.val else "")
          + f": test {100 * acc:.2f}% on {x_eval.shape[0]} test images", flush=True)
    onnx_path = os.path.join(args.out, "model.onnx")
    if not args.real_weights:  # real weights do not map to XnorEdge's binary layers: nothing to export
        export_onnx(model, onnx_path)
        model = model.to(memory_format=torch.channels_last)
        write_golden(model, x_test, y_test, os.path.join(args.out, "golden.bin"), min(args.golden, x_test.shape[0]))
    params = sum(p.numel() for p in model.parameters())
    # A fine-tuning stage reports the whole training: its own epochs and time plus every earlier stage's.
    prior_epochs, prior_seconds = (init["epoch"], init["seconds"]) if init else (0, 0.0)
    prior_metrics = os.path.join(os.path.dirname(args.init_from), "metrics.json") if init else None
    if prior_metrics and os.path.exists(prior_metrics):
        with open(prior_metrics) as f:
            pm = json.load(f)
        if pm.get("init_from"):  # the run started from was itself a fine-tuning stage: count the whole chain
            prior_epochs += pm["init_epochs"]
            prior_seconds += pm["init_train_seconds"]
    # The stage started from, as its checkpoint saw it (an interrupted run has no metrics.json of its own).
    init_run = None if not init else {"epoch": init["epoch"], "seconds": round(init.get("seconds", 0.0), 1),
                                      "history": init.get("history"), "arch": init.get("arch"),
                                      "real_weights": init.get("real_weights"), "validation": init.get("validation")}
    metrics = {"kind": kind, "epochs": args.epochs, "init_run": init_run,
               "init_from": args.init_from, "init_epochs": prior_epochs, "init_train_seconds": round(prior_seconds, 1),
               "total_epochs": prior_epochs + args.epochs, "total_train_seconds": round(prior_seconds + train_seconds, 1),
               "max_shift": args.max_shift, "test_accuracy": acc, "test_images": int(x_eval.shape[0]),
               "validation": split, "val_accuracy": val_acc, "best_val_accuracy": best if args.val else None,
               "best_val_epoch": best_epoch if args.val else None, "shipped": shipped, "ship": args.ship,
               "candidates": candidates, "arch": args.arch,
               "average_last": args.average_last,
               "real_weights": args.real_weights, "real_first": args.real_first, "recalibrated_bn": args.recalibrate_bn,
               "train_seconds": round(train_seconds, 1), "parameters": params, "channels": list(channels),
               "hidden": args.hidden, "batch": args.batch, "teacher": args.teacher,
               "kd_weight": args.kd_weight if args.teacher else None, "kd_temp": args.kd_temp if args.teacher else None, "lr": args.lr, "seed": args.seed,
               "threads": args.threads, "subset": args.subset, "augment": not args.no_augment,
               "camera_jitter": {"share": args.camera_jitter, "rotate": args.rotate, "scale_jitter": args.scale_jitter}
               if args.camera_jitter and not args.no_augment else None,
               "history": history, "torch": torch.__version__,
               "command": " ".join([os.path.basename(sys.executable)] + sys.argv)}
    tmp = os.path.join(args.out, "metrics.json.tmp")
    with open(tmp, "w") as f:
        json.dump(metrics, f, indent=2)
    os.replace(tmp, os.path.join(args.out, "metrics.json"))
    print(f"[{kind}] final test accuracy {100 * acc:.2f}% after {train_seconds / 60:.1f} min of training"
          + ("" if args.real_weights else f"; wrote {onnx_path}"), flush=True)


if __name__ == "__main__":
    main()
