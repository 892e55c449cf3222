#!/usr/bin/python3
"""Writes single float32 convolution ONNX files for the ONNX Runtime table of run-benchmarks.sh.

One file per sweep shape: input 1 x C x S x S (NCHW), Conv C -> C, k x k, stride 1, pads k // 2, +1/-1
weights as float32 (the float network a binary conv replaces), no bias; output 1 x C x S x S. Opset 13.

    /usr/bin/python3 make_conv_onnx.py OUT_DIR [--channels 16,32,...] [--kernels 1,3,5] [--size 14]
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_model(c, k, s, rng):
    w = np.where(rng.random((c, c, k, k)) < 0.5, -1.0, 1.0).astype(np.float32)
    p = k // 2
    node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[k, k], pads=[p, p, p, p], strides=[1, 1])
    graph = helper.make_graph(
        [node], f"conv_c{c}_k{k}_s{s}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, s, s])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c, s, s])],
        [numpy_helper.from_array(w, "w")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="xnoredge-benchmarks")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--channels", default="16,32,64,128,256,512")
    ap.add_argument("--kernels", default="1,3,5")
    ap.add_argument("--size", type=int, default=14)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(0)
    for k in [int(v) for v in a.kernels.split(",")]:
        for c in [int(v) for v in a.channels.split(",")]:
            onnx.save(conv_model(c, k, a.size, rng), os.path.join(a.out, f"conv_c{c}_k{k}_s{a.size}.onnx"))


if __name__ == "__main__":
    main()
