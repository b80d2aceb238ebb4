"""Multi-source templates: a unit's potential as the sum of several current sources with their own
waveforms, so that its shape changes across the probe's contacts.

SpikeInterface's generator gives every channel of a unit one waveform, scaled and delayed: the
4 x 64 snippet is nearly rank one. Real units are extended (soma, axon initial segment,
dendrites): each part carries its own current waveform, some of them returning (positive), and a
contact sees their sum weighted by distance, so neighbouring channels see different shapes. This
generator (training data only; a stand-in, not a neuron model) draws per unit:

- a somatic sink: SpikeInterface's three-exponential waveform with the scene's parameters;
- 1-4 further sources 15-100 um away in random directions, each with its own waveform parameters,
  a delay of -0.3 to +0.6 ms, a weight of 0.2-1.0 and a sign (60 % return currents, positive);
- point-source potentials ``1 / r`` (r at least 10 um), scaled so that a contact 10 um from the
  soma would see the unit's ``alpha`` (uV) from the soma alone.
"""
from __future__ import annotations

import numpy as np

R_MIN_UM = 10.0


def _shift(x: np.ndarray, samples: float) -> np.ndarray:
    """Delay by a (fractional) number of samples, zeros shifted in."""
    t = np.arange(len(x), dtype=np.float64)
    return np.interp(t - samples, t, x, left=0.0, right=0.0)


def multisource_templates(positions_um: np.ndarray, unit_locations_um: np.ndarray, fs_hz: float, params: dict,
                          ranges: dict, *, ms_before: float, ms_after: float, upsample: int,
                          rng: np.random.Generator, cell_ids: np.ndarray) -> np.ndarray:
    """(locations, samples, channels, upsample) templates in uV. ``params`` holds per-cell arrays of
    SpikeInterface unit parameters for the somatic sink, ``ranges`` the (low, high) ranges the
    other sources draw theirs from; all locations of one cell (a drifting unit) share its sources."""
    from spikeinterface.core.generate import generate_single_fake_waveform

    fine = fs_hz * upsample
    keys = ("positive_amplitude", "depolarization_ms", "repolarization_ms", "recovery_ms", "smooth_ms")

    def waveform(p):
        return generate_single_fake_waveform(sampling_frequency=fine, ms_before=ms_before, ms_after=ms_after,
                                             negative_amplitude=-1.0, **p).astype(np.float64)

    cells = []
    for c in range(int(np.max(cell_ids)) + 1):
        sources = [(np.zeros(3), 1.0, waveform({k: params[k][c] for k in keys}))]
        for _ in range(int(rng.integers(1, 5))):
            d = rng.normal(size=3)
            offset = d / np.linalg.norm(d) * rng.uniform(15.0, 100.0)
            p = {k: rng.uniform(*ranges[k]) for k in keys}
            sign = 1.0 if rng.random() < 0.6 else -1.0  # a return current is positive
            w = -sign * rng.uniform(0.2, 1.0)  # waveforms are negative: -(+1) x w makes a positive source
            sources.append((offset, w, _shift(waveform(p), rng.uniform(-0.3, 0.6) * fine / 1000)))
        cells.append(sources)
    contacts = np.column_stack([positions_um, np.zeros(len(positions_um))])
    n = int(round((ms_before + ms_after) * fs_hz / 1000))
    out = np.zeros((len(unit_locations_um), n, len(positions_um), upsample), np.float32)
    for i, loc in enumerate(np.asarray(unit_locations_um, float)):
        c = int(cell_ids[i])
        v = 0.0
        for offset, w, wf in cells[c]:
            r = np.maximum(np.linalg.norm(contacts - (loc + offset), axis=1), R_MIN_UM)
            v = v + w * wf[:, None] / r[None, :]
        v = np.asarray(v) * params["alpha"][c] * R_MIN_UM
        for j in range(upsample):
            out[i, :, :, j] = v[j::upsample][:n]
    return out
