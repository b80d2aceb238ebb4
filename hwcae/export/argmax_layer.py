"""The codeword-search argmax as an hls4ml custom layer (extension API), for both backends.

hls4ml 1.3 has no ArgMax layer. This module adds one: an IR layer class, an ONNX handler for the
``ArgMax`` node Brevitas exports (``torch.argmax`` over the codeword axis), config and function
templates, and the plain-C++ header ``templates/nnet_vq_argmax.h``. :func:`register` is
idempotent and must run before conversion.
"""
from __future__ import annotations

from pathlib import Path

import hls4ml
from hls4ml.model.types import IntegerPrecisionType

from hwcae.export.custom_layer import register_custom_layer

HEADER = Path(__file__).parent / "templates" / "nnet_vq_argmax.h"
_registered: set[str] = set()


class VQArgmax(hls4ml.model.layers.Layer):
    """Per latent position, the index of the largest codeword score (ties -> lowest index)."""

    _expected_attributes = [hls4ml.model.attributes.Attribute("n_pos"), hls4ml.model.attributes.Attribute("n_code")]

    def initialize(self):
        inp = self.get_input_variable()
        n_pos, n_code = inp.shape[-2], inp.shape[-1]
        self.set_attr("n_pos", n_pos)
        self.set_attr("n_code", n_code)
        bits = max(1, (n_code - 1).bit_length())
        self.add_output_variable([n_pos], precision=IntegerPrecisionType(width=bits + 1, signed=False))


def parse_argmax(node, input_names, input_shapes, graph):
    from hls4ml.converters.onnx_to_hls import get_onnx_attribute

    axis = get_onnx_attribute(node, "axis", 0)
    rank = len(input_shapes[0])
    if axis not in (-1, rank - 1) or get_onnx_attribute(node, "keepdims", 1) != 0:
        raise ValueError(f"ArgMax over axis {axis} (keepdims set) is not the channels-last codeword search")
    return {"name": node.name, "class_name": "VQArgmax", "inputs": input_names, "outputs": list(node.output)}


_config_template = """struct config{index} : nnet::vq_argmax_config {{
    static const unsigned n_pos = {n_pos};
    static const unsigned n_code = {n_code};
}};\n"""
_function_template = "nnet::vq_argmax<{input_t}, {output_t}, {config}>({input}, {output});"


class VQArgmaxConfigTemplate(hls4ml.backends.template.LayerConfigTemplate):
    def __init__(self):
        super().__init__(VQArgmax)
        self.template = _config_template

    def format(self, node):
        return self.template.format(**self._default_config_params(node))


class VQArgmaxFunctionTemplate(hls4ml.backends.template.FunctionCallTemplate):
    def __init__(self):
        super().__init__(VQArgmax, include_header=["nnet_utils/nnet_vq_argmax.h"])
        self.template = _function_template

    def format(self, node):
        return self.template.format(**self._default_function_params(node))


def register(backend_name: str) -> None:
    register_custom_layer(backend_name, _registered, layer_cls=VQArgmax, onnx_op="ArgMax", handler=parse_argmax,
                          templates=(VQArgmaxConfigTemplate, VQArgmaxFunctionTemplate), header=HEADER)
