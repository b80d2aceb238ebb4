"""The float compressive autoencoder: on-chip encoder, vector quantiser, off-chip decoder.

Built from an :class:`~hwcae.model.config.Arch`. Inputs are microvolts divided by the arch's fixed
``input_scale_uv`` (a power of two, i.e. a shift on chip); the decoder's output is in the same units.
"""
from __future__ import annotations

import torch
from torch import nn

from hwcae import N_CHANNELS, N_SAMPLES
from hwcae.model.config import Arch
from hwcae.model.vq import VectorQuantizer


def conv_bn(cin: int, cout: int, k: int, groups: int, bn: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv1d(cin, cout, k, padding=k // 2, groups=groups, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm1d(cout))
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):
    """1x1 (C->B) ReLU, k (B->B) ReLU, 1x1 (B->C); out = ReLU(x + f(x))."""

    def __init__(self, channels: int, bottleneck: int, kernel: int, groups: int, bn: bool, grouped: str = "all"):
        super().__init__()
        g1 = groups if grouped == "all" else 1  # the 1x1 convs' groups
        self.reduce = conv_bn(channels, bottleneck, 1, g1, bn)
        self.mid = conv_bn(bottleneck, bottleneck, kernel, groups, bn)
        self.expand = conv_bn(bottleneck, channels, 1, g1, bn)
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.relu(self.reduce(x))
        y = self.relu(self.mid(y))
        y = self.expand(y)
        return self.relu(x + y)


class Encoder(nn.Module):
    def __init__(self, arch: Arch):
        super().__init__()
        e = arch.encoder
        self.stem = conv_bn(N_CHANNELS, e.channels, e.stem_kernel, 1, e.batch_norm)
        self.relu = nn.ReLU()
        blocks = []
        for i, b in enumerate(e.blocks):
            if e.share_weights and i > 0:
                blocks.append(blocks[0])
            else:
                blocks.append(Bottleneck(e.channels, b.bottleneck, b.kernel, b.groups, e.batch_norm, b.grouped))
        self.blocks = nn.ModuleList(blocks)
        self.pools = [b.pool for b in e.blocks]
        self.head = conv_bn(e.channels, e.latent_dim, e.head_kernel, 1, e.batch_norm)

    def forward(self, x):
        x = self.relu(self.stem(x))
        for block, pool in zip(self.blocks, self.pools):
            x = block(x)
            if pool > 1:
                x = nn.functional.max_pool1d(x, pool)
        return self.head(x)


class Dense(nn.Sequential):
    """Flatten -> fully connected layers of widths ``hidden`` with ``act`` after each -> ``out_shape``."""

    def __init__(self, inputs: int, hidden: list[int], out_shape: tuple[int, int], act: type[nn.Module]):
        layers: list[nn.Module] = [nn.Flatten()]
        for width in hidden:
            layers += [nn.Linear(inputs, width), act()]
            inputs = width
        layers += [nn.Linear(inputs, out_shape[0] * out_shape[1]), nn.Unflatten(1, out_shape)]
        super().__init__(*layers)


def make_encoder(arch: Arch) -> nn.Module:
    """The on-chip encoder: the conv pattern, or fully connected ReLU layers (``kind: dense``)."""
    e = arch.encoder
    if e.kind == "dense":
        return Dense(N_CHANNELS * N_SAMPLES, e.hidden, (e.latent_dim, arch.latent_positions), nn.ReLU)
    return Encoder(arch)


class ResBlock(nn.Module):
    def __init__(self, ch: int, k: int):
        super().__init__()
        self.c1, self.c2 = conv_bn(ch, ch, k, 1, True), conv_bn(ch, ch, k, 1, True)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(x + self.c2(self.relu(self.c1(x))))


class DenseInput(nn.Module):
    """Latent (N, D, L) -> (N, C, L) through one fully connected layer over all D x L values."""

    def __init__(self, dim: int, positions: int, channels: int):
        super().__init__()
        self.shape = (channels, positions)
        self.fc = nn.Linear(dim * positions, channels * positions, bias=False)
        self.bn = nn.BatchNorm1d(channels * positions)

    def forward(self, q):
        return self.bn(self.fc(q.flatten(1))).view(len(q), *self.shape)


class Decoder(nn.Module):
    def __init__(self, arch: Arch):
        super().__init__()
        d, k = arch.decoder.channels, arch.decoder.kernel
        dim = arch.encoder.latent_dim * arch.latent_positions
        # the skip is created before a dense stack and after a conv one: the order in which the
        # committed checkpoints drew their initial weights, so `make train` reproduces them
        skip = (lambda: nn.Linear(dim, N_CHANNELS * N_SAMPLES) if arch.decoder.linear_skip else None)
        if arch.decoder.hidden:
            self.skip = skip()
            self.net = Dense(dim, arch.decoder.hidden, (N_CHANNELS, N_SAMPLES), nn.GELU)
            return
        if arch.decoder.input == "dense":
            first: nn.Module = DenseInput(arch.encoder.latent_dim, arch.latent_positions, d)
        else:
            first = conv_bn(arch.encoder.latent_dim, d, k, 1, True)
        layers: list[nn.Module] = [first, nn.ReLU()]
        for b in reversed(arch.encoder.blocks):
            if b.pool > 1:
                layers.append(nn.Upsample(scale_factor=b.pool, mode="nearest"))
            layers.append(ResBlock(d, k))
        layers.append(nn.Conv1d(d, N_CHANNELS, k, padding=k // 2))
        self.net = nn.Sequential(*layers)
        self.skip = skip()

    def forward(self, q):
        out = self.net(q)
        if self.skip is not None:
            out = out + self.skip(q.flatten(1)).view_as(out)
        return out


class CAE(nn.Module):
    """Encoder -> VQ -> decoder. ``forward`` returns (reconstruction, indices, vq loss)."""

    def __init__(self, arch: Arch):
        super().__init__()
        self.arch = arch
        self.encoder = make_encoder(arch)
        self.vq = VectorQuantizer(arch.vq.codebook_size, arch.vector_dim, arch.vq.beta,
                                  arch.vq.ema, arch.vq.decay, arch.vq.dead_restart)
        self.decoder = Decoder(arch)
        self.channel_vectors = arch.vq.axis == "channel"

    def vectors(self, z: torch.Tensor) -> torch.Tensor:
        """Latent (N, D, L) -> (N, vector_dim, indices_per_spike); its own inverse."""
        return z.transpose(1, 2) if self.channel_vectors else z

    def forward(self, x, quantize: bool = True):
        """``quantize=False`` bypasses the VQ (continuous latent; indices None, zero VQ loss)."""
        z = self.encoder(x)
        if not quantize:
            return self.decoder(z), None, z.new_zeros(())
        q, idx, vq_loss = self.vq(self.vectors(z))
        return self.decoder(self.vectors(q)), idx, vq_loss

    @torch.no_grad()
    def encode(self, x) -> torch.Tensor:
        """Codeword indices (N, indices_per_spike) for normalised input (N, 4, 64)."""
        from hwcae.model.vq import nearest_codeword

        return nearest_codeword(self.vectors(self.encoder(x)), self.vq.codebook)

    @torch.no_grad()
    def decode(self, idx) -> torch.Tensor:
        return self.decoder(self.vectors(self.vq.lookup(idx)))


@torch.no_grad()
def count_encoder_macs(model: CAE) -> int:
    """Multiply-accumulates per spike of the on-chip encoder plus the codeword search, counted on
    the model itself (a forward hook on every convolution and linear layer), whatever its kind."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv1d):
            total += output.shape[1] * output.shape[2] * module.in_channels // module.groups * module.kernel_size[0]
        else:
            total += module.in_features * module.out_features

    layers = [m for m in model.encoder.modules() if isinstance(m, (nn.Conv1d, nn.Linear))]
    hooks = [m.register_forward_hook(hook) for m in layers]
    was_training = model.training
    try:
        model.eval()
        model.encoder(torch.zeros(1, N_CHANNELS, N_SAMPLES))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    arch = model.arch
    return total + arch.indices_per_spike * arch.vector_dim * arch.vq.codebook_size
