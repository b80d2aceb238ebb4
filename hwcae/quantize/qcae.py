"""The quantisation-aware encoder (Brevitas) and the fixed-point codeword search.

Built from the same architecture YAML as the float model plus a design YAML. Layer names
(``stem``, ``block0.reduce``, ..., ``head``) are the keys of per-layer overrides in the design,
of the exported reference weights and of the cost report.

Graph (what goes on chip)::

    x_uV/scale -> inp (ADC word) -> stem conv -> ReLU_q
      -> [reduce conv -> ReLU_q -> mid conv -> ReLU_q -> expand conv -> addq(x) + addq(y) -> ReLU_q -> maxpool] x B
      -> head conv -> latent_q -> score conv (codebook as weights, -||e||^2/2 as bias) -> argmax

``addq`` is one quantiser shared by both operands of the residual add, so the sum is exact.
"""
from __future__ import annotations

import brevitas.nn as qnn
import torch
from torch import nn

from hwcae import N_CHANNELS
from hwcae.errors import HwcaeError
from hwcae.model.config import Arch
from hwcae.quantize import recipes
from hwcae.quantize.design import Design


def _conv(cin, cout, k, w_bits, b_bits):
    return qnn.QuantConv1d(cin, cout, k, padding=k // 2, bias=True, weight_quant=recipes.weight_quant(w_bits),
                           bias_quant=recipes.bias_quant(b_bits), return_quant_tensor=True)


def _relu(bits):
    return qnn.QuantReLU(act_quant=recipes.act_quant(bits, signed=False), return_quant_tensor=True)


class QuantBlock(nn.Module):
    def __init__(self, name: str, channels: int, bottleneck: int, kernel: int, pool: int, d: Design):
        super().__init__()
        wb, ab = (lambda layer: d.bits_for(f"{name}.{layer}", "weights")), (lambda layer: d.bits_for(f"{name}.{layer}", "activations"))
        self.reduce = _conv(channels, bottleneck, 1, wb("reduce"), d.bias_bits)
        self.reduce_act = _relu(ab("reduce"))
        self.mid = _conv(bottleneck, bottleneck, kernel, wb("mid"), d.bias_bits)
        self.mid_act = _relu(ab("mid"))
        self.expand = _conv(bottleneck, channels, 1, wb("expand"), d.bias_bits)
        self.add_q = qnn.QuantIdentity(act_quant=recipes.act_quant(ab("expand"), signed=True), return_quant_tensor=True)
        self.out_act = _relu(ab("add"))
        self.pool = nn.MaxPool1d(pool) if pool > 1 else nn.Identity()

    def forward(self, x):
        y = self.mid_act(self.mid(self.reduce_act(self.reduce(x))))
        y = self.expand(y)
        s = self.add_q(x) + self.add_q(y)
        return self.pool(self.out_act(s))


class QuantEncoder(nn.Module):
    """Fixed-point encoder + codeword search. ``forward`` gives indices; ``latent`` the codes."""

    def __init__(self, arch: Arch, design: Design, codebook: torch.Tensor):
        super().__init__()
        e = arch.encoder
        if e.kind != "conv":
            raise HwcaeError(f"design {design.name}: architecture {arch.name!r} has a {e.kind} encoder; "
                             "QAT and HLS export take conv encoders only so far")
        if any(b.groups != 1 for b in e.blocks) or e.share_weights:
            raise HwcaeError(f"design {design.name}: architecture {arch.name!r} has grouped or shared convolutions, "
                             "which hls4ml does not take; quantise an ungrouped architecture")
        if arch.vq.axis != "position":
            raise HwcaeError("the fixed-point codeword search supports vq.axis: position only")
        self.arch, self.design = arch, design
        full_scale = design.input.range_uv / arch.input_scale_uv
        design.input_frac_bits(arch.input_scale_uv)  # validates the power of two
        self.inp = qnn.QuantIdentity(act_quant=recipes.input_quant(design.input.bits, full_scale), return_quant_tensor=True)
        self.stem = _conv(N_CHANNELS, e.channels, e.stem_kernel, design.bits_for("stem", "weights"), design.bias_bits)
        self.stem_act = _relu(design.bits_for("stem", "activations"))
        self.blocks = nn.ModuleList(QuantBlock(f"block{i}", e.channels, b.bottleneck, b.kernel, b.pool, design)
                                    for i, b in enumerate(e.blocks))
        self.head = _conv(e.channels, e.latent_dim, e.head_kernel, design.bits_for("head", "weights"), design.bias_bits)
        self.latent_q = qnn.QuantIdentity(act_quant=recipes.act_quant(design.latent_bits, signed=True),
                                          return_quant_tensor=True)
        k = codebook.shape[0]
        self.score = qnn.QuantConv1d(e.latent_dim, k, 1, bias=True, weight_quant=recipes.weight_quant(design.codebook_bits),
                                     bias_quant=None, return_quant_tensor=False)
        self.set_codebook(codebook)

    @torch.no_grad()
    def set_codebook(self, codebook: torch.Tensor) -> None:
        """Codebook (K, D) -> scoring weights; bias = -||e_q||^2 / 2 of the *quantised* codewords."""
        self.score.weight.copy_(codebook[:, :, None])
        self.score.bias.copy_(-0.5 * (self.codebook_q() ** 2).sum(1))

    def codebook_q(self) -> torch.Tensor:
        """The quantised codebook (K, D) as the chip holds it (dequantised values)."""
        return self.score.quant_weight().value[:, :, 0].detach()

    def latent(self, x):
        x = self.stem_act(self.stem(self.inp(x)))
        for block in self.blocks:
            x = block(x)
        return self.latent_q(self.head(x))

    def forward(self, x):
        return torch.argmax(self.score(self.latent(x)), dim=1)

    def layer_names(self) -> list[str]:
        names = ["stem"]
        for i in range(len(self.blocks)):
            names += [f"block{i}.reduce", f"block{i}.mid", f"block{i}.expand"]
        return names + ["head"]

    def conv(self, name: str) -> qnn.QuantConv1d:
        if "." in name:
            b, layer = name.split(".")
            return getattr(self.blocks[int(b[5:])], layer)
        return getattr(self, name)


@torch.no_grad()
def from_float(arch: Arch, design: Design, float_model) -> QuantEncoder:
    """A QAT encoder initialised from a float CAE, batch norm folded into the convolutions."""
    from hwcae.quantize.fold import folded_conv

    q = QuantEncoder(arch, design, float_model.vq.codebook.detach().clone())
    enc = float_model.encoder

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
