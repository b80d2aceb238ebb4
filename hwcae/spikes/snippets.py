"""Cutting aligned 4-channel snippets out of multichannel traces (shared by every reader).

Each snippet is (4, 64): the best channel first, then its three nearest neighbours on the probe;
the best channel's negative peak sits at sample :data:`~hwcae.spikes.spikeset.PEAK_SAMPLE`.
"""
from __future__ import annotations

import numpy as np

from hwcae import N_CHANNELS, N_SAMPLES
from hwcae.spikes.spikeset import PEAK_SAMPLE


def nearest_channels(positions_um: np.ndarray, best: int, k: int = N_CHANNELS) -> np.ndarray:
    """The ``k`` channels nearest to ``best`` (itself first), ties broken by channel index.

    With fewer than ``k`` channels the list repeats the nearest ones, so a single-channel
    recording fills all four rows with the same waveform.
    """
    positions_um = np.asarray(positions_um, dtype=np.float64)
    d = np.linalg.norm(positions_um - positions_um[best], axis=1)
    order = np.lexsort((np.arange(len(d)), d))
    return np.resize(order, k)


def neighbour_table(positions_um: np.ndarray, k: int = N_CHANNELS) -> np.ndarray:
    """(C, k) table: row c lists channel c and its k-1 nearest neighbours."""
    return np.stack([nearest_channels(positions_um, c, k) for c in range(len(positions_um))])


def cut_snippets(traces: np.ndarray, peak_frames: np.ndarray, channels: np.ndarray) -> np.ndarray:
    """Cut (N, 4, 64) snippets; ``traces`` is (samples, channels), ``channels`` is (N, 4).

    Sample ``PEAK_SAMPLE`` of each snippet is ``peak_frames[i]``. Callers drop spikes whose window
    leaves the traces (see :func:`inside`).
    """
    offsets = np.arange(N_SAMPLES) - PEAK_SAMPLE
    rows = peak_frames[:, None, None] + offsets[None, None, :]  # (N, 1, 64)
    cols = channels[:, :, None]  # (N, 4, 1)
    return traces[rows, cols].astype(np.float32)


def inside(peak_frames: np.ndarray, n_frames: int) -> np.ndarray:
    """Mask of peaks whose whole 64-sample window lies within ``n_frames``."""
    return (peak_frames - PEAK_SAMPLE >= 0) & (peak_frames - PEAK_SAMPLE + N_SAMPLES <= n_frames)


def align_to_minimum(trace: np.ndarray, frames: np.ndarray, search: tuple[int, int]) -> np.ndarray:
    """Move each frame to the most negative sample of ``trace`` within [frame+lo, frame+hi)."""
    lo, hi = search
    idx = frames[:, None] + np.arange(lo, hi)[None, :]
    idx = np.clip(idx, 0, len(trace) - 1)
    return idx[np.arange(len(frames)), np.argmin(trace[idx], axis=1)]
