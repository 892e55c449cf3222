#!/usr/bin/env python3
"""Writes the training run's validation split (train_fashion.py --val N --val-seed S: the same class-stratified
choice of training images) as IDX files, val-images-idx3-ubyte.gz and val-labels-idx1-ubyte.gz, so that the camera
scenes can be measured on held-out training images instead of the test set:

    /usr/bin/python3 firmware-tools/train/export_validation.py --out build/valdata
    dotnet run -c Release firmware-tools/framing/measure-framing.cs -- --model M --base set=val,data=build/valdata realistic centred

The files are written next to their final names and renamed into place.
"""
import argparse
import gzip
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_fashion import load_split, split_validation  # noqa: E402


def write_idx(path, array):
    dims = array.shape
    header = struct.pack(">I", 0x0800 | len(dims)) + struct.pack(">" + "I" * len(dims), *dims)
    tmp = path + ".tmp"
    with gzip.open(tmp, "wb") as f:
        f.write(header + array.tobytes())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for the two IDX files")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist", help="the Fashion-MNIST IDX files")
    ap.add_argument("--val", type=int, default=5000, help="as train_fashion.py --val")
    ap.add_argument("--val-seed", type=int, default=0, help="as train_fashion.py --val-seed")
    args = ap.parse_args()
    x, y = load_split(args.data, "train")
    _, val = split_validation(y, args.val, args.val_seed)
    os.makedirs(args.out, exist_ok=True)
    write_idx(os.path.join(args.out, "val-images-idx3-ubyte.gz"), x[val].numpy())
    write_idx(os.path.join(args.out, "val-labels-idx1-ubyte.gz"), y[val].numpy().astype("uint8"))
    print(f"wrote {val.shape[0]} validation images (seed {args.val_seed}) to {args.out}")


if __name__ == "__main__":
    main()
