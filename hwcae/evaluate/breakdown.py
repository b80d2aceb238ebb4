"""Per-recording breakdown of ``hwcae eval`` (``--by-recording``): where a codec wins or loses.

One row per recording of the scored spikes: its spike count, sampling rate (Hz), the noise it
carries (rms of noisy - clean, uV; needs clean twins) and each method's mean SNDR in dB: against
the clean twin where there is one, else against the input. ``input`` is the noisy spikes
themselves, uncoded (only with clean twins).
"""
from __future__ import annotations

import math

import numpy as np

from hwcae.errors import HwcaeError
from hwcae.metrics import sndr_db
from hwcae.spikes.spikeset import SpikeSet


def recording_ids(score: SpikeSet) -> np.ndarray:
    """The spikes' recording ids, or one clear error where the data has none."""
    if score.recording is None:
        raise HwcaeError("--by-recording needs recording ids in --data (an npz 'recording' array)")
    return score.recording


def by_recording(score: SpikeSet, recons: dict[str, np.ndarray]) -> list[dict]:
    """Rows ``{recording, spikes, fs_hz, noise_uv, <method>: dB ...}`` for each recording id."""
    ids = recording_ids(score)
    ref = score.spikes if score.clean is None else score.clean
    methods = dict(recons) if score.clean is None else {"input": score.spikes, **recons}
    per_spike = {name: sndr_db(ref, rec) for name, rec in methods.items()}
    fs = score.fs_per_spike()
    rows = []
    for rec_id in np.unique(ids):
        m = ids == rec_id
        row = {"recording": rec_id.item(), "spikes": int(m.sum()),
               "fs_hz": float(fs[m][0]),
               "noise_uv": math.nan if score.clean is None
               else float(np.sqrt(np.mean((score.spikes[m] - score.clean[m]) ** 2)))}
        row.update({name: float(s[m].mean()) for name, s in per_spike.items()})
        rows.append(row)
    return rows


def format_breakdown(rows: list[dict], vs_clean: bool) -> str:
    import pandas as pd

    df = pd.DataFrame(rows).set_index("recording")
    if {"cae", "pca"} <= set(df.columns):
        df["cae - pca"] = df["cae"] - df["pca"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        body = df.to_string(float_format=lambda v: f"{v:.2f}")
    return f"by recording, mean SNDR {'vs clean' if vs_clean else 'vs input'} (dB):\n{body}"
