#!/usr/bin/python3
"""Writes the trainer's validation split and a calibration set as IDX files, for `xnoredge eval` and
`xnoredge convert --calibration`.

    /usr/bin/python3 firmware-tools/compress/split_idx.py --out build/compress/data [--val 5000] [--val-seed 0] [--calibration 4096]

The validation images are exactly the ones train_fashion.py holds out (its own split_validation, same --val and
--val-seed), in index order: val-images-idx3-ubyte.gz / val-labels-idx1-ubyte.gz. The calibration images are drawn
from the other training images only (never validation, never test), in a fixed random order (seed 19), so the first
N of calib-images-idx3-ubyte.gz are the N that `--calibration-count N` uses. Every file is written atomically.
"""
import argparse
import gzip
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from train_fashion import DATA_DIR, load_split, split_validation  # noqa: E402


def write_idx(path, array):
    """IDX of unsigned bytes: magic 0x0000 08 <dims>, big-endian u32 sizes, then the data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    tmp = path + ".tmp"
    with gzip.open(tmp, "wb") as f:
        f.write(header)
        f.write(array.tobytes())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=DATA_DIR)
    ap.add_argument("--val", type=int, default=5000)
    ap.add_argument("--val-seed", type=int, default=0)
    ap.add_argument("--calibration", type=int, default=4096, help="calibration images to write (from the training split)")
    args = ap.parse_args()
    x, y = load_split(args.data, "train")
    train_idx, val_idx = split_validation(y, args.val, args.val_seed)
    train_idx, val_idx = train_idx.numpy(), val_idx.numpy()
    if not 0 < args.calibration <= len(train_idx):
        sys.exit(f"--calibration {args.calibration}: expected 1 to {len(train_idx)}")
    assert not set(train_idx) & set(val_idx)
    calib = np.random.RandomState(19).permutation(train_idx)[:args.calibration]
    os.makedirs(args.out, exist_ok=True)
    xs, ys = x.numpy(), y.numpy()
    write_idx(os.path.join(args.out, "val-images-idx3-ubyte.gz"), xs[val_idx])
    write_idx(os.path.join(args.out, "val-labels-idx1-ubyte.gz"), ys[val_idx])
    write_idx(os.path.join(args.out, "calib-images-idx3-ubyte.gz"), xs[calib])
    write_idx(os.path.join(args.out, "calib-labels-idx1-ubyte.gz"), ys[calib])
    print(f"validation: {len(val_idx)} images (seed {args.val_seed}, per class {np.bincount(ys[val_idx]).tolist()}); "
          f"calibration: {len(calib)} of the {len(train_idx)} other training images -> {args.out}")


if __name__ == "__main__":
    main()
