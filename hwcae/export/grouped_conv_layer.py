"""Grouped and weight-shared 1-D convolutions as an hls4ml custom layer, for both backends.

hls4ml 1.3 converts a convolution whose ``group`` is 1 (ordinary) or the channel count
(depthwise); the seed's bottleneck groups its convolutions 32 ways and is applied twice with one
set of weights. :func:`lower` rewrites every such ``Conv`` of the channels-last QONNX graph into
a ``GroupedConv1D`` node that carries its integer weights, bias and formats from the typed
fixed-point model (:class:`~hwcae.fixedpoint.graph.Conv`: the same numbers the NumPy reference
runs); the layer below turns it into C++ calling ``templates/nnet_grouped_conv1d.h``, plain C++
over the backend's own fixed-point types, so Vitis and Catapult share it. A use of shared weights
declares no weight array of its own: its call names the first use's array (stored once).
Every product is exact (the accumulator is wide enough for the worst case); the result is the
accumulator, requantised by the activation layer that follows, as for hls4ml's own convolutions.
"""
from __future__ import annotations

from pathlib import Path

import hls4ml
import numpy as np
from hls4ml.model.attributes import Attribute
from hls4ml.model.types import FixedPrecisionType, NamedType

from hwcae.errors import HwcaeError
from hwcae.export.custom_layer import register_custom_layer
from hwcae.fixedpoint.graph import Conv, FixedPointModel

HEADER = Path(__file__).parent / "templates" / "nnet_grouped_conv1d.h"
OP_TYPE = "GroupedConv1D"
_registered: set[str] = set()


def needs_layer(conv: Conv) -> bool:
    """Whether hls4ml's own convolution cannot take ``conv`` (grouped, or a second use of shared weights)."""
    return conv.groups > 1 or bool(conv.shares)


def accumulator_bits(conv: Conv, in_bits: int, bias_bits: int) -> int:
    """Bits that hold every sum of ``conv``'s products plus its bias exactly (signed)."""
    products = in_bits + conv.w_bits + int(np.ceil(np.log2(max(2, conv.fan_in))))
    return max(products, bias_bits) + 1


def lower(onnx_model, model: FixedPointModel) -> list[str]:
    """Rewrite, in place, every channels-last ``Conv`` that :func:`needs_layer` into a
    ``GroupedConv1D`` node (its weight and bias inputs removed); returns the rewritten node names.
    Conv nodes and the typed model's convolutions are matched in order (both follow the encoder)."""
    from onnx import helper

    g = onnx_model.graph
    nodes = [n for n in g.node if n.op_type in ("Conv", "MatMul")]
    convs = model.convs()
    if len(nodes) != len(convs) + 1:  # + the codeword score
        raise HwcaeError(f"QONNX graph has {len(nodes)} weight layers, the fixed-point model {len(convs)} + the search")
    first_use, lowered = {}, []
    for node, conv in zip(nodes, convs):
        first_use.setdefault(conv.shares or conv.name, node.name)
        if not needs_layer(conv):
            continue
        in_word = model.word_of(conv.src)
        attrs = {"n_filt": conv.cout, "groups": conv.groups, "filt_width": conv.kernel,
                 "w_exp": conv.w_exp, "w_bits": conv.w_bits, "acc_exp": conv.acc_exp, "bias_bits": model.bias_bits,
                 "acc_bits": accumulator_bits(conv, in_word.bits, model.bias_bits),
                 "weights": [int(v) for v in np.asarray(conv.w).reshape(-1)], "bias": [int(v) for v in conv.b],
                 "shares": first_use[conv.shares] if conv.shares else ""}
        new = helper.make_node(OP_TYPE, [node.input[0]], list(node.output), name=node.name, domain="hwcae", **attrs)
        idx = list(g.node).index(node)
        g.node.remove(node)
        g.node.insert(idx, new)
        for tensor in node.input[1:]:  # the weight and bias Quant nodes, now read by nothing
            prod = onnx_model.find_producer(tensor)
            if prod is not None and not onnx_model.find_consumers(tensor):
                g.node.remove(prod)
                for init in prod.input:
                    if onnx_model.get_initializer(init) is not None and not onnx_model.find_consumers(init):
                        g.initializer.remove(next(i for i in g.initializer if i.name == init))
        lowered.append(node.name)
    return lowered


