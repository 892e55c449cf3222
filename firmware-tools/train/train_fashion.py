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
Outputs in <out>: model.onnx, golden.bin, metrics.json, checkpoint.pt, best.pt.

golden.bin (little-endian): "XGLD", u32 version=1, u32 count, u32 height, u32 width,
u32 channels, u32 classes, then count*h*w*c u8 raw pixels (0..255, before normalisation),
count u32 labels, count*classes f32 logits of the exported (eval-mode) network.
"""
import argparse
import gzip
import json
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
from fashion_model import FashionXnorNet  # noqa: E402
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
    ap.add_argument("--channels", default="64,64,128,128")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--data", default=DATA_DIR)
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--max-shift", type=int, default=2, help="augmentation: largest random shift in pixels")
    ap.add_argument("--init-from", help="start from the weights of another run's checkpoint.pt (fine-tuning stage)")
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

    channels = tuple(int(c) for c in args.channels.split(","))
    model = FashionXnorNet(binary=not args.float_baseline, channels=channels, hidden=args.hidden,
                           real_weights=args.real_weights)
    model = model.to(memory_format=torch.channels_last)
    teacher = None
    if args.teacher:
        teacher = FashionXnorNet(binary=False, channels=channels, hidden=args.hidden)
        teacher.load_state_dict(torch.load(args.teacher)["model"])
        teacher = teacher.to(memory_format=torch.channels_last).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
    init = None
    if args.init_from:
        init = torch.load(args.init_from)
        model.load_state_dict(init["model"])
        print(f"starting from the weights of {args.init_from} (epoch {init['epoch']})", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = (x_train.shape[0] + args.batch - 1) // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=steps_per_epoch, pct_start=0.15)
    gen = torch.Generator().manual_seed(args.seed)
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    start_epoch, best, train_seconds, history = 0, 0.0, 0.0, []
    avg_sum, avg_count = None, 0  # running sum of the weights over the last --average-last epochs
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        gen.set_state(ck["gen"])
        torch.set_rng_state(ck["torch_rng"])
        start_epoch, best, train_seconds, history = ck["epoch"], ck["best"], ck["seconds"], ck["history"]
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
        acc, test_loss = evaluate(model, x_eval, y_eval)
        history.append({"epoch": epoch + 1, "train_loss": total_loss / x_train.shape[0],
                        "train_acc": correct / x_train.shape[0], "test_acc": acc, "test_loss": test_loss})
        if acc > best:
            best = acc
            save_atomic({"model": model.state_dict(), "epoch": epoch + 1, "test_acc": acc,
                         "channels": channels, "hidden": args.hidden, "binary": not args.float_baseline,
                         "real_weights": args.real_weights},
                        os.path.join(args.out, "best.pt"))
        if args.average_last and epoch + 1 > args.epochs - args.average_last:
            avg_sum = accumulate_weights(avg_sum, model.state_dict())
            avg_count += 1
        save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                     "gen": gen.get_state(), "torch_rng": torch.get_rng_state(), "epoch": epoch + 1,
                     "best": best, "seconds": train_seconds, "history": history,
                     "avg_sum": avg_sum, "avg_count": avg_count}, ckpt_path)
        print(f"[{kind}] epoch {epoch + 1}/{args.epochs} loss {total_loss / x_train.shape[0]:.4f} "
              f"train {100 * correct / x_train.shape[0]:.2f}% test {100 * acc:.2f}% "
              f"lr {sched.get_last_lr()[0]:.5f} time {time.time() - t0:.0f}s", flush=True)

    # The shipped network is the last epoch's (the schedule ends at lr ~ 0), or with --average-last the
    # average of a fixed number of final epochs; never the best on test: picking by test accuracy would overstate it.
    acc, _ = evaluate(model, x_eval, y_eval)
    acc_last_epoch = acc
    if args.average_last:
        if avg_count != args.average_last:
            sys.exit(f"train_fashion: {ckpt_path} holds the weights of {avg_count} epoch(s) to average, expected "
                     f"{args.average_last}: was the run started without --average-last {args.average_last}?")
        model.load_state_dict(averaged_weights(avg_sum, avg_count, model.state_dict()))
        acc, _ = evaluate(model, x_eval, y_eval)
        print(f"[{kind}] weights averaged over the last {avg_count} epochs: test {100 * acc_last_epoch:.2f}% "
              f"(last epoch) -> {100 * acc:.2f}%", flush=True)
    acc_before_recalibration = None
    if args.recalibrate_bn:
        acc_before_recalibration = acc
        recalibrate_bn(model, x_train)
        acc, _ = evaluate(model, x_eval, y_eval)
        print(f"[{kind}] batch-norm statistics re-estimated on the training images: test {100 * acc_before_recalibration:.2f}% "
              f"-> {100 * acc:.2f}%", flush=True)
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
    metrics = {"kind": kind, "epochs": args.epochs,
               "init_from": args.init_from, "init_epochs": prior_epochs, "init_train_seconds": round(prior_seconds, 1),
               "total_epochs": prior_epochs + args.epochs, "total_train_seconds": round(prior_seconds + train_seconds, 1),
               "max_shift": args.max_shift, "test_accuracy": acc, "best_test_accuracy": best,
               "average_last": args.average_last, "test_accuracy_last_epoch": acc_last_epoch,
               "real_weights": args.real_weights, "recalibrated_bn": args.recalibrate_bn, "test_accuracy_before_recalibration": acc_before_recalibration,
               "train_seconds": round(train_seconds, 1), "parameters": params, "channels": list(channels),
               "hidden": args.hidden, "batch": args.batch, "teacher": args.teacher,
               "kd_weight": args.kd_weight if args.teacher else None, "kd_temp": args.kd_temp if args.teacher else None, "lr": args.lr, "seed": args.seed,
               "threads": args.threads, "subset": args.subset, "augment": not args.no_augment,
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
