"""The report's figures (matplotlib, Agg): one function per figure, each writes one PNG."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from hwcae.fileio import atomic_path  # noqa: E402

STYLE = {"cae": dict(color="C0", marker="o", lw=2), "seed": dict(color="C5", marker="D", lw=1.5),
         "cae (fixed point)": dict(color="C3", marker="*", ms=12, ls=""),
         "pca": dict(color="C1", marker="s"), "dwt": dict(color="C2", marker="^"), "cs": dict(color="C4", marker="v")}


def _save(fig, path: Path) -> str:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, bbox_inches="tight", format="png")
    plt.close(fig)
    return path.name


def _cr_axis(ax) -> None:
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator([20, 50, 100, 200, 500]))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def rd_curves(rd_by_data: dict, path: Path) -> str:
    fig, axes = plt.subplots(1, len(rd_by_data), figsize=(6 * len(rd_by_data), 4.2), squeeze=False)
    for ax, (label, rd) in zip(axes[0], rd_by_data.items()):
        for series, key in (("CAE", "cae"), ("seed's shape (paper)", "seed")):
            flt = [p for p in rd.get(key, []) if p["kind"] == "float"]
            for fam, style in (("latent vectors", "-"), ("codebook size", ":")):
                pts = [p for p in flt if p.get("family") in (fam, "both")]
                if len(pts) > 1 or (fam == "latent vectors" and pts):
                    ax.plot([p["cr_fixed"] for p in pts], [p["sndr_db_mean"] for p in pts],
                            label=f"{series}, {fam} varied", **{**STYLE[key], "ls": style})
        fx = [p for p in rd["cae"] if p["kind"] == "qat"]
        if fx:
            ax.plot([p["cr_fixed"] for p in fx], [p["sndr_db_mean"] for p in fx], label="CAE (fixed point)",
                    **STYLE["cae (fixed point)"])
        for b in ("pca", "dwt", "cs"):
            if rd[b]:
                ax.plot([p["cr_fixed"] for p in rd[b]], [p["sndr_db_mean"] for p in rd[b]], label=b.upper(), **STYLE[b])
        _cr_axis(ax)
        ax.set_xlabel("compression ratio (fixed-length bits)")
        ax.set_ylabel("SNDR (dB, mean)")
        ax.set_title(label)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)  # below: the curves stay clear
    return _save(fig, path)


#: Axis labels of the robustness perturbations, with units.
ROBUSTNESS_AXES = {"shift_samples": "shift (samples)", "amplitude_factor": "amplitude (x the original)",
                   "width_factor": "width around the peak (x the original)", "added_noise_uv": "added white noise (uV RMS)"}


def robustness(rob: dict, path: Path) -> str:
    kinds = list(rob)
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 3.6), squeeze=False)
    for ax, k in zip(axes[0], kinds):
        d = rob[k]
        for name in (n for n in d if n != "x"):
            ax.plot(d["x"], d[name], marker="o", label=name)
        ax.set_xlabel(ROBUSTNESS_AXES.get(k, k.replace("_", " ")))
        ax.set_ylabel("SNDR vs clean (dB, mean)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, path)


def sorting(sort: dict, path: Path) -> str:
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in ("cae", "pca"):
        pts = [p for p in sort.get(name, []) if p.get("family", "both") in ("latent vectors", "both")]
        if pts:
            ax.plot([p["cr_fixed"] for p in pts], [100 * p["accuracy"] for p in pts], label=name.upper(), **STYLE[name])
    ax.axhline(100 * sort["original_accuracy"], color="k", ls="--", label="original spikes")
    _cr_axis(ax)
    ax.set_xlabel("compression ratio")
    ax.set_ylabel("sorting accuracy (%)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, path)


def examples(ex: dict, path: Path) -> str:
    units = ex["units"]
    fig, axes = plt.subplots(1, len(units), figsize=(2.6 * len(units), 3.4), squeeze=False, sharey=False)
    t = np.arange(64)
    for ax, u in zip(axes[0], units):
        for ch in range(4):
            off = -ch * u["offset_uv"]
            ax.plot(t, np.asarray(u["noisy"][ch]) + off, color="0.75", lw=1, label="input" if ch == 0 else None)
            if u.get("clean") is not None:
                ax.plot(t, np.asarray(u["clean"][ch]) + off, color="k", lw=1, label="clean" if ch == 0 else None)
            ax.plot(t, np.asarray(u["cae"][ch]) + off, color="C0", lw=1.4, label="CAE" if ch == 0 else None)
            ax.plot(t, np.asarray(u["pca"][ch]) + off, color="C1", lw=1, ls="--", label="PCA" if ch == 0 else None)
        ax.set_title(f"unit {u['label']}", fontsize=9)
        ax.set_yticks([])
        ax.set_xlabel("sample")
    axes[0][0].legend(fontsize=7, loc="lower right")
    return _save(fig, path)


def codebook_usage(counts: list[int], path: Path) -> str:
    fig, ax = plt.subplots(figsize=(7, 3))
    c = np.asarray(counts, float)
    order = np.argsort(-c)
    ax.bar(np.arange(len(c)), c[order] / max(c.sum(), 1), width=1.0, color="C0")
    ax.set_xlabel("codeword (sorted by use)")
    ax.set_ylabel("share of indices")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def float_vs_fixed(rows: list[dict], path: Path) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.4))
    names = [r["name"] for r in rows]
    ax.bar(names, [r["sndr_db_mean"] for r in rows], color=["C0"] + ["C3"] * (len(rows) - 1))
    ax.set_ylabel("SNDR (dB, mean)")
    ax.tick_params(axis="x", rotation=30)
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)
