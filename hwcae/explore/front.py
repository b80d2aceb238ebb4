"""The study's results: every trial, the Pareto front, the committed designs beside it.

``<out>/trials.csv`` (every trial, failures with their reason), ``front.csv`` / ``front.md`` (the
feasible non-dominated trials: SNDR max, uW/channel min, area min), ``front.png`` (SNDR vs
uW/channel, area as colour, committed designs marked) and ``front.json`` (all of it as data: the
HTML report reads it).
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from hwcae.fileio import atomic_path, json_text, write_text_atomic
from hwcae.quantize.design import qat_checkpoint

COLUMNS = ["id", "sndr_db", "pca_db", "uw_per_channel", "area_mm2", "gates_ge", "bits_per_spike", "encoder", "bits",
           "lanes", "clock_mhz", "node"]


def rows(study) -> list[dict]:
    """One row per trial (newest storage state)."""
    out = []
    for t in study.get_trials(deepcopy=False):
        a, p = t.user_attrs, t.params
        enc = p.get("encoder", "")
        if enc == "generated":
            enc = f"dense {p['depth']}x{p['width']}, {p['positions']}x{p['latent_dim']}, K={p['codebook_size']}"
        r = {"id": t.number, "state": t.state.name, "encoder": enc, "arch": a.get("arch", ""),
             "bits": "/".join(str(p.get(f"{k}_bits", "")) for k in ("input", "weights", "activations", "latent", "codebook")),
             "lanes": p.get("lanes"), "clock_mhz": p.get("clock_mhz"), "node": p.get("node"),
             "reason": a.get("failure", ""), "feasible": bool(t.state.name == "COMPLETE" and max(a.get("constraints", [1])) <= 0)}
        for k in ("sndr_db", "pca_db", "uw_per_channel", "area_mm2", "gates_ge", "bits_per_spike", "val_sndr_db",
                  "float_val_sndr_db", "saturated_per_spike", "power_mw", "seconds", "float_trained", "same_as", "worker"):
            r[k] = a.get(k)
        out.append(r)
    return out


def dominates(a: dict, b: dict) -> bool:
    x = (-a["sndr_db"], a["uw_per_channel"], a["area_mm2"])
    y = (-b["sndr_db"], b["uw_per_channel"], b["area_mm2"])
    return all(i <= j for i, j in zip(x, y)) and x != y


def pareto(table: list[dict]) -> list[dict]:
    """Feasible trials no other feasible trial dominates, best SNDR first (ties: the earliest id)."""
    ok = [r for r in table if r["feasible"]]
    front, seen = [], set()
    for r in ok:
        key = (r["sndr_db"], r["uw_per_channel"], r["area_mm2"])
        if key not in seen and not any(dominates(o, r) for o in ok):
            front.append(r)
            seen.add(key)
    return sorted(front, key=lambda r: (-r["sndr_db"], r["id"]))


def place(point: dict, front: list[dict]) -> str:
    """Where a committed design lies relative to the front, in words."""
    by = [f for f in front if dominates(f, point)]
    if not by:
        beats = [f["id"] for f in front if dominates(point, f)]
        text = "on the front (no trial dominates it" + (f"; it dominates trials {beats})" if beats else ")")
        cheaper = [f for f in front if f["uw_per_channel"] <= point["uw_per_channel"] and f["area_mm2"] <= point["area_mm2"]]
        if cheaper:  # how far: the best front point that costs no more on either axis
            n = max(cheaper, key=lambda f: f["sndr_db"])
            text += (f"; the best trial costing no more, {n['id']}, is {n['sndr_db'] - point['sndr_db']:+.2f} dB at "
                     f"{n['uw_per_channel'] / point['uw_per_channel']:.2f}x the uW/channel and "
                     f"{n['area_mm2'] / point['area_mm2']:.2f}x the area")
        return text
    best = max(by, key=lambda f: f["sndr_db"] - point["sndr_db"])
    return (f"dominated by trial {best['id']}: {best['sndr_db'] - point['sndr_db']:+.2f} dB at "
            f"{best['uw_per_channel'] / point['uw_per_channel']:.2f}x the uW/channel and "
            f"{best['area_mm2'] / point['area_mm2']:.2f}x the area")


def committed_points(space, root: Path) -> list[dict]:
    """Each committed design (``models/qat-<d>.pt``) scored as a trial is, at the space's committed
    hardware point; cached in ``<out>/committed.json`` per space."""
    from hwcae.explore.study import space_hash
    from hwcae.explore.trial import cost, quality
    from hwcae.cost.report import RTL_BUILD_DIR

    cache = root / "committed.json"
    # changes when the scoring does, when a committed checkpoint is re-derived, or when its RTL build
    # (whose measured gates the cost uses instead of the estimate) appears, goes or is rebuilt
    c = space.committed
    paths = [Path(qat_checkpoint(d)) for d in c.designs]
    builds = [RTL_BUILD_DIR / d / "rtl" / f for d in c.designs for f in ("verify.json", "synth.json")]
    files = hashlib.sha256(b"".join(p.read_bytes() if p.is_file() else b"-" for p in paths + builds)).hexdigest()[:16]
    key = f"{space_hash(space)}:quality-spread:{files}"
    if cache.is_file():
        got = json.loads(cache.read_text())
        if got.get("space_hash") == key:
            return got["points"]
    from hwcae.model.checkpoint import load_checkpoint

    points = []
    for d, path in zip(c.designs, paths):
        if not path.is_file():
            continue
        r = {"design": d, **cost(space, path, {"lanes": c.lanes, "clock_mhz": c.clock_mhz, "node": c.node})}
        q = quality(space, load_checkpoint(path, kind="qat"))
        r.update(sndr_db=sum(v["sndr_db"] for v in q.values()) / len(q), pca_db=sum(v["pca_db"] for v in q.values()) / len(q))
        points.append(r)
    write_text_atomic(cache, json_text({"space_hash": key, "points": points}))
    return points


def _md(table: list[dict], cols: list[str]) -> str:
    def fmt(v):
        return f"{v:.3g}" if isinstance(v, float) and abs(v) >= 100 else f"{v:.2f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in table]
    return "\n".join(lines)


def write_outputs(space, study, root: Path, *, committed: bool = True) -> dict:
    import pandas as pd

    table = rows(study)
    front = pareto(table)
    points = committed_points(space, root) if committed else []
    op = space.operating_point
    for p in points:
        over = [f"power {p['power_mw']:.3g} > {op.power_budget_mw:g} mW"] if p["power_mw"] > op.power_budget_mw else []
        over += [f"area {p['area_mm2']:.3g} > {op.area_budget_mm2:g} mm^2"] if p["area_mm2"] > op.area_budget_mm2 else []
        p["placement"] = ("over budget: " + ", ".join(over) + "; " if over else "") + place(p, front)
    data = {"study": space.name, "operating_point": op.model_dump(), "committed_hardware": space.committed.model_dump(),
            "quality_sets": list(space.data.quality), "trials": table, "front": front, "committed": points,
            "counts": {s: sum(r["state"] == s for r in table) for s in ("COMPLETE", "FAIL", "RUNNING", "WAITING")}}
    write_text_atomic(root / "front.json", json_text(data))
    write_text_atomic(root / "trials.csv", pd.DataFrame(table).to_csv(index=False))
    write_text_atomic(root / "front.csv", pd.DataFrame(front, columns=COLUMNS).to_csv(index=False))
    md = [f"# Pareto front of study `{space.name}`", "",
          f"{len(table)} trials ({data['counts']['COMPLETE']} complete, {data['counts']['FAIL']} failed); "
          f"{sum(r['feasible'] for r in table)} feasible; {len(front)} on the front. Operating point: "
          f"{op.channels} channels at {op.rate_hz:g} spikes/s, budgets {op.power_budget_mw:g} mW and "
          f"{op.area_budget_mm2:g} mm^2. SNDR: mean dB vs clean over {', '.join(space.data.quality)}.", "",
          _md(front, COLUMNS)]
    if points:
        md += ["", "Committed designs (at their hardware point):", "",
               _md(points, ["design", "sndr_db", "pca_db", "uw_per_channel", "area_mm2", "gates_ge", "placement"])]
    write_text_atomic(root / "front.md", "\n".join(md) + "\n")
    plot(table, front, points, root / "front.png")
    return data


def plot(table: list[dict], front: list[dict], points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in table if r["state"] == "COMPLETE" and r["sndr_db"] is not None and math.isfinite(r["sndr_db"])]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    areas = [r["area_mm2"] for r in ok + points] or [1.0]
    norm = matplotlib.colors.LogNorm(max(min(areas), 1e-4), max(max(areas), 2e-4))
    if ok:
        sc = ax.scatter([r["uw_per_channel"] for r in ok], [r["sndr_db"] for r in ok], c=[r["area_mm2"] for r in ok],
                        norm=norm, cmap="viridis", s=[14 if not r["feasible"] else 30 for r in ok], alpha=0.8,
                        label="trials (small: infeasible)")
        fig.colorbar(sc, ax=ax, label="area at the operating point (mm$^2$)")
    if front:
        f = sorted(front, key=lambda r: r["uw_per_channel"])
        ax.plot([r["uw_per_channel"] for r in f], [r["sndr_db"] for r in f], "o", mfc="none", mec="crimson", ms=11,
                label="Pareto front")
    for p in points:
        ax.scatter([p["uw_per_channel"]], [p["sndr_db"]], marker="*", s=180, c=[p["area_mm2"]], norm=norm,
                   cmap="viridis", edgecolors="black")
        ax.annotate(p["design"], (p["uw_per_channel"], p["sndr_db"]), textcoords="offset points", xytext=(6, 4), fontsize=8)
    if points:
        ax.scatter([], [], marker="*", s=120, c="white", edgecolors="black", label="committed designs")
    ax.set_xlabel("power per channel (uW) at the operating point")
    ax.set_ylabel("SNDR vs clean (dB), suite validation sets")
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    if ok or points:
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
