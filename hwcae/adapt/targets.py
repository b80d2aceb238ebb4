"""Denoising targets made from the user's noisy spikes alone (no clean waveform is ever read).

Each spike's target blends two estimates of its clean waveform whose errors are nearly independent:

- ``g``, the model's own reconstruction (its error: mostly coding, at the model's rate);
- ``p``, a local principal-component projection: the spike's ``K`` nearest neighbours among the
  user's spikes (by the first 20 PCA features of ``g``, so that neighbours are chosen by shape, not by
  their noise), each shifted by up to 2 whole samples to line up with the spike (a detector cuts
  on the noisy trace, so neighbours sit a sample early or late), give a mean and their top ``r``
  principal directions; ``p`` is that mean plus the spike's own projection on those directions, each
  coefficient Wiener-shrunk by lambda / (lambda + sigma^2) (lambda: the neighbourhood's variance along
  the direction, sigma: the noise's, robustly from ``x - g``). The mean averages the noise away; the
  directions keep what varies within a unit (amplitude, jitter, small shape changes) that a plain mean
  blurs; the shrinkage keeps directions that barely stand out of the noise from bringing it back.

The target is ``g + w (p - g)``. The rank ``r`` and weight ``w`` are chosen from the data: the
spike's nearest neighbour is left out of its ``K`` and serves as a noisy stand-in for the spike's
clean waveform (its noise is independent of the target); the pair with the best mean SNDR against
those stand-ins is kept. Last, what the neighbourhood cannot explain but stands out of the noise is
put back (:func:`keep_outliers`: the residual ``x - target`` soft-thresholded at 3 robust standard
deviations): an overlapping spike, which belongs to the clean trace but not to the neighbours, stays
in the target instead of being averaged away (suite ``val``, targets vs clean: +0.07 to +0.99 dB on
every set, +0.63 on ``burst-overlap``). On the external suite's ``val`` recordings these targets were 0.4-3.8 dB
closer to the clean spikes than a plain 16-neighbour mean blended with ``g`` (measured against the
clean twins, which only the measurement read); aligning the neighbours, 20 features instead of 10 and the
Wiener weights added +0.17 to +0.79 dB on the seven ``val`` sets measured both ways
(docs/measured.md, "Calibration targets: aligned neighbours").
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


def aligned(group, own, group_g, max_shift: int):
    """``group`` (B, K, C, T) with each neighbour shifted by the whole samples in +-``max_shift`` that
    best match (least squares) its reconstruction ``group_g`` to the spike's own ``own`` (B, 1, C, T);
    the samples shifted in repeat the edge value. Misaligned neighbours would blur the mean."""
    import torch

    from hwcae.spikes.warp import shift

    best, out = ((group_g - own) ** 2).sum((-1, -2)), group
    for s in (d for k in range(1, max_shift + 1) for d in (k, -k)):
        err = ((shift(group_g, s) - own) ** 2).sum((-1, -2))
        better = err < best
        out, best = torch.where(better[..., None, None], shift(group, s), out), torch.where(better, err, best)
    return out


def local_projections(x: np.ndarray, nb: np.ndarray, ranks: tuple[int, ...], batch: int = 256, *,
                      g: np.ndarray | None = None, max_shift: int = 0,
                      noise_var: float | None = None) -> dict[int, np.ndarray]:
    """Per rank r: (N, ...) each row's neighbourhood mean plus its projection on the neighbourhood's top
    r principal directions; ``nb`` (N, K) indexes each row's neighbours (not the row itself).
    With ``g`` (the rows' reconstructions, (N, C, T) like ``x``) and ``max_shift`` the neighbours are
    first aligned to the row (:func:`aligned`). With ``noise_var`` (uV^2 per sample) each coefficient is
    shrunk by lambda / (lambda + noise_var), lambda the neighbourhood's variance along that direction
    (a Wiener weight: directions that barely stand out of the noise count for little)."""
    import torch

    if max_shift and g is None:
        raise HwcaeError("aligning neighbours (max_shift > 0) needs the reconstructions g to match them on")
    xf = torch.from_numpy(np.ascontiguousarray(x, np.float32))
    gf = None if g is None else torch.from_numpy(np.ascontiguousarray(g, np.float32))
    out = {r: np.empty(x.shape, np.float32) for r in ranks}
    for i in range(0, len(x), batch):
        idx = torch.from_numpy(nb[i:i + batch])
        group = xf[idx]  # (B, K, ...)
        if max_shift:
            group = aligned(group, gf[i:i + batch, None], gf[idx], max_shift)
        b, k = group.shape[:2]
        group = group.reshape(b, k, -1)
        mean = group.mean(1, keepdim=True)
        _, sv, vh = torch.linalg.svd(group - mean, full_matrices=False)
        d = xf[i:i + batch].reshape(b, 1, -1) - mean
        for r in ranks:
            v = vh[:, :r]
            c = d @ v.transpose(1, 2)
            if noise_var:
                lam = sv[:, None, :r] ** 2 / (k - 1)
                c = c * lam / (lam + noise_var)
            out[r][i:i + batch] = (mean + c @ v)[:, 0].reshape(b, *x.shape[1:]).numpy()
    return out


def neighbour_targets(spikes_uv: np.ndarray, recon_uv: np.ndarray, *, neighbours: int = 64,
                      ranks: tuple[int, ...] = (1, 2, 4, 8, 16), weights: tuple[float, ...] = (0.35, 0.5, 0.7, 0.85, 1.0),
                      features: int = 20, max_shift: int = 2, wiener: bool = True, seed: int = 0,
                      shrink_sigmas: float | None = 3.0) -> tuple[np.ndarray, dict]:
    """(targets (N, 4, 64) float32, how they were chosen) for noisy spikes in uV and the model's
    reconstructions of them (see the module docstring)."""
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    from hwcae.metrics import mean_db, sndr_db

    x, g = np.asarray(spikes_uv, np.float32), np.asarray(recon_uv, np.float32)
    n = len(x)
    k = min(neighbours, n - 2)
    f = PCA(n_components=min(features, x[0].size, n - 1), random_state=seed).fit_transform(g.reshape(n, -1))
    _, nb = NearestNeighbors(n_neighbors=k + 2).fit(f).kneighbors(f)  # rank 0: the spike itself
    stand_in = x[nb[:, 1]]  # left out of the neighbourhood: independent noise, nearly the same shape
    noise_var = robust_sigma(x - g) ** 2 if wiener else None
    proj = local_projections(x, nb[:, 2:], ranks, g=g, max_shift=max_shift, noise_var=noise_var)
    best = None
    for r in ranks:
        for w in weights:
            score = mean_db(sndr_db(stand_in, g + w * (proj[r] - g)))
            if best is None or score > best[0]:
                best = (score, r, w)
    score, r, w = best
    targets = g + w * (proj[r] - g)
    est = {"neighbours": int(k), "rank": int(r), "weight": float(w), "stand_in_sndr_db": round(float(score), 3),
           "max_shift": int(max_shift), "noise_sd_uv": None if noise_var is None else round(noise_var ** 0.5, 3)}
    if shrink_sigmas:
        targets, est["residual_threshold_uv"] = keep_outliers(x, targets, shrink_sigmas)
    return targets.astype(np.float32), est


def robust_sigma(r: np.ndarray) -> float:
    """1.4826 x the median absolute deviation of every sample of ``r``: a standard deviation that the
    few large values (spikes, overlaps) barely move."""
    return 1.4826 * float(np.median(np.abs(r - np.median(r))))


def keep_outliers(x: np.ndarray, targets: np.ndarray, sigmas: float) -> tuple[np.ndarray, float]:
    """Targets plus the part of each residual ``x - targets`` that stands out of the noise: the residual
    soft-thresholded at ``sigmas`` robust standard deviations (1.4826 x the median absolute deviation
    of every residual sample). Gaussian noise rarely passes (0.3 % of samples at 3); what the
    neighbourhood cannot explain and is large (an overlapping spike, a shape of this spike's own) does."""
    r = x - targets
    th = sigmas * robust_sigma(r)
    return targets + np.sign(r) * np.maximum(np.abs(r) - th, 0.0), round(th, 3)


#: Fraction of calibration inputs that are hybrids: a spike's target plus another spike's residual (suite
#: `val`, level `all`: +0.05 to +0.34 dB on every set against real spikes only at 12 epochs and a constant
#: rate, +0.17 to +0.34 at 24 cosine-decayed; all hybrids -0.18 to +0.40).
HYBRID_FRACTION = 0.5


def pairs(spikes_uv: np.ndarray, targets: np.ndarray, index: np.ndarray, n: int, seed: int = 0,
          scale: tuple[float, float] = (0.8, 1.25), hybrid: float = HYBRID_FRACTION) -> SpikeSet:
    """``n`` training pairs (input, target) drawn from the spikes at ``index``, both scaled by the same
    log-uniform amplitude factor in ``scale``. The input is the noisy spike itself, or (a fraction
    ``hybrid`` of the pairs) a hybrid: its target plus the residual (spike minus target) of another
    spike drawn from ``index``, i.e. the recording's own noise laid on a known waveform. Hybrids give
    each target many noise draws instead of one, so the fine-tune cannot learn one snippet's noise."""
    rng = np.random.default_rng(seed)
    j = rng.choice(index, n)
    a = np.exp(rng.uniform(np.log(scale[0]), np.log(scale[1]), (n, 1, 1))).astype(np.float32)
    x = spikes_uv[j].copy()
    mixed = rng.random(n) < hybrid
    k = rng.choice(index, int(mixed.sum()))
    x[mixed] = targets[j[mixed]] + (spikes_uv[k] - targets[k])
    return SpikeSet(spikes=x * a, clean=targets[j] * a)
