"""Robustness: SNDR of the CAE and PCA under perturbations they were not fitted for.

Each perturbation is applied to the noisy input and its clean twin alike (a waveform that really
is shifted, scaled or stretched), except the noise sweep, which adds white noise to the input only.
PCA is fitted once on unperturbed spikes of other recordings, as the CAE was trained once.
"""
from __future__ import annotations

import numpy as np

from hwcae.spikes.spikeset import SpikeSet
from hwcae.spikes.warp import shift, stretch

SHIFTS = (-8, -4, -2, -1, 0, 1, 2, 4, 8)  # samples
SCALES = (0.5, 0.75, 1.0, 1.5, 2.0)  # amplitude factor
STRETCHES = (0.7, 0.85, 1.0, 1.2, 1.4)  # width factor around the peak
NOISE_UV = (0.0, 5.0, 10.0, 20.0, 40.0)  # extra white noise SD


def perturbations() -> dict[str, list[tuple[float, callable]]]:
    return {
        "shift_samples": [(s, lambda a, s=s: shift(a, s)) for s in SHIFTS],
        "amplitude_factor": [(f, lambda a, f=f: a * f) for f in SCALES],
        "width_factor": [(f, lambda a, f=f: stretch(a, f)) for f in STRETCHES],
    }


def run(methods: dict, score: SpikeSet, seed: int = 0, progress: bool = False) -> dict:
    """``methods``: name -> roundtrip(spikes) function. Returns {perturbation: {"x": [...], name: [dB]}}."""
    from hwcae.metrics import sndr_db
    from hwcae.evaluate.rd import reference

    ref0 = reference(score)
    out = {}
    tasks = [(k, v, fn) for k, vals in perturbations().items() for v, fn in vals]
    rng = np.random.default_rng(seed)
    tasks += [("added_noise_uv", n, None) for n in NOISE_UV]
    if progress:
        from tqdm import tqdm
        tasks = tqdm(tasks, desc="robustness", unit="case")
    for kind, value, fn in tasks:
        if fn is None:
            x = score.spikes + rng.normal(0, value, score.spikes.shape).astype(np.float32) if value else score.spikes
            ref = ref0
        else:
            x, ref = fn(score.spikes), fn(ref0)
        d = out.setdefault(kind, {"x": []})
        d["x"].append(float(value))
        for name, roundtrip in methods.items():
            d.setdefault(name, []).append(float(np.mean(sndr_db(ref, roundtrip(x)))))
    return out
