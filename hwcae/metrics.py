"""Distortion and rate metrics.

- SNDR per spike (dB): ``10 log10(sum ref^2 / sum (ref - rec)^2)`` over the whole 4 x 64 spike;
  NaN (undefined) for a spike whose reference has zero power (it gave -155 dB, or 0 dB when the
  reconstruction was zero too). Means and medians are over the spikes where it is defined.
- Per-channel SNDR (the seed code's form): the same over each single-channel waveform, averaged.
- Compression ratio: raw bits (4 x 64 x 16 = 4096) over every bit a receiver needs per spike; an
  ideal entropy coder's rate never falls below what the receiver must learn once (:func:`cr_entropy`).
"""
from __future__ import annotations

import math

import numpy as np

from hwcae import RAW_BITS_PER_SPIKE

_TINY = 1e-12


def sndr_db(ref: np.ndarray, rec: np.ndarray) -> np.ndarray:
    """(N,) SNDR in dB of each spike, over all its channels and samples."""
    ref, rec = np.asarray(ref, np.float64), np.asarray(rec, np.float64)
    if ref.shape != rec.shape:
        raise ValueError(f"shape mismatch {ref.shape} vs {rec.shape}")
    axes = tuple(range(1, ref.ndim))
    num = (ref**2).sum(axis=axes)
    den = ((ref - rec) ** 2).sum(axis=axes)
    return np.where(num > 0, 10.0 * np.log10((num + _TINY) / (den + _TINY)), np.nan)


def sndr_channel_db(ref: np.ndarray, rec: np.ndarray) -> np.ndarray:
    """(N,) mean over each spike's single-channel waveforms of their SNDR in dB (seed code), over the
    channels whose reference has power; NaN for a spike with none."""
    ref, rec = np.asarray(ref, np.float64), np.asarray(rec, np.float64)
    num = (ref**2).sum(axis=-1)
    den = ((ref - rec) ** 2).sum(axis=-1)
    db = np.where(num > 0, 20.0 * np.log10(np.sqrt(num + _TINY) / np.sqrt(den + _TINY)), 0.0)
    n = (num > 0).sum(axis=-1)
    return np.where(n > 0, db.sum(axis=-1) / np.maximum(n, 1), np.nan)


def mean_db(db: np.ndarray, how=np.mean) -> float:
    """``how`` (mean, median) of the defined (not NaN) values; NaN when none is defined."""
    db = np.asarray(db, np.float64)
    db = db[~np.isnan(db)]
    return float(how(db)) if len(db) else math.nan


def cr_entropy(entropy_bits_per_spike: float, n_spikes: int, fixed_bits: float) -> float:
    """Compression ratio of an ideal entropy coder at the spikes' empirical entropy. However alike
    the spikes, the receiver must learn once which symbols they use: the rate is at least the
    fixed-length bits of one spike spread over the ``n_spikes`` (a set of identical spikes, entropy
    0, gave 4096 / 1e-9 = 4e12)."""
    return RAW_BITS_PER_SPIKE / max(float(entropy_bits_per_spike), fixed_bits / max(int(n_spikes), 1))


def cr_from_bits(bits_per_spike: float) -> float:
    """Compression ratio for a given number of bits per spike (4096 raw bits per spike)."""
    if bits_per_spike <= 0:
        raise ValueError("bits per spike must be positive")
    return RAW_BITS_PER_SPIKE / bits_per_spike


#: Sample words the footings count a spike against: the seed's 16-bit snippets and the 12- and
#: 10-bit words implant ADCs digitise at.
SNIPPET_BITS = (16, 12, 10)


def snippet_ratios(bits_per_spike: float) -> dict:
    """``cr_snippet16`` / ``12`` / ``10``: one 4 x 64 snippet of 16-, 12- or 10-bit samples over ``bits_per_spike``."""
    return {f"cr_snippet{b}": RAW_BITS_PER_SPIKE * b / 16 / bits_per_spike for b in SNIPPET_BITS}


def footings(bits_per_spike: float, *, rate_hz: float, sample_rate_hz: float, stream_bits: int = 12) -> dict:
    """Compression ratios of ``bits_per_spike`` on every footing: ``cr_snippet16`` / ``12`` / ``10``
    against one 4 x 64 snippet of 16-, 12- or 10-bit samples (16 is ``cr_fixed``'s convention), and
    ``cr_stream`` against the raw continuous stream one channel would otherwise send
    (``sample_rate_hz`` x ``stream_bits`` bits/s) when it fires ``rate_hz`` spikes/s. The stream
    ratio is honest only when ``bits_per_spike`` counts times and channels (a real ``.hwc`` file)."""
    if not bits_per_spike > 0 or not math.isfinite(bits_per_spike):
        raise ValueError(f"bits per spike must be positive and finite, got {bits_per_spike}")
    out = snippet_ratios(bits_per_spike)
    out["cr_stream"] = sample_rate_hz * stream_bits / (rate_hz * bits_per_spike)
    return out


def recording_footings(coded_bits: float, *, channels: int, duration_s: float, fs_hz: float, spikes: int) -> dict:
    """What a recording's coded spikes (``coded_bits`` in all, times and channels included) save
    against streaming it raw: ``cr_stream16`` / ``12`` / ``10`` = channels x duration x fs x 16 / 12 /
    10 bits over ``coded_bits``, and ``cr_snippet16`` etc. per spike, at the measured firing rate."""
    if coded_bits <= 0 or spikes <= 0:
        return {"rate_hz": 0.0}
    raw = channels * duration_s * fs_hz
    out = {"rate_hz": spikes / (channels * duration_s), "bits_per_spike": coded_bits / spikes}
    out |= {f"cr_stream{b}": raw * b / coded_bits for b in SNIPPET_BITS}
    return out | snippet_ratios(coded_bits / spikes)


def entropy_bits(indices: np.ndarray, k: int) -> float:
    """Empirical entropy in bits of the pooled index distribution."""
    return float(counts_entropy_bits(np.bincount(np.asarray(indices).reshape(-1), minlength=k)))


def counts_entropy_bits(counts) -> np.ndarray:
    """Entropy in bits of the distribution in each row of usage ``counts`` (..., K): e.g. a
    checkpoint's ``index_counts`` (S, K) give the information each symbol position carries."""
    c = np.asarray(counts, np.float64)
    p = c / np.maximum(c.sum(axis=-1, keepdims=True), 1.0)
    return -(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)).sum(axis=-1)


def summarize(spikes: np.ndarray, rec: np.ndarray, clean: np.ndarray | None, bits_per_spike: float) -> dict:
    """The standard row: bits, cr_fixed and SNDR against the input and (if given) the clean twin."""
    s = sndr_db(spikes, rec)
    row = {
        "bits_per_spike": float(bits_per_spike),
        "cr_fixed": cr_from_bits(bits_per_spike),
        "sndr_db_mean": mean_db(s),
        "sndr_db_median": mean_db(s, np.median),
        "sndr_channel_db_mean": mean_db(sndr_channel_db(spikes, rec)),
    }
    if clean is not None:
        c = sndr_db(clean, rec)
        row["sndr_clean_db_mean"] = mean_db(c)
        row["sndr_clean_db_median"] = mean_db(c, np.median)
    else:
        c = np.zeros(0)
        row["sndr_clean_db_mean"] = row["sndr_clean_db_median"] = math.nan
    if np.isnan(s).any() or np.isnan(c).any():
        row["sndr_note"] = (f"undefined (reference has zero power) for {int(np.isnan(s).sum())} of {len(s)} spikes"
                            + (f", {int(np.isnan(c).sum())} against the clean twin" if clean is not None else ""))
    return row
