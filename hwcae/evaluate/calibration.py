"""What calibration (``hwcae adapt``) buys on the external suite, per set and level.

Deployment-like protocol: each recording of a set is split in time; the first half of every
recording (noisy spikes only: the clean twin is not passed to ``adapt``) calibrates the checkpoint
and fits PCA, the second halves are scored against their clean twins. One calibration per set and
level (the recordings of a set share it, as channels of one probe would).
"""
from __future__ import annotations

import numpy as np

from hwcae.spikes.spikeset import SpikeSet


def time_halves(data: SpikeSet) -> tuple[SpikeSet, SpikeSet]:
    """(first half in time of every recording, the second halves); one recording if none is marked."""
    rec = data.recording if data.recording is not None else np.zeros(len(data), np.int64)
    first = np.zeros(len(data), bool)
    for r in np.unique(rec):
        ix = np.flatnonzero(rec == r)
        first[ix[: len(ix) // 2]] = True
    return data.subset(first), data.subset(~first)


def calibrate_set(data: SpikeSet, checkpoints: dict[str, dict], levels: list[str], *, epochs: int | None = None,
                  seed: int = 0) -> dict:
    """Per checkpoint: the generic row and one row per calibration level, with PCA on the same half."""
    from hwcae.adapt.calibrate import adapt
    from hwcae.evaluate.table import baseline_rows, cae_row
    from hwcae.model.checkpoint import sealed

    fit, score = time_halves(data)
    noisy_only = fit.spikes.copy()  # nothing else of the first half reaches adapt
    out = {"fit_spikes": len(fit), "scored_spikes": len(score), "models": {}}
    bits = None
    for name, payload in checkpoints.items():
        rows = {"generic": cae_row(payload, score)}
        for level in levels:
            p = sealed(adapt(payload, noisy_only, level=level, epochs=epochs, seed=seed, progress=False))
            rows[level] = cae_row(p, score)
            rows[level]["adapt"] = {k: v for k, v in p["adapt"].items() if k != "history"}
        out["models"][name] = rows
        bits = bits or rows["generic"]["bits_per_spike"]
    out["pca"] = baseline_rows(fit, score, bits)["pca"]
    return out


def run_calibration(checkpoints: dict[str, dict], levels: list[str], *, split: str = "final",
                    only: list[str] | None = None, epochs: int | None = None, progress: bool = True) -> dict:
    from hwcae.evaluate.suite import set_names
    from hwcae.spikes.synth import suite_set

    names = set_names(only)
    it = names
    if progress:
        from tqdm import tqdm
        it = tqdm(names, desc=f"calibrate ({split})", unit="set")
    return {n: calibrate_set(suite_set(n, split, progress=False), checkpoints, levels, epochs=epochs) for n in it}


def format_calibration(result: dict) -> str:
    """One line per set and model: PCA, the generic model and each level, SNDR vs clean and margin."""
    first = next(iter(result.values()))
    levels = [k for k in next(iter(first["models"].values())) if k != "generic"]
    cols = ["generic", *levels]
    lines = ["calibration: each recording's first half in time calibrates (noisy spikes only) and fits PCA; "
             "second halves scored, SNDR vs clean (dB); in brackets: minus PCA",
             f"{'set':<18}{'model':<10}{'PCA':>8}" + "".join(f"{c:>16}" for c in cols)]
    for name, r in result.items():
        pca = r["pca"]["sndr_clean_db_mean"]
        for model, rows in r["models"].items():
            cells = "".join(f"{rows[c]['sndr_clean_db_mean']:>8.2f} ({rows[c]['sndr_clean_db_mean'] - pca:+5.2f})"
                            for c in cols)
            lines.append(f"{name:<18}{model:<10}{pca:>8.2f}{cells}")
    return "\n".join(lines)
