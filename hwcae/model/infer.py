"""Batched NumPy-in / NumPy-out inference with a float CAE (microvolts in, microvolts out)."""
from __future__ import annotations

import numpy as np
import torch

from hwcae.model.cae import CAE


@torch.no_grad()
def encode_uv(model: CAE, spikes_uv: np.ndarray, batch: int = 4096) -> np.ndarray:
    """Codeword indices (N, L) int64 for spikes in uV (N, 4, 64)."""
    model.eval()
    scale = model.arch.input_scale_uv
    out = [model.encode(torch.from_numpy(np.ascontiguousarray(spikes_uv[i:i + batch], np.float32) / scale))
           for i in range(0, len(spikes_uv), batch)]
    return torch.cat(out).numpy() if out else np.zeros((0, model.arch.indices_per_spike), np.int64)


@torch.no_grad()
def decode_uv(model: CAE, indices: np.ndarray, batch: int = 4096) -> np.ndarray:
    """Reconstructed spikes in uV (N, 4, 64) float32 from indices (N, L)."""
    model.eval()
    scale = model.arch.input_scale_uv
    out = [model.decode(torch.from_numpy(np.asarray(indices[i:i + batch], np.int64))) * scale
           for i in range(0, len(indices), batch)]
    return torch.cat(out).numpy().astype(np.float32) if out else np.zeros((0, 4, 64), np.float32)
