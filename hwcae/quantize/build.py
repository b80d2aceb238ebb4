"""Building a QAT encoder: from an architecture and a design (``make_quant_encoder``), or
initialised from a trained float CAE (``from_float``: batch norm folded, dense weights permuted to
the chip's orders)."""
from __future__ import annotations

import torch
from torch import nn

from hwcae import N_CHANNELS, N_SAMPLES
from hwcae.errors import HwcaeError
from hwcae.model.config import Arch
from hwcae.quantize.design import Design
from hwcae.quantize.qcae import QuantDenseEncoder, QuantEncoder, _QuantEncoderBase


def make_quant_encoder(arch: Arch, design: Design, codebook: torch.Tensor) -> _QuantEncoderBase:
    cls = {"conv": QuantEncoder, "dense": QuantDenseEncoder}[arch.encoder.kind]
    q = cls(arch, design, codebook)
    known = set(q.layer_names()) | set(q.act_quantizers())
    unknown = sorted(set(design.layers) - known)
    if unknown:
        raise HwcaeError(f"design {design.name}: per-layer overrides for {unknown}, which architecture "
                         f"{arch.name!r} does not have (its layers: {', '.join(q.layer_names())})")
    return q


@torch.no_grad()
def from_float(arch: Arch, design: Design, float_model) -> _QuantEncoderBase:
    """A QAT encoder initialised from a float CAE (batch norm folded into the convolutions; dense
    weights permuted to the chip's sample-major input and position-major latent)."""
    q = make_quant_encoder(arch, design, float_model.vq.codebook.detach().clone())
    enc = float_model.encoder
    if q.kind == "dense":
        linears = [m for m in enc if isinstance(m, nn.Linear)]
        for i, (dst, src) in enumerate(zip([*q.fcs, q.head], linears)):
            w, b = src.weight, src.bias
            if i == 0:  # float input index c x 64 + t -> chip index t x 4 + c
                w = w.view(len(w), N_CHANNELS, N_SAMPLES).transpose(1, 2).reshape(len(w), -1)
            if dst is q.head:  # float latent index d x L + p -> chip index p x D + d
                w = w.view(q.dim, q.positions, -1).transpose(0, 1).reshape(len(w), -1)
                b = b.view(q.dim, q.positions).t().reshape(-1)
            dst.weight.copy_(w)
            dst.bias.copy_(b)
    else:
        from hwcae.quantize.fold import folded_conv

        def load(dst, seq):
            w, b = folded_conv(seq)
            dst.weight.copy_(w)
            dst.bias.copy_(b)

        load(q.stem, enc.stem)
        for qb, fb in zip(q.blocks, enc.blocks):
            load(qb.reduce, fb.reduce), load(qb.mid, fb.mid), load(qb.expand, fb.expand)
        load(q.head, enc.head)
    q.set_codebook(float_model.vq.codebook)
    return q
