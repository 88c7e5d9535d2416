#!/usr/bin/python3
"""Writes the W2 model (MLP 784-256-128-10, ReLU) as ONNX for ONNX Runtime Web: input `x` [batch, 784], output
`logits` [batch, 10], Gemm nodes, Glorot-uniform weights. Generated at bench time into the build tree, never
committed.   usage: make_onnx.py OUT.onnx"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(1)
dims = [784, 256, 128, 10]
nodes, inits = [], []
prev = "x"
for i, (fan_in, fan_out) in enumerate(zip(dims, dims[1:])):
    lim = np.sqrt(6.0 / (fan_in + fan_out))
    inits.append(numpy_helper.from_array(rng.uniform(-lim, lim, (fan_in, fan_out)).astype(np.float32), f"w{i}"))
    inits.append(numpy_helper.from_array(np.zeros(fan_out, np.float32), f"b{i}"))
    last = i == len(dims) - 2
    out = "logits" if last else f"g{i}"
    nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [out]))
    if not last:
        nodes.append(helper.make_node("Relu", [out], [f"h{i}"]))
        out = f"h{i}"
    prev = out
graph = helper.make_graph(nodes, "cairn_w2_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 784])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8  # readable by every ONNX Runtime since 1.11
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
