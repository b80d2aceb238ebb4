"""Is a raw binary file read with the right channel count? A measured plausibility check.

A raw binary file holds frames of interleaved samples; its size only says which channel counts
divide it. Sampled neural data is smooth along time on each true channel (the recorder's
anti-alias filter, the spikes, the noise's spectrum), so the lag-1 autocorrelation of each trace is
high when the file is read with its true count and falls when channels are mis-interleaved (told
C/2: neighbouring samples come from different contacts; told 2C: from every other sample). Each
frame first loses its mean across channels (a common reference): hum or a field potential shared by
every contact would otherwise make any reading look smooth.

:func:`plausible_channels` weighs the count given against the other divisors of the file's sample
count (2 .. :data:`MAX_GUESS`) on a window from the middle of the file and names another only when
it is clearly smoother: autocorrelation at least :data:`FLOOR` and a roughness ``1 - r`` at most
1 / :data:`FACTOR` of the given count's. Measured (``benchmarks/channel_count.py --seeds 8``: 96
generated recordings of 16, 32 and 64 channels from 4 scenes, each as generated, anti-aliased, with
a shared field potential and offsets, with 50 Hz hum, and with a shared field potential alone):
the true count was never questioned (0 of 480); told 8, 16, 32, 64 or 128 instead, the true count
was named in every band-limited case (1,536 of 1,536) and in 145 of 384 on the generator's
full-band white noise, where a channel read at half its rate stays almost as smooth. A warning, not
an error: data unlike these generated recordings might still fool it, and must stay readable.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

#: Channel counts weighed against the one given: the divisors of the file's sample count up to this.
MAX_GUESS = 1024
#: Bytes read from the middle of the file; each count needs at least MIN_WINDOW_FRAMES frames of it.
WINDOW_BYTES = 1 << 22
MIN_WINDOW_FRAMES = 256
#: Another count is named when its autocorrelation is at least FLOOR and its roughness (1 - r) at
#: most 1 / FACTOR of the given count's.
FLOOR, FACTOR = 0.5, 2.0


def smoothness(samples: np.ndarray, channels: int) -> float:
    """Mean lag-1 autocorrelation of the traces of ``samples`` (flat, starting at a frame) read as
    ``channels`` interleaved channels, after removing each channel's mean and each frame's mean
    across channels; NaN when no trace varies."""
    n = len(samples) // channels
    x = samples[:n * channels].reshape(n, channels).astype(np.float64)
    x -= x.mean(axis=0)
    x -= x.mean(axis=1, keepdims=True)
    num = np.einsum("ij,ij->j", x[1:], x[:-1])
    den = np.einsum("ij,ij->j", x, x)
    ok = den > 1e-9 * max(float(den.max()), 1e-300)
    return float(np.mean(num[ok] / den[ok])) if ok.any() else math.nan


def channel_smoothness(path: Path, dtype: str, n_samples: int, told: int) -> dict[int, float]:
    """:func:`smoothness` of ``told`` and every other count from 2 to :data:`MAX_GUESS` that divides
    ``n_samples``, on :data:`WINDOW_BYTES` from the middle of the file (a count the window holds
    fewer than :data:`MIN_WINDOW_FRAMES` frames of is left out)."""
    dt = np.dtype(dtype)
    count = min(n_samples, WINDOW_BYTES // dt.itemsize)
    start = (n_samples - count) // 2
    window = np.fromfile(path, dtype=dt, count=count, offset=start * dt.itemsize)
    if not np.all(np.isfinite(window)):
        return {}
    out = {}
    for k in sorted({told} | {k for k in range(2, MAX_GUESS + 1) if n_samples % k == 0}):
        first = -start % k  # the window's first whole frame
        if k >= 2 and (count - first) // k >= MIN_WINDOW_FRAMES:
            out[k] = smoothness(window[first:], k)
    return out


def plausible_channels(path: Path, dtype: str, told: int) -> tuple[int, dict[int, float]] | None:
    """(a clearly more plausible channel count than ``told``, the smoothness of each count weighed),
    or None when ``told`` is the smoothest, about as smooth as any, or cannot be weighed."""
    itemsize = np.dtype(dtype).itemsize
    st = {k: r for k, r in channel_smoothness(path, dtype, path.stat().st_size // itemsize, told).items()
          if not math.isnan(r)}
    if told not in st:
        return None
    best = max(st, key=st.get)
    if best != told and st[best] >= FLOOR and 1.0 - st[told] >= FACTOR * (1.0 - st[best]):
        return best, st
    return None
