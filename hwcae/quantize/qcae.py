"""The quantisation-aware encoders (Brevitas) and the fixed-point codeword search.

Built from the same architecture YAML as the float model plus a design YAML. Layer names
(``stem``, ``block0.reduce``, ..., ``head`` for conv encoders; ``fc0``, ``fc1``, ..., ``head`` for
dense ones) are the keys of per-layer overrides in the design, of the exported reference weights
and of the cost report.

Conv graph (what goes on chip)::

    x_uV/scale -> inp (ADC word) -> stem conv -> ReLU_q
      -> [reduce conv -> ReLU_q -> mid conv -> ReLU_q -> expand conv -> addq(x) + addq(y) -> ReLU_q -> maxpool] x B
      -> head conv -> latent_q -> score conv (codebook as weights, -||e||^2/2 as bias) -> argmax

``addq`` is one quantiser shared by both operands of the residual add, so the sum is exact.

Dense graph: the spike arrives sample by sample, 4 channels interleaved (the ADC order, index
t x 4 + c), and the head writes the latent position-major (index p x D + d), so neither end
needs a transpose on chip::

    x_flat/scale -> inp -> [fc -> ReLU_q] x H -> head fc -> latent_q -> (D, L) -> score conv -> argmax
"""
from __future__ import annotations

import brevitas.nn as qnn
import torch
from torch import nn

from hwcae import N_CHANNELS, N_SAMPLES
from hwcae.errors import HwcaeError
from hwcae.model.config import Arch
from hwcae.quantize import recipes
from hwcae.quantize.design import Design


def _conv(cin, cout, k, w_bits, b_bits, groups=1):
    return qnn.QuantConv1d(cin, cout, k, padding=k // 2, groups=groups, bias=True, weight_quant=recipes.weight_quant(w_bits),
                           bias_quant=recipes.bias_quant(b_bits), return_quant_tensor=True)


def _linear(cin, cout, w_bits, b_bits):
    return qnn.QuantLinear(cin, cout, bias=True, weight_quant=recipes.weight_quant(w_bits),
                           bias_quant=recipes.bias_quant(b_bits), return_quant_tensor=True)


def _relu(bits):
    return qnn.QuantReLU(act_quant=recipes.act_quant(bits, signed=False), return_quant_tensor=True)


class QuantBlock(nn.Module):
    """The bottleneck in fixed point; ``groups`` as the float block's (``grouped``: which convs)."""

    def __init__(self, name: str, channels: int, bottleneck: int, kernel: int, d: Design,
                 groups: int = 1, grouped: str = "all"):
        super().__init__()
        wb, ab = (lambda layer: d.bits_for(f"{name}.{layer}", "weights")), (lambda layer: d.bits_for(f"{name}.{layer}", "activations"))
        g1 = groups if grouped == "all" else 1
        self.reduce = _conv(channels, bottleneck, 1, wb("reduce"), d.bias_bits, g1)
        self.reduce_act = _relu(ab("reduce"))
        self.mid = _conv(bottleneck, bottleneck, kernel, wb("mid"), d.bias_bits, groups)
        self.mid_act = _relu(ab("mid"))
        self.expand = _conv(bottleneck, channels, 1, wb("expand"), d.bias_bits, g1)
        self.add_q = qnn.QuantIdentity(act_quant=recipes.act_quant(ab("expand"), signed=True), return_quant_tensor=True)
        self.out_act = _relu(ab("add"))

    def forward(self, x):
        y = self.mid_act(self.mid(self.reduce_act(self.reduce(x))))
        y = self.expand(y)
        s = self.add_q(x) + self.add_q(y)
        return self.out_act(s)


class _QuantEncoderBase(nn.Module):
    """What both encoders share: the ADC input word, the latent word and the codeword search.

    ``latent(x)`` maps normalised spikes (N, 4, 64) to the latent QuantTensor (N, D, L);
    ``scores(z)`` gives (N, K, L); ``forward`` the indices (N, L)."""

    kind = ""

    def __init__(self, arch: Arch, design: Design):
        super().__init__()
        if arch.vq.axis != "position":
            raise HwcaeError("the fixed-point codeword search supports vq.axis: position only")
        self.arch, self.design = arch, design
        full_scale = design.input.range_uv / arch.input_scale_uv
        design.input_frac_bits(arch.input_scale_uv)  # validates the power of two
        self.inp = qnn.QuantIdentity(act_quant=recipes.input_quant(design.input.bits, full_scale), return_quant_tensor=True)
        self.latent_q = qnn.QuantIdentity(act_quant=recipes.act_quant(design.latent_bits, signed=True),
                                          return_quant_tensor=True)
        k, d = arch.vq.codebook_size, arch.encoder.latent_dim
        self.score = qnn.QuantConv1d(d, k, 1, bias=True, weight_quant=recipes.weight_quant(design.codebook_bits),
                                     bias_quant=None, return_quant_tensor=False)

    @torch.no_grad()
    def set_codebook(self, codebook: torch.Tensor) -> None:
        """Codebook (K, D) -> scoring weights; bias = -||e_q||^2 / 2 of the *quantised* codewords."""
        self.score.weight.copy_(codebook.reshape(self.score.weight.shape))
        self.score.bias.copy_(-0.5 * (self.codebook_q() ** 2).sum(1))

    def codebook_q(self) -> torch.Tensor:
        """The quantised codebook (K, D) as the chip holds it (dequantised values)."""
        w = self.score.quant_weight().value.detach()
        return w.reshape(w.shape[0], w.shape[1])

    def scores(self, z):
        """Codeword scores (N, K, L) of latent values (N, D, L): z.e_k - ||e_k||^2 / 2."""
        return self.score(z)

    def forward(self, x):
        return torch.argmax(self.scores(self.latent(x).value), dim=1)


