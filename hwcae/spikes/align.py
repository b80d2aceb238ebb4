"""Alignment conventions: find where a spike set's troughs sit and move them to ``PEAK_SAMPLE``.

hwcae cuts every spike with the best channel's negative peak at sample :data:`PEAK_SAMPLE` (24).
Other tools cut elsewhere (Wave_Clus and the seed paper's code at sample 20), and a model fed
spikes at another offset loses several dB without any error. On load, the trough position of
each spike's best channel (row 0) is measured on the spikes themselves (the noisy input: no clean
twin is looked at); a set is taken as aligned when at least :data:`ALIGNED_SHARE` of its spikes have
their trough within one sample of ``PEAK_SAMPLE``. Otherwise every spike is shifted so that its own
trough lands there, as a detector aligns; the samples shifted in from outside the window repeat the
edge value. A clean twin, if any, moves with its spike.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from hwcae.spikes.spikeset import PEAK_SAMPLE, SpikeSet
from hwcae.spikes.warp import shift

ALIGNED_SHARE = 0.8
SEARCH = 10  # per-spike trough search: +- this many samples around the set's median trough


@dataclasses.dataclass
class Alignment:
    """Where a set's troughs sit: the median trough sample, the share of spikes within one sample
    of PEAK_SAMPLE, and whether the set counts as aligned."""

    median: int
    share_at_peak: float
    aligned: bool

    def describe(self) -> str:
        return (f"spike troughs at sample {self.median} (median; {100 * self.share_at_peak:.0f} % within one "
                f"sample of {PEAK_SAMPLE})")


def trough_samples(spikes: np.ndarray, center: int | None = None) -> np.ndarray:
    """(N,) sample of each spike's minimum on row 0, searched within +-SEARCH of ``center``
    (default: the whole window)."""
    row = np.asarray(spikes)[:, 0, :]
    if center is None:
        return np.argmin(row, axis=1)
    lo, hi = max(0, center - SEARCH), min(row.shape[1], center + SEARCH + 1)
    return lo + np.argmin(row[:, lo:hi], axis=1)


def measure(spikes: np.ndarray) -> Alignment:
    """Where the troughs sit, over the spikes whose row 0 is not flat (a flat one, all zeros say, has none)."""
    spikes = np.asarray(spikes)
    t = trough_samples(spikes[np.ptp(spikes[:, 0, :], axis=1) > 0]) if len(spikes) else np.zeros(0, int)
    if len(t) == 0:
        return Alignment(PEAK_SAMPLE, 1.0, True)
    share = float(np.mean(np.abs(t - PEAK_SAMPLE) <= 1))
    return Alignment(int(np.median(t)), share, share >= ALIGNED_SHARE)


def shift_each(x: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Move spike i ``shifts[i]`` samples later (edge samples repeated), for (N, C, T) arrays."""
    out = np.empty_like(x)
    for s in np.unique(shifts):
        m = shifts == s
        out[m] = shift(x[m], int(s))
    return out


def realign(s: SpikeSet, center: int | None = None) -> tuple[SpikeSet, np.ndarray]:
    """Every spike shifted so its row-0 trough sits at PEAK_SAMPLE; returns (new set, shifts)."""
    center = int(np.median(trough_samples(s.spikes))) if center is None else center
    shifts = PEAK_SAMPLE - trough_samples(s.spikes, center)
    clean = None if s.clean is None else shift_each(s.clean, shifts)
    return SpikeSet(shift_each(s.spikes, shifts), clean, s.labels, s.fs, s.recording), shifts


def align_spike_set(s: SpikeSet, *, enabled: bool = True, note=None) -> SpikeSet:
    """``s`` itself if it is aligned (or ``enabled`` is False), else realigned per spike; ``note``
    (a callable taking one line) is told what was found and done."""
    a = measure(s.spikes)
    if a.aligned:
        return s
    if not enabled:
        if note:
            note(f"{a.describe()}; kept as they are (--no-align)")
        return s
    out, shifts = realign(s, a.median)
    if note:
        note(f"{a.describe()}: realigned each spike to sample {PEAK_SAMPLE} (median shift {int(np.median(shifts)):+d}; "
             "samples shifted in at the window's edge repeat the edge value; --no-align keeps them as they are)")
    return out
