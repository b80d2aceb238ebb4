"""Spike trains for generated recordings: Poisson firing with a refractory period, and bursts whose
spikes shrink one after another (sodium-channel inactivation makes later spikes of a burst smaller).
"""
from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class Trains:
    """All units' spikes, sorted by frame then unit: frame, unit index, amplitude factor (1 = template)."""

    frames: np.ndarray
    units: np.ndarray
    amplitudes: np.ndarray


def unit_train(rng: np.random.Generator, n_frames: int, fs_hz: float, rate_hz: float, *, refractory_ms: float = 3.0,
               burst: bool = False, burst_spikes: tuple[int, int] = (2, 5), burst_isi_ms: tuple[float, float] = (3.0, 8.0),
               burst_decay: tuple[float, float] = (0.7, 0.95), amplitude_sd: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """(frames, amplitude factors) of one unit at mean rate ``rate_hz``.

    A bursting unit fires events at ``rate_hz / mean spikes per burst``; each event is a burst of
    ``burst_spikes`` spikes ``burst_isi_ms`` apart, the k-th scaled by ``decay^k``.
    """
    duration_s = n_frames / fs_hz
    mean_len = (burst_spikes[0] + burst_spikes[1]) / 2 if burst else 1.0
    n_events = rng.poisson(rate_hz / mean_len * duration_s)
    starts = np.sort(rng.uniform(0, duration_s, n_events))
    times, amps = [], []
    for t0 in starts:
        if not burst:
            times.append(t0)
            amps.append(1.0)
            continue
        decay = rng.uniform(*burst_decay)
        t = t0
        for k in range(int(rng.integers(burst_spikes[0], burst_spikes[1] + 1))):
            times.append(t)
            amps.append(decay**k)
            t += rng.uniform(*burst_isi_ms) * 1e-3
    times, amps = np.asarray(times), np.asarray(amps)
    order = np.argsort(times, kind="stable")
    times, amps = times[order], amps[order]
    keep = np.ones(len(times), bool)  # refractory: drop any spike closer than refractory_ms to the last kept one
    last = -np.inf
    for i, t in enumerate(times):
        if t - last < refractory_ms * 1e-3:
            keep[i] = False
        else:
            last = t
    frames = np.rint(times[keep] * fs_hz).astype(np.int64)
    amps = amps[keep] * np.clip(1.0 + amplitude_sd * rng.standard_normal(keep.sum()), 0.5, 1.5)
    ok = (frames >= 0) & (frames < n_frames)
    return frames[ok], amps[ok]


def generate_trains(rng: np.random.Generator, n_frames: int, fs_hz: float, rates_hz: np.ndarray,
                    bursting: np.ndarray) -> Trains:
    """Trains of every unit (``rates_hz`` and ``bursting`` per unit), merged and sorted."""
    frames, units, amps = [], [], []
    for u, (rate, burst) in enumerate(zip(rates_hz, bursting)):
        f, a = unit_train(rng, n_frames, fs_hz, float(rate), burst=bool(burst))
        frames.append(f)
        units.append(np.full(len(f), u, np.int64))
        amps.append(a)
    frames, units, amps = np.concatenate(frames), np.concatenate(units), np.concatenate(amps)
    order = np.lexsort((units, frames))
    return Trains(frames[order], units[order], amps[order].astype(np.float32))