class QuantEncoder(_QuantEncoderBase):
    """The conv encoder in fixed point + codeword search. Grouped convolutions stay grouped
    (Brevitas and QONNX take them; the HLS export maps them to hwcae's grouped-conv layer); with
    ``share_weights`` one block module is applied at every block position, as in the float model
    (its convolutions, quantisers and words are one; each use has its own bias codes, at its
    input's scale)."""

    kind = "conv"

    def __init__(self, arch: Arch, design: Design, codebook: torch.Tensor):
        super().__init__(arch, design)
        e = arch.encoder
        self.stem = _conv(N_CHANNELS, e.channels, e.stem_kernel, design.bits_for("stem", "weights"), design.bias_bits)
        self.stem_act = _relu(design.bits_for("stem", "activations"))
        blocks = []
        for i, b in enumerate(e.blocks):
            shared = e.share_weights and i > 0
            blocks.append(blocks[0] if shared else QuantBlock(f"block{i}", e.channels, b.bottleneck, b.kernel, design,
                                                              b.groups, b.grouped))
        self.blocks = nn.ModuleList(blocks)
        self.pools = [b.pool for b in e.blocks]
        self.head = _conv(e.channels, e.latent_dim, e.head_kernel, design.bits_for("head", "weights"), design.bias_bits)
        self.set_codebook(codebook)

    def latent(self, x):
        x = self.stem_act(self.stem(self.inp(x)))
        for block, pool in zip(self.blocks, self.pools):
            x = block(x)
            if pool > 1:
                x = nn.functional.max_pool1d(x, pool)
        return self.latent_q(self.head(x))

    def layer(self, name: str) -> nn.Module:
        """The weight layer called ``name`` (one of :meth:`layer_names`)."""
        if "." in name:
            b, layer = name.split(".")
            return getattr(self.blocks[int(b[5:])], layer)
        return getattr(self, name)

    def layer_names(self) -> list[str]:
        names = ["stem"]
        for i in range(len(self.blocks)):
            names += [f"block{i}.reduce", f"block{i}.mid", f"block{i}.expand"]
        return names + ["head"]

    def act_quantizers(self) -> dict[str, nn.Module]:
        """Activation word name -> its quantiser (the names of the fixed-point formats)."""
        named = {"input": self.inp, "stem": self.stem_act, "latent": self.latent_q}
        for i, b in enumerate(self.blocks):
            named.update({f"block{i}.reduce": b.reduce_act, f"block{i}.mid": b.mid_act,
                          f"block{i}.add_in": b.add_q, f"block{i}.add": b.out_act})
        return named

    def fixed_point_graph(self) -> list[tuple]:
        """The wiring of :meth:`latent` as steps for :func:`hwcae.quantize.extract.extract`."""
        steps = [("conv", "stem", "input", "stem.acc"), ("quant", "stem", "stem.acc", "stem", True)]
        x = "stem"
        for i, block in enumerate(self.blocks):
            n = f"block{i}"
            steps += [("conv", f"{n}.reduce", x, f"{n}.reduce.acc"), ("quant", f"{n}.reduce", f"{n}.reduce.acc", f"{n}.reduce", True),
                      ("conv", f"{n}.mid", f"{n}.reduce", f"{n}.mid.acc"), ("quant", f"{n}.mid", f"{n}.mid.acc", f"{n}.mid", True),
                      ("conv", f"{n}.expand", f"{n}.mid", f"{n}.expand.acc"),
                      ("quant", f"{n}.add_in", x, f"{n}.skip", False),
                      ("quant", f"{n}.add_in", f"{n}.expand.acc", f"{n}.branch", False),
                      ("add", (f"{n}.skip", f"{n}.branch"), f"{n}.sum"), ("quant", f"{n}.add", f"{n}.sum", f"{n}.add", True)]
            x = f"{n}.add"
            if self.pools[i] > 1:
                steps.append(("pool", x, f"{n}.pool", self.pools[i]))
                x = f"{n}.pool"
        return steps + [("conv", "head", x, "head.acc"), ("quant", "latent", "head.acc", "latent", False)]

    def export_view(self) -> tuple[nn.Module, torch.Tensor]:
        """(module, example input) that QONNX export traces: this encoder, channels first. A shared
        block is exported as one copy per use: Brevitas' export handler keeps the first call's bias
        scale for every later call of a module (brevitas 0.12), but each use's bias is quantised
        at its own input's scale; the weights stay identical and the HLS projects store them once."""
        if not self.arch.encoder.share_weights:
            return self, torch.zeros(1, N_CHANNELS, N_SAMPLES)
        import copy

        view = copy.deepcopy(self)
        view.blocks = nn.ModuleList(copy.deepcopy(self.blocks[0]) for _ in self.blocks)
        return view.eval(), torch.zeros(1, N_CHANNELS, N_SAMPLES)

    @staticmethod
    def to_export_layout(x_norm):
        return x_norm


