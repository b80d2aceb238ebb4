"""PCA at a CAE's real rate: the baseline given exactly the bits per spike the CAE's ``.hwc`` file spends.

The table of ``hwcae eval`` sets PCA at the CAE's fixed-length bits (14 x 8 bits for 115); the CAE's
indices are then entropy coded into fewer real bytes. Here PCA (8-bit coefficients, fitted on the
fit half) is read off its own rate-distortion curve at those real bits, two ways:

- ``fixed``: 8 bits per coefficient, k coefficients (8k bits), interpolated between whole k;
- ``coded``: the same coefficients entropy coded with static per-coefficient tables counted on the
  fit half (add-one smoothed): the bits are the cross-entropy of the scored codes under those tables,
  an *estimate* of a real static coder's rate (no bytes are written; the tables are not counted).

PCA's components and its per-coefficient quantiser are nested in k (the first k of ``k_max``), so one
fit gives the whole curve.
"""
from __future__ import annotations

import math

import numpy as np

from hwcae import RAW_BITS_PER_SPIKE
from hwcae.baselines.pca import PCACodec
from hwcae.metrics import mean_db, sndr_db
from hwcae.spikes.spikeset import SpikeSet


def pca_curve(fit: SpikeSet, score: SpikeSet, bits: float, coef_bits: int = 8) -> dict[str, np.ndarray]:
    """PCA with k = 1, 2, ... coefficients until both rates pass ``bits``: ``fixed_bits`` (8k),
    ``coded_bits`` (estimated, static tables from ``fit``), ``sndr_db`` (mean; vs the clean twin where
    ``score`` has one, else vs its input)."""
    k_max = max(1, min(fit.spikes[0].size, len(fit)))
    codec = PCACodec(k_max, coef_bits).fit(fit.spikes)
    codes, fit_codes = codec.encode(score.spikes), codec.encode(fit.spikes)
    half = 2 ** (coef_bits - 1)
    coded = np.zeros(k_max)
    for j in range(k_max):  # cross-entropy of column j's scored codes under the fit half's table
        table = np.bincount(fit_codes[:, j] + half, minlength=2 * half) + 1.0
        coded[j] = -np.log2(table[codes[:, j] + half] / table.sum()).mean()
    coded = np.cumsum(coded)
    k_need = min(k_max, max(math.ceil(bits / coef_bits), int(np.searchsorted(coded, bits)) + 1) + 1)
    deq, comps = codec.q.dequantize(codes), codec.pca.components_
    ref = score.clean if score.clean is not None else score.spikes
    rec = np.broadcast_to(codec.pca.mean_, (len(codes), comps.shape[1])).copy()
    sndr = np.zeros(k_need)
    for k in range(k_need):
        rec += np.outer(deq[:, k], comps[k])
        sndr[k] = mean_db(sndr_db(ref, rec.reshape(score.spikes.shape)))
    return {"fixed_bits": coef_bits * np.arange(1, k_need + 1, dtype=float), "coded_bits": coded[:k_need], "sndr_db": sndr}


def pca_at_rate(fit: SpikeSet, score: SpikeSet, bits: float, coef_bits: int = 8) -> dict:
    """PCA's SNDR at ``bits`` per spike, fixed-length and entropy coded (NaN where its curve does not
    reach so far: more bits than all its coefficients take, or fewer than one)."""
    curve = pca_curve(fit, score, bits, coef_bits)

    def at(x: np.ndarray) -> float:
        return float(np.interp(bits, x, curve["sndr_db"])) if x[0] <= bits <= x[-1] else math.nan

    return {"bits_per_spike": float(bits), "pca_fixed_db": at(curve["fixed_bits"]), "pca_coded_db": at(curve["coded_bits"])}


def equal_rate_row(row: dict, fit: SpikeSet, score: SpikeSet) -> dict:
    """The ``equal_rate`` entry of a CAE row (:func:`hwcae.evaluate.table.cae_row` on ``score``): PCA
    at the bits per spike of the CAE's ``.hwc`` file, and the CAE's SNDR against the same reference
    (``vs``: the clean twin where ``score`` has one, else its input)."""
    vs = "clean" if score.clean is not None else "input"
    return {**pca_at_rate(fit, score, RAW_BITS_PER_SPIKE / row["cr_bytes"]), "vs": vs,
            "cae_db": row["sndr_clean_db_mean" if vs == "clean" else "sndr_db_mean"]}
