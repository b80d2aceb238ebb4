"""Workarounds for hls4ml 1.3.0's ONNX front end, installed through its handler registry.

- 1-D max pooling: the stock handler reads channels-last (N, L, C) shapes as (N, C, L) and never
  sets ``pad_left`` / ``pad_right``, so a 1-D ``MaxPool`` fails to convert. The replacement below
  reads the channels-last shape and sets the padding; 2-D pooling is left to the stock handler.
"""
from __future__ import annotations

import importlib

import numpy as np

_installed = False


def parse_pool(node, input_names, input_shapes, graph):
    onnx_to_hls = importlib.import_module("hls4ml.converters.onnx_to_hls")
    if len(input_shapes[0]) != 3:
        return _stock(node, input_names, input_shapes, graph)
    get = onnx_to_hls.get_onnx_attribute
    if node.domain != "qonnx.custom_op.channels_last":
        raise RuntimeError("convert the model to channels-last first")
    kernel, strides = get(node, "kernel_shape"), get(node, "strides")
    pads = get(node, "pads") or [0, 0]
    n_in, n_filt = input_shapes[0][1], input_shapes[0][2]
    return {
        "name": node.name, "inputs": input_names, "outputs": list(node.output),
        "class_name": node.op_type.replace("Pool", "") + "Pooling1D", "data_format": "channels_last",
        "n_in": n_in, "n_filt": n_filt, "pool_width": kernel[0], "stride_width": strides[0],
        "pad_left": pads[0], "pad_right": pads[1],
        "n_out": int(np.floor((n_in + pads[0] + pads[1] - kernel[0]) / strides[0] + 1)),
    }


_stock = None


def install() -> None:
    global _installed, _stock
    if _installed:
        return
    onnx_to_hls = importlib.import_module("hls4ml.converters.onnx_to_hls")
    _stock = onnx_to_hls.layer_handlers["MaxPool"]
    for op in ("MaxPool", "AveragePool"):
        onnx_to_hls.layer_handlers[op] = parse_pool
    _installed = True