class QuantDenseEncoder(_QuantEncoderBase):
    """The fully connected encoder in fixed point + codeword search (sample-major input,
    position-major latent; see the module docstring)."""

    kind = "dense"

    def __init__(self, arch: Arch, design: Design, codebook: torch.Tensor):
        super().__init__(arch, design)
        e = arch.encoder
        widths = [N_CHANNELS * N_SAMPLES, *e.hidden]
        self.fcs = nn.ModuleList(_linear(a, b, design.bits_for(f"fc{i}", "weights"), design.bias_bits)
                                 for i, (a, b) in enumerate(zip(widths, widths[1:])))
        self.acts = nn.ModuleList(_relu(design.bits_for(f"fc{i}", "activations")) for i in range(len(e.hidden)))
        self.positions, self.dim = arch.latent_positions, e.latent_dim
        self.head = _linear(widths[-1], self.positions * self.dim, design.bits_for("head", "weights"), design.bias_bits)
        self.set_codebook(codebook)

    def flat_latent(self, x_flat):
        """(N, 256) sample-major input -> latent QuantTensor (N, L x D), position-major."""
        x = self.inp(x_flat)
        for fc, act in zip(self.fcs, self.acts):
            x = act(fc(x))
        return self.latent_q(self.head(x))

    def latent_from_flat(self, x_flat):
        """(N, 256) sample-major input -> latent QuantTensor (N, D, L)."""
        return self.flat_latent(x_flat).view(-1, self.positions, self.dim).transpose(1, 2)

    def latent(self, x):
        return self.latent_from_flat(self.to_export_layout(x))

    def layer(self, name: str) -> nn.Module:
        return self.fcs[int(name[2:])] if name.startswith("fc") else self.head

    def layer_names(self) -> list[str]:
        return [f"fc{i}" for i in range(len(self.fcs))] + ["head"]

    def act_quantizers(self) -> dict[str, nn.Module]:
        named = {"input": self.inp, "latent": self.latent_q}
        named.update({f"fc{i}": act for i, act in enumerate(self.acts)})
        return named

    def fixed_point_graph(self) -> list[tuple]:
        """The wiring of :meth:`latent` as steps for :func:`hwcae.quantize.extract.extract`: the
        spike flattened sample-major (t x 4 + c), the head's output split position-major."""
        steps, x = [("reshape", "input", "flat", 1)], "flat"
        for i in range(len(self.fcs)):
            steps += [("conv", f"fc{i}", x, f"fc{i}.acc"), ("quant", f"fc{i}", f"fc{i}.acc", f"fc{i}", True)]
            x = f"fc{i}"
        return steps + [("conv", "head", x, "head.acc"), ("quant", "latent", "head.acc", "latent.flat", False),
                        ("reshape", "latent.flat", "latent", self.positions)]

    def export_view(self) -> tuple[nn.Module, torch.Tensor]:
        """(module, example input) that QONNX export traces: sample-major input, indices out."""
        return _FlatSearch(self), torch.zeros(1, N_CHANNELS * N_SAMPLES)

    @staticmethod
    def to_export_layout(x_norm):
        """Spikes (N, 4, 64) -> the chip's input order (N, 256): sample-major, channels interleaved."""
        return x_norm.swapaxes(1, 2).reshape(len(x_norm), -1)  # numpy or torch


class _FlatSearch(nn.Module):
    """What the dense chip computes, as one traceable graph: flat input -> indices (N, L)."""

    def __init__(self, enc: QuantDenseEncoder):
        super().__init__()
        self.enc = enc

    def forward(self, x_flat):
        return torch.argmax(self.enc.score(self.enc.latent_from_flat(x_flat)), dim=1)