def parse_grouped_conv(node, input_names, input_shapes, graph):
    from onnx import helper

    a = {attr.name: helper.get_attribute_value(attr) for attr in node.attribute}
    if isinstance(a.get("shares"), bytes):
        a["shares"] = a["shares"].decode()
    weight_data = np.asarray(a.pop("weights"), np.float64) * 2.0 ** a["w_exp"]  # integer codes -> values
    bias_data = np.asarray(a.pop("bias"), np.float64) * 2.0 ** a["acc_exp"]
    return {"name": node.name, "class_name": OP_TYPE, "inputs": input_names[:1], "outputs": list(node.output),
            "in_width": input_shapes[0][-2], "n_chan": input_shapes[0][-1], "pad_left": a["filt_width"] // 2,
            "weight_data": weight_data, "bias_data": bias_data, **a}


class GroupedConv1D(hls4ml.model.layers.Layer):
    """'same' 1-D convolution in ``n_group`` groups (weights (n_filt, n_chan / n_group, filt_width))."""

    _expected_attributes = [Attribute(n) for n in ("in_width", "n_chan", "n_filt", "groups", "filt_width", "pad_left")]

    def initialize(self):
        acc = FixedPrecisionType(self.get_attr("acc_bits"), self.get_attr("acc_bits") + self.get_attr("acc_exp"), True)
        self.add_output_variable([self.get_attr("in_width"), self.get_attr("n_filt")], precision=acc)
        self.set_attr("accum_t", NamedType(f"layer{self.index}_accum_t", acc))
        if not self.get_attr("shares"):
            w_bits = self.get_attr("w_bits")
            self.add_weights_variable(name="weight", var_name="w{index}", data=self.get_attr("weight_data"),
                                      precision=FixedPrecisionType(w_bits, w_bits + self.get_attr("w_exp"), True))
        bias_bits = self.get_attr("bias_bits")
        self.add_weights_variable(name="bias", var_name="b{index}", data=self.get_attr("bias_data"),
                                  precision=FixedPrecisionType(bias_bits, bias_bits + self.get_attr("acc_exp"), True))

    def weight_variable(self):
        """The weight array this layer reads: its own, or the first use's (shared weights)."""
        owner = self.model.graph[self.get_attr("shares")] if self.get_attr("shares") else self
        return owner.get_weights("weight")


_config_template = """struct config{index} : nnet::grouped_conv1d_config {{
    static const unsigned in_width = {in_width};
    static const unsigned n_chan = {n_chan};
    static const unsigned n_filt = {n_filt};
    static const unsigned n_group = {groups};
    static const unsigned filt_width = {filt_width};
    static const unsigned pad_left = {pad_left};
    typedef {accum_t} accum_t;
    typedef {weight_t} weight_t;
    typedef {bias_t} bias_t;
}};\n"""
_function_template = "nnet::grouped_conv_1d<{input_t}, {output_t}, {config}>({input}, {output}, {w}, {b});"


class GroupedConv1DConfigTemplate(hls4ml.backends.template.LayerConfigTemplate):
    def __init__(self):
        super().__init__(GroupedConv1D)
        self.template = _config_template

    def format(self, node):
        params = self._default_config_params(node)
        params["accum_t"] = node.get_attr("accum_t").name
        params["weight_t"] = node.weight_variable().type.name
        params["bias_t"] = node.get_weights("bias").type.name
        return self.template.format(**params)


class GroupedConv1DFunctionTemplate(hls4ml.backends.template.FunctionCallTemplate):
    def __init__(self):
        super().__init__(GroupedConv1D, include_header=["nnet_utils/nnet_grouped_conv1d.h"])
        self.template = _function_template

    def format(self, node):
        params = self._default_function_params(node)
        params["w"], params["b"] = node.weight_variable().name, node.get_weights("bias").name
        return self.template.format(**params)


def register(backend_name: str) -> None:
    """Idempotent; must run before conversion."""
    register_custom_layer(backend_name, _registered, layer_cls=GroupedConv1D, onnx_op=OP_TYPE, handler=parse_grouped_conv,
                          templates=(GroupedConv1DConfigTemplate, GroupedConv1DFunctionTemplate), header=HEADER)
