"""Dipole templates: a somatic current sink and its return current spread along a dendrite.

SpikeInterface's generator gives every channel of a unit the same waveform, scaled and delayed. Real
extracellular spikes change shape across the probe: near the soma the trough dominates and a
capacitive pre-phase precedes it; towards the dendrite the return current makes the waveform
smaller, slower and positive-first. This generator (used in training, a cheap stand-in for the
physics, not a neuron model) draws per unit:

- a sink waveform ``s(t)``: SpikeInterface's three-exponential spike with the scene's parameters,
  plus a capacitive part ``-beta x tau x d/dt`` of its low-passed copy (positive before the trough);
- a return current: ``s`` low-pass filtered (time constant ``tau_r``) and delayed, injected at
  ``K`` points along a straight dendrite of random direction and length, weights summing to one;
- point-source potentials ``1 / r`` at each contact (r at least 10 um), the sum scaled so that a
  contact 10 um from the soma would see the unit's ``alpha`` (uV).
"""
from __future__ import annotations

import numpy as np

POINTS = 6  # return-current points along the dendrite
R_MIN_UM = 10.0


def _lowpass(x: np.ndarray, tau_samples: float) -> np.ndarray:
    """Causal first-order low-pass along the last axis (unit DC gain)."""
    from scipy.signal import lfilter

    a = np.exp(-1.0 / max(tau_samples, 1e-6))
    return lfilter([1 - a], [1, -a], x, axis=-1)


def _delay(x: np.ndarray, samples: float) -> np.ndarray:
    """Delay by a (fractional) number of samples, zeros shifted in."""
    t = np.arange(x.shape[-1], dtype=np.float64)
    return np.interp(t - samples, t, x, left=0.0, right=0.0)


def dipole_templates(positions_um: np.ndarray, unit_locations_um: np.ndarray, fs_hz: float, params: dict, *,
                     ms_before: float, ms_after: float, upsample: int, rng: np.random.Generator,
                     cell_ids: np.ndarray) -> np.ndarray:
    """(locations, samples, channels, upsample) templates in uV. ``params`` holds per-cell arrays of
    SpikeInterface unit parameters (``alpha``, ``depolarization_ms``, ...); every location of one
    cell (a drifting unit) shares its waveform and dendrite."""
    from spikeinterface.core.generate import generate_single_fake_waveform

    fine = fs_hz * upsample
    cells = int(np.max(cell_ids)) + 1
    dend = []
    for c in range(cells):  # per cell: sink, return current, dendrite geometry
        s = generate_single_fake_waveform(
            sampling_frequency=fine, ms_before=ms_before, ms_after=ms_after, negative_amplitude=-1.0,
            positive_amplitude=params["positive_amplitude"][c], depolarization_ms=params["depolarization_ms"][c],
            repolarization_ms=params["repolarization_ms"][c], recovery_ms=params["recovery_ms"][c],
            smooth_ms=params["smooth_ms"][c]).astype(np.float64)
        tau = params["depolarization_ms"][c] * fine / 1000
        smooth = _lowpass(s, rng.uniform(0.02, 0.2) * fine / 1000)
        s = s - rng.uniform(0.0, 0.6) * tau * np.gradient(smooth)  # outward capacitive current before the trough
        ret = _lowpass(s, rng.uniform(0.05, 0.5) * fine / 1000)
        u = rng.normal(size=3)
        u /= np.linalg.norm(u)
        length = rng.uniform(30.0, 250.0)
        w = rng.dirichlet(np.ones(POINTS))
        delays = rng.uniform(0.0, 0.2) * fine / 1000 + np.linspace(0, length, POINTS) / 300.0 * fine / 1000
        dend.append((s, ret, u, length, w, delays))
    contacts = np.column_stack([positions_um, np.zeros(len(positions_um))])
    n = int(round((ms_before + ms_after) * fs_hz / 1000))
    out = np.zeros((len(unit_locations_um), n, len(positions_um), upsample), np.float32)
    for i, loc in enumerate(np.asarray(unit_locations_um, float)):
        c = int(cell_ids[i])
        s, ret, u, length, w, delays = dend[c]
        r0 = np.maximum(np.linalg.norm(contacts - loc, axis=1), R_MIN_UM)
        v = s[:, None] / r0[None, :]
        for k in range(POINTS):
            p = loc + u * length * k / (POINTS - 1)
            rk = np.maximum(np.linalg.norm(contacts - p, axis=1), R_MIN_UM)
            v -= w[k] * _delay(ret, delays[k])[:, None] / rk[None, :]
        v *= params["alpha"][c] * 10.0
        for j in range(upsample):
            out[i, :, :, j] = v[j::upsample][:n]
    return out
