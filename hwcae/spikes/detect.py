"""Threshold spike detection on multichannel traces (for users' own recordings).

Noise per channel is the robust estimate ``median(|x|) / 0.6745`` (Quiroga et al. 2004); a spike
is a negative local minimum below ``-threshold x noise`` that is the most negative sample within
``exclusion_ms`` in time and ``radius_um`` in space ("locally exclusive"), so one spike seen on
several channels is detected once, on its best channel.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import minimum_filter1d


def noise_levels_uv(traces: np.ndarray) -> np.ndarray:
    """Robust per-channel noise standard deviation (uV) of (samples, channels) traces."""
    return np.median(np.abs(traces - np.median(traces, axis=0)), axis=0) / 0.6745


def detect_peaks(traces: np.ndarray, fs_hz: float, positions_um: np.ndarray, *, threshold: float = 5.0,
                 exclusion_ms: float = 0.5, radius_um: float = 50.0,
                 noise_uv: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(peak frames, best channels) of detected spikes, sorted by frame."""
    noise = noise_levels_uv(traces) if noise_uv is None else np.asarray(noise_uv)
    w = max(1, int(round(exclusion_ms * 1e-3 * fs_hz)))
    # temporal local minimum per channel
    tmin = minimum_filter1d(traces, size=2 * w + 1, axis=0, mode="nearest")
    # spatial: the minimum over neighbours within radius
    d = np.linalg.norm(positions_um[:, None, :] - positions_um[None, :, :], axis=2)
    neigh = d <= radius_um
    live = noise > 0  # a flat (dead or unconnected) channel has no noise and no spikes
    frames, chans = np.nonzero((traces <= -threshold * noise) & (traces == tmin) & live)
    if len(frames) == 0:
        return frames.astype(np.int64), chans.astype(np.int64)
    keep = np.ones(len(frames), bool)
    amp = traces[frames, chans]
    # a candidate survives if no neighbouring channel is more negative within +-w samples
    for c in range(traces.shape[1]):
        sel = np.flatnonzero(chans == c)
        if len(sel) == 0:
            continue
        nb = np.flatnonzero(neigh[c])
        local_min = tmin[frames[sel]][:, nb].min(axis=1)
        keep[sel] = amp[sel] <= local_min
    frames, chans, amp = frames[keep], chans[keep], amp[keep]
    # equal minima on two neighbouring channels: keep the lower channel index only
    order = np.lexsort((chans, frames))
    frames, chans = frames[order], chans[order]
    dup = np.zeros(len(frames), bool)
    for i in range(1, len(frames)):
        j = i - 1
        while j >= 0 and frames[i] - frames[j] <= w:
            if not dup[j] and neigh[chans[i], chans[j]]:
                dup[i] = True
                break
            j -= 1
    return frames[~dup].astype(np.int64), chans[~dup].astype(np.int64)
