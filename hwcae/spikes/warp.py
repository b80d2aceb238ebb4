"""Waveform warps of aligned snippets: a time shift and a stretch around the peak sample.

Both act on the last axis of a NumPy array or a torch tensor alike (the robustness sweep uses
them on NumPy spikes, training augmentation on torch batches).
"""
from __future__ import annotations

import numpy as np

from hwcae.spikes.spikeset import PEAK_SAMPLE


def shift(x, s: int):
    """Move the waveform ``s`` samples later (edge samples repeated)."""
    idx = np.clip(np.arange(x.shape[-1]) - s, 0, x.shape[-1] - 1)
    return x[..., idx]


def stretch(x, f: float):
    """Widen (f > 1) or narrow the waveform by ``f`` in time around the peak sample (linear interpolation)."""
    t = np.arange(x.shape[-1], dtype=np.float64)
    src = np.clip(PEAK_SAMPLE + (t - PEAK_SAMPLE) / f, 0, x.shape[-1] - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, x.shape[-1] - 1)
    w = (src - lo).astype(np.float32)
    if not isinstance(x, np.ndarray):  # a torch tensor: weights as a tensor of its dtype
        import torch

        w = torch.from_numpy(w).to(x.dtype)
    return x[..., lo] * (1 - w) + x[..., hi] * w
