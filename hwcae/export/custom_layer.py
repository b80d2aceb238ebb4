"""Registering one of hwcae's hls4ml custom layers (extension API): its IR class and ONNX handler
once, then its config and function templates and its C++ header once per backend. Idempotent;
runs before conversion."""
from __future__ import annotations

import importlib
from pathlib import Path

import hls4ml


def register_custom_layer(backend_name: str, done: set[str], *, layer_cls: type, onnx_op: str, handler,
                          templates: tuple[type, ...], header: Path) -> None:
    """``done`` is the caller's record of what is registered; a handler hls4ml already has for
    ``onnx_op`` is kept."""
    onnx_to_hls = importlib.import_module("hls4ml.converters.onnx_to_hls")  # the module, not the function
    if "layer" not in done:
        hls4ml.model.layers.register_layer(layer_cls.__name__, layer_cls)
        if onnx_op not in onnx_to_hls.get_supported_onnx_layers():
            onnx_to_hls.register_onnx_layer_handler(onnx_op, handler)
        done.add("layer")
    if backend_name not in done:
        backend = hls4ml.backends.get_backend(backend_name)
        for template in templates:
            backend.register_template(template)
        backend.register_source(header)
        done.add(backend_name)
