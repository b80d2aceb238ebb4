"""``extract``: a QAT (Brevitas) encoder -> the typed integer model everything else walks.

The encoder declares its own wiring (``fixed_point_graph()``: a list of steps naming its weight
layers and quantisers); this module reads each quantiser's word (one forward pass with hooks) and
each layer's integer weights and bias, and builds the :class:`~hwcae.fixedpoint.graph.FixedPointModel`.
A new encoder kind declares its graph and needs nothing else here.

Steps (tensor names are free; ``"input"`` is the ADC word)::

    ("conv", layer_name, src, dst)         ("quant", quantiser_name, src, dst, relu)
    ("add", (src_a, src_b), dst)            ("pool", src, dst, size)      ("reshape", src, dst, positions)
"""
from __future__ import annotations

import math

import torch

from hwcae.errors import HwcaeError
from hwcae.fixedpoint.gain import GainSpec
from hwcae.fixedpoint.graph import Add, Conv, FixedPointModel, MaxPool, Quant, Reshape, Search, Word


def _exp(scale) -> int:
    e = math.log2(float(torch.as_tensor(scale).reshape(-1)[0]))
    if abs(e - round(e)) > 1e-9:
        raise HwcaeError(f"scale {2 ** e} is not a power of two: not a fixed-point design")
    return int(round(e))


@torch.no_grad()
def quantizer_words(encoder) -> dict[str, Word]:
    """Quantiser name -> the word it writes, read from one forward pass (eval mode)."""
    words: dict[str, Word] = {}

    def record(name):
        def hook(module, inputs, output):  # must return None: a value would replace the output
            words.setdefault(name, Word(int(output.bit_width), bool(output.signed), _exp(output.scale)))
        return hook

    hooks = [mod.register_forward_hook(record(name)) for name, mod in encoder.act_quantizers().items()]
    try:
        encoder.latent(torch.zeros(1, 4, 64))
    finally:
        for h in hooks:
            h.remove()
    return words


def _conv(layer, name: str, src: str, dst: str, in_exp: int, bias_bits: int, shares: str = "") -> Conv:
    qw = layer.quant_weight()
    w_exp = _exp(qw.scale)
    lim = 2 ** (bias_bits - 1) - 1
    b = torch.clamp(torch.round(layer.bias / 2.0 ** (w_exp + in_exp)), -lim, lim).to(torch.int64).numpy()
    w = torch.round(qw.value / 2.0**w_exp).to(torch.int64)
    return Conv(name, src, dst, w.reshape(w.shape[0], w.shape[1], -1).numpy(), w_exp, int(qw.bit_width), b, in_exp,
                groups=int(getattr(layer, "groups", 1)), shares=shares)


@torch.no_grad()
def extract(encoder) -> FixedPointModel:
    """The integer model of a QAT encoder (put in eval mode)."""
    encoder.eval()
    words = quantizer_words(encoder)
    bias_bits = encoder.design.bias_bits
    exps = {"input": words["input"].exp}  # tensor -> exponent, as the steps write them
    ops = []
    owners: dict[int, str] = {}  # weight module -> the first layer name using it (shared weights)
    for step in encoder.fixed_point_graph():
        kind = step[0]
        if kind == "conv":
            _, name, src, dst = step
            layer = encoder.layer(name)
            owner = owners.setdefault(id(layer), name)
            op = _conv(layer, name, src, dst, exps[src], bias_bits, shares="" if owner == name else owner)
            exps[dst] = op.acc_exp
        elif kind == "quant":
            _, name, src, dst, relu = step
            op = Quant(name, src, dst, words[name], relu)
            exps[dst] = op.word.exp
        elif kind == "add":
            op = Add(tuple(step[1]), step[2])
            exps[op.dst] = exps[op.srcs[0]]
        elif kind == "pool":
            op = MaxPool(step[1], step[2], int(step[3]))
            exps[op.dst] = exps[op.src]
        elif kind == "reshape":
            op = Reshape(step[1], step[2], int(step[3]))
            exps[op.dst] = exps[op.src]
        else:
            raise HwcaeError(f"{type(encoder).__name__}: unknown fixed-point step {step!r}")
        ops.append(op)
    cb = encoder.score.quant_weight()
    cb_exp = _exp(cb.scale)
    cb_int = torch.round(cb.value / 2.0**cb_exp).to(torch.int64)
    search = Search(cb_int.reshape(cb_int.shape[0], cb_int.shape[1]).numpy(), cb_exp, int(cb.bit_width))
    return FixedPointModel(encoder_kind=encoder.kind, input_scale_uv=float(encoder.arch.input_scale_uv), input=words["input"],
                           ops=ops, search=search, bias_bits=bias_bits, gain=GainSpec.of(encoder.arch.gain))
