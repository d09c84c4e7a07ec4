#!/usr/bin/python3
"""One-node ONNX models of DeformConv (opset 19) for the ONNX Runtime comparison.

Usage (Debian python3-onnx is enough; its 1.12 release predates opset 19, so the model is
written without onnx.checker, which would reject the unknown operator):
    /usr/bin/python3 tests/Benchmarks/make_onnx_deformconv.py --out DIR

For each benchmark shape (N, C -> O, H = W; 3x3 kernel, padding 1, stride 1, dilation 1,
group 1, offset_group 1) it writes DIR/deformconv_N{n}_C{c}_O{o}_H{h}.onnx with graph inputs
X [N, C, H, W], offset [N, 18, H, W], mask [N, 9, H, W] and the weight W [O, C, 3, 3] and bias
B [O] as initializers (constants, as in a deployed model), plus the same weight and bias as
.weight.npy / .bias.npy so that the engine runs on identical values. The node's inputs are
X, W, offset, B, mask in the order the operator defines. The weights are seeded and scaled by
1/sqrt(9 C) so that outputs stay O(1).
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# (N, C, O, H): the three batched shapes of torchvision_bench.py, then two single images, then a ResNet's
# last stage (7x7) on one and two images; the order of BenchShapes.All.
SHAPES = [(8, 64, 64, 56), (4, 256, 256, 28), (2, 512, 512, 14), (1, 64, 64, 56), (1, 256, 256, 28),
          (1, 512, 512, 7), (2, 512, 512, 7)]
OPSET = 19


def model_name(n, c, o, h):
    return f"deformconv_N{n}_C{c}_O{o}_H{h}"


def build(n, c, o, h, seed):
    rng = np.random.RandomState(seed)
    weight = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    bias = rng.standard_normal(o).astype(np.float32)
    node = helper.make_node(
        "DeformConv", ["X", "W", "offset", "B", "mask"], ["Y"],
        kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], dilations=[1, 1], group=1, offset_group=1)
    graph = helper.make_graph(
        [node], model_name(n, c, o, h),
        inputs=[
            helper.make_tensor_value_info("X", TensorProto.FLOAT, [n, c, h, h]),
            helper.make_tensor_value_info("offset", TensorProto.FLOAT, [n, 18, h, h]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, [n, 9, h, h]),
        ],
        outputs=[helper.make_tensor_value_info("Y", TensorProto.FLOAT, [n, o, h, h])],
        initializer=[numpy_helper.from_array(weight, "W"), numpy_helper.from_array(bias, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="DeformEngine benchmarks")
    # An IR version ONNX Runtime 1.31 reads (onnx 1.12 would stamp its own, 8).
    model.ir_version = 9
    return model, weight, bias


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory for the .onnx and .npy files")
    ap.add_argument("--seed", type=int, default=17)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for index, (n, c, o, h) in enumerate(SHAPES):
        model, weight, bias = build(n, c, o, h, args.seed + index)
        base = os.path.join(args.out, model_name(n, c, o, h))
        with open(base + ".onnx", "wb") as f:
            f.write(model.SerializeToString())
        np.save(base + ".weight.npy", weight)
        np.save(base + ".bias.npy", bias)
        print(f"{base}.onnx  (onnx {onnx.__version__}, opset {OPSET})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
