"""The external benchmark: spike sets made outside the training scenes, each scored on its own.

``hwcae/spikes/suite.yaml`` names the sets; each is a scene (:mod:`hwcae.spikes.scene`) of a few
recordings, cut by detection on the noisy trace. Protocol per set, the same as ``hwcae eval``:
baselines fitted on the set's first half (in time), every row scored on its second half, SNDR
(mean per-spike dB) against the clean twin. Two splits draw the same scenes with different seeds:
``val`` (for choosing recipes) and ``final`` (reported once, never used for a choice).
"""
from __future__ import annotations

import math

from hwcae.errors import HwcaeError
from hwcae.spikes.scene import suite
from hwcae.spikes.spikeset import SpikeSet
from hwcae.spikes.synth import suite_set


def set_names(only: list[str] | None = None) -> list[str]:
    """The suite's set names in file order, or the given subset (checked)."""
    names = list(suite().sets)
    for n in only or []:
        if n not in names:
            raise HwcaeError(f"unknown suite set {n!r}; choose from {', '.join(names)}")
    return [n for n in names if not only or n in only]


def score_set(data: SpikeSet, checkpoints: dict[str, dict], rd_checkpoints: dict[str, dict] | None = None) -> dict:
    """One set: each checkpoint's row and the baselines at the first checkpoint's bits, the reference
    levels, and (with ``rd_checkpoints``) the rate-distortion margins against PCA at each model's bits."""
    from hwcae.evaluate.bounds import bounds
    from hwcae.evaluate.equal_rate import equal_rate_row
    from hwcae.evaluate.table import baseline_rows, cae_row

    fit, score = data.halves()
    rows = {name: cae_row(p, score) for name, p in checkpoints.items()}
    for row in rows.values():  # PCA given each model's real .hwc bits (hwcae.evaluate.equal_rate)
        row["equal_rate"] = equal_rate_row(row, fit, score)
    bits = next(iter(rows.values()))["bits_per_spike"]
    out = {"spikes": len(data), "fit_spikes": len(fit), "scored_spikes": len(score), "cae": rows,
           "baselines": baseline_rows(fit, score, bits), "bounds": bounds(fit, score)}
    if rd_checkpoints:
        from hwcae.stream.codec import Codec
        from hwcae.evaluate import rd

        sweep = rd.sweep({n: Codec(p) for n, p in rd_checkpoints.items()}, fit, score)
        out["rd"] = {"points": sweep, "margins": rd.verdicts(sweep)}
    return out


def run_suite(checkpoints: dict[str, dict], *, split: str = "final", only: list[str] | None = None,
              rd_checkpoints: dict[str, dict] | None = None, progress: bool = True) -> dict:
    """Score every set (or ``only`` these) of one split; ``{set: score_set(...)}``."""
    names = set_names(only)
    it = names
    if progress:
        from tqdm import tqdm
        it = tqdm(names, desc=f"suite ({split})", unit="set")
    return {name: score_set(suite_set(name, split, progress=False), checkpoints, rd_checkpoints) for name in it}


def margins(result: dict, model: str) -> dict[str, float]:
    """CAE minus PCA (dB) per set for one model."""
    return {n: r["cae"][model]["sndr_clean_db_mean"] - r["baselines"]["pca"]["sndr_clean_db_mean"]
            for n, r in result.items()}


def worst_rd_margin(result: dict) -> tuple[float, str]:
    """The smallest CAE - PCA margin (dB) over every set and R-D point, and where it is."""
    worst = (math.inf, "")
    for name, r in result.items():
        for row in r.get("rd", {}).get("margins", []):
            if row["pca"] is not None and row["pca"] < worst[0]:
                worst = (row["pca"], f"{name}, {row['cae']} (CR {row['cr_fixed']:.0f})")
    return worst


def format_suite(result: dict) -> str:
    """One line per set: each model's SNDR vs clean, PCA, DWT, the reference levels, and each
    model's margin over PCA; then the R-D margins if they were measured."""
    models = list(next(iter(result.values()))["cae"])
    w = max(8, *(len(m) + 1 for m in models))
    head = (f"{'set':<18}{'spikes':>7}" + "".join(f"{m:>{w}}" for m in models) + f"{'PCA':>8}{'DWT':>8}"
            f"{'noisy':>8}{'linear':>8}" + "".join(f"{'-PCA':>{w}}" for _ in models))
    lines = ["SNDR vs clean, mean dB (second half of each set; PCA/DWT fitted on the first half; 'noisy' = the "
             "input uncoded, 'linear' = best linear denoiser fitted with clean targets, no rate limit)", head]
    for name, r in result.items():
        pca = r["baselines"]["pca"]["sndr_clean_db_mean"]
        b = r.get("bounds", {})
        lines.append(f"{name:<18}{r['scored_spikes']:>7}"
                     + "".join(f"{r['cae'][m]['sndr_clean_db_mean']:>{w}.2f}" for m in models)
                     + f"{pca:>8.2f}{r['baselines']['dwt']['sndr_clean_db_mean']:>8.2f}"
                     + f"{b.get('noisy_input', math.nan):>8.2f}{b.get('linear_mmse', math.nan):>8.2f}"
                     + "".join(f"{r['cae'][m]['sndr_clean_db_mean'] - pca:>+{w}.2f}" for m in models))
    if all("equal_rate" in r["cae"][m] for r in result.values() for m in models):
        lines += format_equal_rate(result, models)
    if any("rd" in r for r in result.values()):
        names = [p["cae"] for p in next(r for r in result.values() if "rd" in r)["rd"]["margins"]]
        crs = [p["cr_fixed"] for p in next(r for r in result.values() if "rd" in r)["rd"]["margins"]]
        lines.append("rate-distortion: CAE minus PCA at the same bits (dB), per set and CR")
        lines.append(f"{'set':<18}" + "".join(f"{f'CR {c:.0f}':>9}" for c in crs))
        for name, r in result.items():
            by = {m["cae"]: m["pca"] for m in r.get("rd", {}).get("margins", [])}
            lines.append(f"{name:<18}" + "".join(f"{by.get(n, math.nan):>+9.2f}" for n in names))
        worst, where = worst_rd_margin(result)
        lines.append(f"smallest margin: {worst:+.2f} dB ({where})")
    return "\n".join(lines)


def format_equal_rate(result: dict, models: list[str]) -> list[str]:
    """Per set, each model minus PCA given that model's real ``.hwc`` bits per spike: PCA at 8-bit
    fixed length / entropy coded (:mod:`hwcae.evaluate.equal_rate`)."""
    w = max(16, *(len(m) + 2 for m in models))
    lines = ["at each model's real rate (its .hwc bits per spike): CAE minus PCA at those bits, 8-bit fixed length / "
             "entropy coded (static tables from the first half; estimated bits)",
             f"{'set':<18}" + "".join(f"{m:>{w}}" for m in models)]
    for name, r in result.items():
        cells = []
        for m in models:
            e = r["cae"][m]["equal_rate"]
            cells.append(f"{e['cae_db'] - e['pca_fixed_db']:+.2f} / {e['cae_db'] - e['pca_coded_db']:+.2f}")
        lines.append(f"{name:<18}" + "".join(f"{c:>{w}}" for c in cells))
    return lines
