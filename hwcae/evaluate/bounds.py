"""Reference levels for reading an SNDR-vs-clean table: what the data allows, not codecs.

Where the data has clean twins (the built-in generator), three levels frame the codec rows:

- ``noisy_input``: the noisy spikes themselves (no coding, no denoising).
- ``linear_mmse``: the best linear denoiser (a 256 x 256 matrix, least squares from noisy to
  clean) fitted on the fit set's pairs and applied to the scored spikes, with no rate limit.
  Unquantised PCA is a linear map too, fitted without the clean twins: in squared error it does
  not beat this on data like the fit set (the mean of per-spike dB can order them a little
  differently), and coefficient quantisation only adds error.
- ``unit_template``: every scored spike replaced by the mean clean waveform of its ground-truth
  unit, taken over the scored spikes themselves (an oracle: it knows the unit and averages the
  answers). What remains is per-spike variation (sub-sample jitter, overlapping spikes) that a
  codec sending only "which unit" would lose.

None of them is a rate: they have no bits per spike and never appear as a codec row.
"""
from __future__ import annotations

import numpy as np

from hwcae.metrics import sndr_db
from hwcae.spikes.spikeset import SpikeSet

RIDGE = 1e-6  # relative ridge on the noisy covariance, for a stable solve


def linear_mmse_matrix(noisy: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """(256, 256) W minimising ||clean - noisy @ W||^2 over flattened spikes (uV in, uV out)."""
    x = noisy.reshape(len(noisy), -1).astype(np.float64)
    y = clean.reshape(len(clean), -1).astype(np.float64)
    cov = x.T @ x
    cov += RIDGE * np.trace(cov) / len(cov) * np.eye(len(cov))
    return np.linalg.solve(cov, x.T @ y)


def unit_template(score: SpikeSet) -> np.ndarray:
    """Each spike's reconstruction = the mean clean waveform of its unit over ``score``."""
    rec = np.empty_like(score.clean)
    for u in np.unique(score.labels):
        m = score.labels == u
        rec[m] = score.clean[m].mean(axis=0)
    return rec


def bounds(fit: SpikeSet, score: SpikeSet) -> dict:
    """Mean SNDR vs clean (dB) of each reference level on ``score``; {} without clean twins."""
    if fit.clean is None or score.clean is None:
        return {}
    w = linear_mmse_matrix(fit.spikes, fit.clean)
    lin = (score.spikes.reshape(len(score), -1).astype(np.float64) @ w).reshape(score.spikes.shape)
    out = {
        "noisy_input": float(sndr_db(score.clean, score.spikes).mean()),
        "linear_mmse": float(sndr_db(score.clean, lin).mean()),
    }
    if score.labels is not None and len(np.unique(score.labels)) < len(score):
        out["unit_template"] = float(sndr_db(score.clean, unit_template(score)).mean())
    return out
