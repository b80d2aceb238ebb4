"""Rate-distortion sweep: CAE checkpoints at several rates against PCA, DWT and compressive
sensing at the same bits per spike, all scored on the same held-out spikes.

Baselines are fitted on ``fit`` (other recordings), every method is scored on ``score``; SNDR is
against the noise-free twin where the data has one, else against the input. PCA at ``b`` bits keeps
``round(b / 8)`` coefficients of ``floor(b / k)`` (<= 8) bits; CS the same number of measurements;
DWT needs 16 bits per kept coefficient (8 value + 8 position), so it has no point below 16 bits.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from hwcae import RAW_BITS_PER_SPIKE
from hwcae.baselines.cs import CSCodec
from hwcae.baselines.dwt import DWTCodec
from hwcae.baselines.pca import PCACodec
from hwcae.metrics import sndr_db
from hwcae.spikes.spikeset import SpikeSet

BASELINES = ("pca", "dwt", "cs")


def reference(score: SpikeSet) -> np.ndarray:
    """What reconstructions are scored against: the clean twin if present, else the input."""
    return score.clean if score.clean is not None else score.spikes


def sndr_mean(score: SpikeSet, rec: np.ndarray) -> float:
    return float(np.mean(sndr_db(reference(score), rec)))


def baseline_at(name: str, bits: float):
    """A baseline codec spending at most ``bits`` per spike, or None where it cannot."""
    if name == "pca":
        k = max(1, int(round(bits / 8)))
        return PCACodec(k, min(8, max(2, int(bits // k))))
    if name == "cs":
        return CSCodec.at_budget(bits)
    if name == "dwt":
        return DWTCodec.at_budget(bits) if bits >= 16 else None
    raise ValueError(name)


def family(arch) -> str:
    """Which sweep a model belongs to: the default (both), fewer latent vectors, or another codebook size."""
    if arch.vq.codebook_size != 128:
        return "codebook size"
    return "both" if arch.indices_per_spike == 16 else "latent vectors"


def cae_point(name: str, codec, score: SpikeSet, keep: dict | None = None) -> dict:
    """One CAE point: fixed-length and real container rates, SNDR; ``codec`` is a :class:`Codec`.
    ``keep`` (optional) receives ``name -> (indices, reconstruction)`` for reuse."""
    from hwcae.codec.bitstream import cr_bytes

    idx = codec.encode(score.spikes)
    rec = codec.decode(idx)
    if keep is not None:
        keep[name] = (idx, rec)
    bits = codec.arch.bits_per_spike_fixed
    return {"name": name, "kind": codec.payload["kind"], "family": family(codec.arch), "bits_per_spike": bits,
            "cr_fixed": RAW_BITS_PER_SPIKE / bits, "cr_bytes": cr_bytes(len(idx), len(codec.pack(idx))),
            "sndr_db_mean": sndr_mean(score, rec)}


def baseline_point(name: str, bits: float, fit: SpikeSet, score: SpikeSet) -> dict | None:
    codec = baseline_at(name, bits)
    if codec is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # OMP warns when it stops early on a dependent dictionary
        codec.fit(fit.spikes)
        rec = codec.roundtrip(score.spikes)
    b = codec.bits_per_spike
    return {"name": name, "bits_per_spike": float(b), "cr_fixed": RAW_BITS_PER_SPIKE / b,
            "sndr_db_mean": sndr_mean(score, rec)}


def sweep(codecs: dict, fit: SpikeSet, score: SpikeSet, progress: bool = False, keep: dict | None = None,
          baselines: bool = True) -> dict:
    """{"cae": [points], "pca"/"dwt"/"cs": [points at each CAE point's bits]}, sorted by rate;
    ``keep`` receives each model's (indices, reconstruction) of ``score``; ``baselines=False``: the CAE
    points only (another model's sweep at rates a first sweep already has baselines for)."""
    items = list(codecs.items())
    if progress:
        from tqdm import tqdm
        items = tqdm(items, desc="rate-distortion", unit="model")
    cae = sorted((cae_point(n, c, score, keep) for n, c in items), key=lambda p: p["bits_per_spike"])
    out = {"cae": cae}
    for b in BASELINES if baselines else ():
        pts = [baseline_point(b, p["bits_per_spike"], fit, score) for p in cae if p["kind"] == "float"]
        out[b] = [p for p in pts if p is not None]
    return out


def nearest_rate(points: list[dict], cr_fixed: float) -> dict | None:
    """The point whose ``cr_fixed`` is nearest to ``cr_fixed`` on a log scale (None if no points)."""
    return min(points, key=lambda x: abs(math.log(x["cr_fixed"] / cr_fixed)), default=None)


def verdicts(rd: dict) -> list[dict]:
    """For each float CAE point and baseline: the margin in dB (CAE minus baseline), or None."""
    rows = []
    for p in rd["cae"]:
        if p["kind"] != "float":
            continue
        row = {"cae": p["name"], "cr_fixed": p["cr_fixed"], "cae_db": p["sndr_db_mean"]}
        for b in BASELINES:
            near = [x for x in rd[b] if math.isclose(x["cr_fixed"], p["cr_fixed"], rel_tol=0.35)]
            q = nearest_rate(near, p["cr_fixed"])  # another point within 35 % is not "the same bits"
            row[b] = None if q is None else p["sndr_db_mean"] - q["sndr_db_mean"]
        rows.append(row)
    return rows
