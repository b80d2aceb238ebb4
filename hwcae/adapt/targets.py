"""Denoising targets made from the user's noisy spikes alone (no clean waveform is ever read).

Two estimates of each spike's clean waveform, with nearly independent errors, are blended:

- ``g``, the model's own reconstruction (its error ``e_g``: mostly coding, at the model's rate);
- ``n``, the mean of the spike's ``m`` nearest neighbours among the user's spikes (by the first PCA
  features of ``g``, so that neighbours are chosen by shape, not by their noise); its error is
  their averaged noise plus their shape differences (the blur).

The weights come from the data. Split a spike's first ``k`` neighbours into interleaved halves A
and B (odd and even ranks): their noise is independent and their blur alike, so |A - B|^2 / 4 is the
noise left in (A + B) / 2, and q(k) = (|g - A|^2 + |g - B|^2) / 2 - |A - B|^2 / 2 is e_g plus the
blur of k neighbours. With k = 2 (one neighbour each) the blur is smallest: e_g ~ q(2); the blur
of m neighbours is q(m) - q(2). The target is ``g + w (n - g)`` with the inverse-error weight
``w = e_g / (e_g + blur + noise)``, one weight for the whole set (means over every spike).
"""
from __future__ import annotations

import numpy as np

from hwcae.errors import HwcaeError
from hwcae.spikes.spikeset import SpikeSet

#: Fewest snippets a calibration accepts: with fewer, the neighbours of a spike are other units.
MIN_SPIKES = 500


def check_spikes(spikes_uv: np.ndarray) -> np.ndarray:
    x = np.asarray(spikes_uv, np.float32)
    if x.ndim != 3 or x.shape[1:] != (4, 64):
        raise HwcaeError(f"calibration spikes must be (N, 4, 64), got {x.shape}")
    if len(x) < MIN_SPIKES:
        raise HwcaeError(f"calibration needs at least {MIN_SPIKES} spikes, got {len(x)} (give a longer stretch)")
    if not np.isfinite(x).all():
        raise HwcaeError("the spikes to calibrate on contain NaN or infinite values")
    return x


def neighbour_targets(spikes_uv: np.ndarray, recon_uv: np.ndarray, *, neighbours: int = 16, features: int = 10,
                      seed: int = 0) -> tuple[np.ndarray, dict]:
    """(targets (N, 4, 64) float32, the estimates behind them in uV^2 per sample) for noisy spikes
    and the model's reconstructions of them (see the module docstring)."""
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    x, g = np.asarray(spikes_uv, np.float32), np.asarray(recon_uv, np.float32)
    flat = g.reshape(len(g), -1)
    f = PCA(n_components=min(features, flat.shape[1], len(g) - 1), random_state=seed).fit_transform(flat)
    _, nb = NearestNeighbors(n_neighbors=neighbours + 1).fit(f).kneighbors(f)  # rank 0: the spike itself

    def halves(k):
        return x[nb[:, 1:k + 1:2]].mean(axis=1), x[nb[:, 2:k + 1:2]].mean(axis=1)

    def q(a, b):
        d_ab = float(np.mean((a - b) ** 2))
        return float(np.mean((g - a) ** 2) + np.mean((g - b) ** 2)) / 2 - d_ab / 2, d_ab / 4

    e_g = max(q(*halves(2))[0], 1e-12)
    a, b = halves(neighbours)
    q_m, noise = q(a, b)
    blur = max(q_m - e_g, 0.0)
    w = e_g / (e_g + blur + noise)
    targets = g + w * ((a + b) / 2 - g)
    return targets.astype(np.float32), {"weight": round(w, 4), "model_error_uv2": round(e_g, 3),
                                        "neighbour_blur_uv2": round(blur, 3), "neighbour_noise_uv2": round(noise, 3),
                                        "neighbours": neighbours}


def pairs(spikes_uv: np.ndarray, targets: np.ndarray, index: np.ndarray, n: int, seed: int = 0,
          scale: tuple[float, float] = (0.8, 1.25)) -> SpikeSet:
    """``n`` training pairs drawn from the spikes at ``index``: input spike and target, both scaled by
    the same log-uniform amplitude factor in ``scale``."""
    rng = np.random.default_rng(seed)
    j = rng.choice(index, n)
    a = np.exp(rng.uniform(np.log(scale[0]), np.log(scale[1]), (n, 1, 1))).astype(np.float32)
    return SpikeSet(spikes=spikes_uv[j] * a, clean=targets[j] * a)
