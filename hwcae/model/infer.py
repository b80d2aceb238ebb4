"""Batched NumPy-in / NumPy-out inference with a float CAE (microvolts in, microvolts out).

Symbols per spike are the codeword indices, then the gain stage's exponent code if the
architecture has one (:mod:`hwcae.fixedpoint.gain`)."""
from __future__ import annotations

import numpy as np
import torch

from hwcae.model.cae import CAE
from hwcae.fixedpoint.gain import GainSpec, denormalize, join, normalize, split


@torch.no_grad()
def encode_uv(model: CAE, spikes_uv: np.ndarray, batch: int = 4096) -> np.ndarray:
    """Symbols (N, S) int64 for spikes in uV (N, 4, 64): codeword indices, then the gain code."""
    spec = GainSpec.of(model.arch.gain)
    x, codes = normalize(spikes_uv, spec)
    model.eval()
    scale = model.arch.input_scale_uv
    out = [model.encode(torch.from_numpy(np.ascontiguousarray(x[i:i + batch], np.float32) / scale))
           for i in range(0, len(x), batch)]
    idx = torch.cat(out).numpy() if out else np.zeros((0, model.arch.indices_per_spike), np.int64)
    return join(idx, codes)


@torch.no_grad()
def decode_indices(model, indices: np.ndarray, batch: int = 4096) -> np.ndarray:
    """Decoder output in uV (N, 4, 64) float32 from codeword indices (N, L), before any gain undo."""
    model.eval()
    scale = model.arch.input_scale_uv
    out = [model.decode(torch.from_numpy(np.asarray(indices[i:i + batch], np.int64))) * scale
           for i in range(0, len(indices), batch)]
    return torch.cat(out).numpy().astype(np.float32) if out else np.zeros((0, 4, 64), np.float32)


def decode_uv(model, symbols: np.ndarray, batch: int = 4096) -> np.ndarray:
    """Reconstructed spikes in uV (N, 4, 64) float32 from symbols (N, S) (float or QAT model)."""
    spec = GainSpec.of(model.arch.gain)
    idx, codes = split(symbols, spec)
    return denormalize(decode_indices(model, idx, batch), codes, spec)
