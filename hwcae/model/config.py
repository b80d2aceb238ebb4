"""Model architecture as validated YAML (``hwcae/model/arch/*.yaml``).

The encoder is what goes on chip: fully connected ReLU layers (`dense`, the default), or a conv
stem, residual bottleneck blocks with max-pooling and a head to the latent (`conv`, the seed's
pattern); every layer is one hls4ml and Brevitas take (batch norm is folded before fixed point).
The decoder runs off-chip in float: a conv stack, or fully connected layers.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import pydantic

from hwcae import N_SAMPLES
from hwcae.config import Strict, load_layered, parse

ARCH_DIR = Path(__file__).parent / "arch"
PosInt = pydantic.PositiveInt
# Sane maxima: far above any useful setting, low enough that a typo cannot ask for terabytes
Width = pydantic.conint(ge=1, le=65536)  # channels, widths, latent dimensions
Kernel = pydantic.conint(ge=1, le=63)
Epochs = pydantic.conint(ge=1, le=10000)
Positive = pydantic.confloat(gt=0, le=1e6)  # microvolt scales and the like


class Block(Strict):
    """ResNeXt bottleneck: 1x1 (C->B), k (B->B), 1x1 (B->C); identity add; ReLU."""

    bottleneck: Width
    kernel: Kernel = 3
    groups: Width = 1
    # max-pool after the block; 4 and 8 give the seed's shape fewer latent vectors (its rate points)
    pool: Literal[1, 2, 4, 8] = 2
    # which convs `groups` applies to: `all` (the 1x1s too: `groups` paths that never mix until
    # the head) or `mid` (ResNeXt's own form: only the k-tap conv grouped, the 1x1s mix channels)
    grouped: Literal["all", "mid"] = "all"


class Encoder(Strict):
    # `conv`: stem, bottleneck blocks with max-pooling, head (the seed's pattern). `dense`: fully
    # connected layers of widths `hidden` (ReLU) from the flattened 4 x 64 spike to latent_dim x
    # `positions` values. Both go through QAT and HLS export.
    kind: Literal["conv", "dense"] = "conv"
    hidden: list[Width] = pydantic.Field([], max_length=64)
    positions: pydantic.conint(ge=1, le=N_SAMPLES) | None = None  # dense only: latent positions (conv: 64 / product of pools)
    channels: Width = 32
    stem_kernel: Kernel = 1
    # the head's kernel over latent positions: 1 = each latent vector sees only its own few input
    # samples; >= 2 x positions - 1 = every latent vector sees the whole spike (a global code)
    head_kernel: Kernel = 1
    blocks: list[Block] = pydantic.Field([], max_length=6)
    share_weights: bool = False  # the seed applies one bottleneck twice
    batch_norm: bool = True
    latent_dim: Width = 16

    @pydantic.model_validator(mode="after")
    def _check(self):
        if self.kind == "dense" and (not self.hidden or self.positions is None or self.blocks):
            raise ValueError("a dense encoder needs hidden widths and positions, and no blocks")
        if self.kind == "conv" and (self.hidden or self.positions is not None):
            raise ValueError("hidden and positions belong to dense encoders (kind: dense)")
        for i, b in enumerate(self.blocks):
            if self.channels % b.groups or b.bottleneck % b.groups:
                raise ValueError(f"block {i}: groups={b.groups} must divide channels and bottleneck")
            if b.kernel % 2 == 0:
                raise ValueError(f"block {i}: kernel must be odd (same padding)")
        if self.stem_kernel % 2 == 0 or self.head_kernel % 2 == 0:
            raise ValueError("stem_kernel and head_kernel must be odd")
        if self.share_weights and len({b.model_copy(update={"pool": 1}) for b in self.blocks}) != 1:
            raise ValueError("share_weights needs identical blocks (their pooling may differ)")
        if self.share_weights and self.batch_norm:
            # one batch norm serving both uses blends two different activation statistics: on one
            # recording the seed's model lost 3.3 dB with it (14.66 vs 18.05 dB without BN; issue 28)
            raise ValueError("share_weights needs batch_norm: false (one batch norm cannot serve both uses "
                             "of the shared block; its convolutions carry biases instead)")
        return self


class VQ(Strict):
    codebook_size: pydantic.conint(ge=2, le=65536) = 128  # indices are sent as 16-bit words at most
    # which latent axis forms the vectors: `position` = the D-dim vector at each latent position
    # (L indices per spike); `channel` = each latent channel's L-sample row, as the seed does
    # (D indices per spike)
    axis: Literal["position", "channel"] = "position"
    beta: pydantic.confloat(gt=0, le=100) = 0.25  # commitment weight
    ema: bool = True  # EMA codebook updates (else a codebook loss term)
    decay: float = pydantic.Field(0.99, gt=0, lt=1)
    dead_restart: bool = True  # re-seed unused codewords from the batch


class Decoder(Strict):
    channels: Width = 64
    kernel: Kernel = 3
    # first layer: `conv` (a k-tap conv over latent positions) or `dense` (every codeword of the
    # spike feeds every position: a fully connected layer over the flattened latent)
    input: Literal["conv", "dense"] = "conv"
    # add a linear map from the whole latent straight to the 4 x 64 output beside the conv stack:
    # the best linear (PCA-like) reconstruction is then one layer away, the convs add the rest
    linear_skip: bool = False
    # widths of fully connected hidden layers (GELU) from the flattened latent to the 4 x 64 output,
    # replacing the conv stack (channels, kernel and input then unused); [] = the conv stack
    hidden: list[Width] = pydantic.Field([], max_length=64)


class BandPass(Strict):
    """The recorder's band-pass as a training augmentation (:mod:`hwcae.spikes.recorder_filter`): with
    probability ``p`` per spike the clean target is filtered by one of ``bank`` Butterworth band-passes
    drawn once (seeded): order in ``order``, cut-offs log-uniform in ``low_hz`` / ``high_hz`` (Hz) at a
    sampling rate uniform in ``fs_hz`` (Hz), phase one of ``phase`` (`zero`: filtfilt; `causal`)."""

    p: pydantic.confloat(ge=0, le=1) = 0.5
    phase: list[Literal["zero", "causal"]] = pydantic.Field(["zero"], min_length=1)
    order: tuple[pydantic.conint(ge=1, le=8), pydantic.conint(ge=1, le=8)] = (1, 3)
    low_hz: tuple[Positive, Positive] = (100.0, 500.0)
    high_hz: tuple[Positive, Positive] = (3000.0, 10000.0)
    fs_hz: tuple[Positive, Positive] = (20000.0, 40000.0)
    bank: pydantic.conint(ge=1, le=65536) = 512
    seed: pydantic.conint(ge=0) = 12345

    @pydantic.model_validator(mode="after")
    def _check_ranges(self):
        for name in ("order", "low_hz", "high_hz", "fs_hz"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"augment_bandpass.{name} must be low <= high, got {[lo, hi]}")
        if self.low_hz[1] >= self.high_hz[0]:
            raise ValueError(f"augment_bandpass: low_hz {list(self.low_hz)} must lie below high_hz {list(self.high_hz)}")
        if self.high_hz[0] >= 0.45 * self.fs_hz[0]:
            raise ValueError(f"augment_bandpass: high_hz {list(self.high_hz)} must lie below 0.45 x fs_hz {list(self.fs_hz)}")
        return self


class Train(Strict):
    epochs: Epochs = 40
    batch_size: pydantic.conint(ge=1, le=1 << 20) = 128
    lr: pydantic.confloat(gt=0, le=10) = 1e-3
    weight_decay: float = pydantic.Field(1e-5, ge=0, le=1)
    patience: Epochs = 8
    denoise: bool = True  # clean target where the data has a clean twin
    augment_shift: int = pydantic.Field(2, ge=0, le=8)  # random shift (samples), input and target alike
    augment_scale: tuple[float, float] = (0.8, 1.25)  # random amplitude factor range
    # extra white Gaussian noise on the input only (the target stays clean): per spike, a standard
    # deviation drawn uniformly from this range in uV; (0, 0) = none. Widens the noise levels the
    # denoiser has seen beyond the training recordings' own.
    augment_noise_uv: tuple[float, float] = (0.0, 0.0)
    # random width factor per batch, around the peak sample, drawn log-uniformly from this range
    # (a spike recorded at another sampling rate is wider or narrower in samples); applied to the
    # clean waveform, the input keeps its own noise unstretched; (1, 1) = none
    augment_stretch: tuple[float, float] = (1.0, 1.0)
    # `mse`: mean squared error (large spikes dominate); `sse`: the squared error summed over the
    # spike's 4 x 64 samples, mean over the batch (the seed's sum-MSE: 256x the weight of `mse`
    # against the VQ loss); `nmse`: each spike's squared error over its own energy; `db`: minus the
    # mean per-spike SNDR in dB, the reported metric itself
    loss: Literal["mse", "sse", "nmse", "db"] = "mse"
    # epochs trained with the VQ bypassed (continuous latent) before the codebook is fitted by
    # k-means on the encoder's latents and quantised training begins; 0 = quantise from the start
    vq_warmup_epochs: int = pydantic.Field(0, ge=0, le=10000)
    # after the joint training: epochs of the decoder alone, encoder and codebook frozen (off chip
    # only, the indices stay bit-identical; hwcae/model/refit.py), at this fraction of `lr`; 0 = none
    decoder_refit_epochs: int = pydantic.Field(0, ge=0, le=10000)
    decoder_refit_lr: pydantic.confloat(gt=0, le=10) = 0.1
    # the recorder's band-pass on the clean waveform (the input keeps its own noise); None = off
    augment_bandpass: BandPass | None = None

    @pydantic.model_serializer(mode="wrap")
    def _omit_unset(self, handler):
        # an arch without the band-pass dumps as before the option existed, so checkpoints trained
        # without it keep their content hash (make train reproduces them byte for byte)
        d = handler(self)
        if d.get("augment_bandpass") is None:
            d.pop("augment_bandpass", None)
        return d

    @pydantic.model_validator(mode="after")
    def _check_ranges(self):
        lo, hi = self.augment_scale
        if not 0 < lo <= hi <= 100:
            raise ValueError(f"augment_scale must be 0 < low <= high <= 100, got {list(self.augment_scale)}")
        lo, hi = self.augment_stretch
        if not 0.25 <= lo <= hi <= 4:
            raise ValueError(f"augment_stretch must be 0.25 <= low <= high <= 4, got {list(self.augment_stretch)}")
        lo, hi = self.augment_noise_uv
        if not 0 <= lo <= hi <= 1e4:
            raise ValueError(f"augment_noise_uv must be 0 <= low <= high <= 10000 (uV), got {list(self.augment_noise_uv)}")
        return self


class Gain(Strict):
    """Per-spike power-of-two gain ahead of the encoder (:mod:`hwcae.fixedpoint.gain`): the trough is
    shifted into [target_uv, 2 x target_uv); a ``bits``-wide exponent code (troughs from min_uv to
    min_uv x 2^(2^bits)) travels beside the codeword indices."""

    bits: pydantic.conint(ge=1, le=4) = 3
    min_uv: Positive = 8.0
    target_uv: Positive = 128.0

    @pydantic.model_validator(mode="after")
    def _pow2(self):
        import math

        for name in ("min_uv", "target_uv"):
            v = math.log2(getattr(self, name))
            if v != round(v):
                raise ValueError(f"gain.{name} must be a power of two (uV), got {getattr(self, name)}")
        return self


class Arch(Strict):
    name: str
    description: str = ""
    input_scale_uv: Positive = 256.0  # x_model = x_uV / input_scale_uv (a power of two: a shift)
    gain: Gain | None = None  # per-spike gain stage before the encoder; None = none
    encoder: Encoder
    vq: VQ = VQ()
    decoder: Decoder = Decoder()
    train: Train = Train()

    @pydantic.model_validator(mode="after")
    def _check(self):
        if N_SAMPLES % self.latent_positions:
            raise ValueError("pooling must divide the 64 samples")
        if self.gain is not None and 2**self.gain.bits > self.vq.codebook_size:
            raise ValueError("gain.bits: the gain code shares the coders' alphabet, so 2^bits must not exceed "
                             "the codebook size")
        return self

    @property
    def latent_positions(self) -> int:
        if self.encoder.kind == "dense":
            return self.encoder.positions
        n = N_SAMPLES
        for b in self.encoder.blocks:
            n //= b.pool
        return n

    @property
    def indices_per_spike(self) -> int:
        return self.latent_positions if self.vq.axis == "position" else self.encoder.latent_dim

    @property
    def vector_dim(self) -> int:
        return self.encoder.latent_dim if self.vq.axis == "position" else self.latent_positions

    @property
    def symbols_per_spike(self) -> int:
        """Symbols coded per spike: the codeword indices, plus the gain's exponent code if any."""
        return self.indices_per_spike + (self.gain is not None)

    @property
    def bits_per_spike_fixed(self) -> float:
        """Fixed-length bits per spike: vectors per spike x log2(codebook size), plus the gain code."""
        import math

        return self.indices_per_spike * math.log2(self.vq.codebook_size) + (self.gain.bits if self.gain else 0)


def load_arch(name_or_path: str) -> Arch:
    """An arch by name (``hwcae/model/arch/<name>.yaml``) or path; ``base: <name>`` in a file lays it on
    another (the sweep points say only how they differ from ``default`` / ``paper``)."""
    return load_layered(Arch, name_or_path, ARCH_DIR)


def arch_from_dict(d: dict, source: str = "checkpoint") -> Arch:
    return parse(Arch, d, source)
