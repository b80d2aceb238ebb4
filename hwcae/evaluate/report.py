"""``hwcae report``: every claim of the seed paper measured on held-out data, as one HTML page.

Numbers go to ``report.json`` (everything the page shows), figures to PNGs beside ``index.html``.
On the built-in data the CAE is scored on the second half of the ``test`` split (recordings of the
training settings, never trained on) and of the ``unseen`` split (settings never used in training);
baselines are fitted on the first half. With ``--data`` the same halves of the user's spikes.
"""
from __future__ import annotations

import datetime
import glob
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwcae import RAW_BITS_PER_SPIKE
from hwcae.evaluate import plots, rd as rdmod, robustness as robmod, seed_arch
from hwcae.evaluate.sorting import sorting_accuracy
from hwcae.fileio import write_text_atomic
from hwcae.spikes.spikeset import SpikeSet


@dataclass
class Inputs:
    data: list[str] = field(default_factory=lambda: ["synth:test", "synth:unseen"])
    float_checkpoint: str = "models/float.pt"
    rd_checkpoints: list[str] = field(default_factory=lambda: sorted(glob.glob("models/rd/*.pt")))
    qat_checkpoints: list[str] = field(default_factory=lambda: sorted(glob.glob("models/qat-*.pt")))
    default_design: str = "models/qat-w8a8.pt"
    seed_pairs: dict = field(default_factory=lambda: dict(seed_arch.PAIRS))  # the seed's model beside the default
    # the seed's shape at other rates (models/rd-paper/), with its own 115-bit float point, beside the sweep
    seed_rd_checkpoints: list[str] = field(default_factory=lambda: sorted(
        glob.glob("models/float-paper.pt") + glob.glob("models/rd-paper/*.pt")))
    quick: bool = False
    progress: bool = True

    @property
    def max_score(self) -> int:
        return 1500 if self.quick else 12000

    @property
    def max_robust(self) -> int:
        return 600 if self.quick else 3000


def _codecs(paths: list[str]) -> dict:
    from hwcae.stream.codec import Codec
    from hwcae.model.checkpoint import load_checkpoint

    return {Path(p).stem: Codec(load_checkpoint(p)) for p in paths}


def _split(data: SpikeSet, n: int) -> tuple[SpikeSet, SpikeSet]:
    fit, score = data.halves()
    if len(score) > n:  # an even spread over the scored recordings
        score = score.subset(np.linspace(0, len(score) - 1, n).astype(int))
    return fit, score


def _fs_breakdown(rec: np.ndarray, pca, score: SpikeSet) -> list[dict]:
    """SNDR of the default CAE (its reconstruction ``rec`` of ``score``) and PCA per sampling rate."""
    fs = score.fs_per_spike()
    out = []
    for f in np.unique(fs):
        sel = np.flatnonzero(fs == f)
        sub = score.subset(sel)
        out.append({"fs_hz": float(f), "spikes": len(sub), "cae_db": rdmod.sndr_mean(sub, rec[sel]),
                    "pca_db": rdmod.sndr_mean(sub, pca.roundtrip(sub.spikes))})
    return out


def _sorting(codecs: dict, recons: dict, fit: SpikeSet, score: SpikeSet) -> dict | None:
    """Sorting accuracy on originals and on each float CAE's (``recons``) and PCA's reconstructions."""
    if score.labels is None:
        return None
    acc = {"original_accuracy": sorting_accuracy(score.spikes, score.labels, score.recording), "cae": [], "pca": []}
    for name, c in codecs.items():
        if c.payload["kind"] != "float":
            continue
        b = c.arch.bits_per_spike_fixed
        fam = rdmod.family(c.arch)
        acc["cae"].append({"name": name, "cr_fixed": RAW_BITS_PER_SPIKE / b, "family": fam,
                           "accuracy": sorting_accuracy(recons[name][1], score.labels, score.recording)})
        p = rdmod.baseline_at("pca", b).fit(fit.spikes)
        acc["pca"].append({"cr_fixed": RAW_BITS_PER_SPIKE / p.bits_per_spike, "family": fam,
                           "accuracy": sorting_accuracy(p.roundtrip(score.spikes), score.labels, score.recording)})
    for k in ("cae", "pca"):
        acc[k].sort(key=lambda p: p["cr_fixed"])
    return acc


def _examples(codec, pca, score: SpikeSet, n_units: int = 5) -> dict:
    rec_ids = score.recording if score.recording is not None else np.zeros(len(score), int)
    first = rec_ids == rec_ids[0]
    labels = score.labels if score.labels is not None else np.zeros(len(score), int)
    units, counts = np.unique(labels[first], return_counts=True)
    out = []
    for u in units[np.argsort(-counts)][:n_units]:
        i = int(np.flatnonzero(first & (labels == u))[0])
        x = score.spikes[i:i + 1]
        clean = None if score.clean is None else score.clean[i].tolist()
        out.append({"label": int(u), "noisy": x[0].tolist(), "clean": clean,
                    "cae": codec.decode(codec.encode(x))[0].tolist(), "pca": pca.roundtrip(x)[0].tolist(),
                    "offset_uv": float(1.2 * np.abs(x).max())})
    return {"units": out}


def _statements(rd: dict, sort: dict | None) -> list[str]:
    lines, v = [], rdmod.verdicts(rd)
    for b in rdmod.BASELINES:
        wins = [(x["cr_fixed"], x[b]) for x in v if x[b] is not None]
        if not wins:
            continue
        beat = ", ".join(f"CR {cr:.0f} ({d:+.1f} dB)" for cr, d in wins if d > 0)
        lose = ", ".join(f"CR {cr:.0f} ({d:+.1f} dB)" for cr, d in wins if d <= 0)
        if not lose:
            lines.append(f"CAE vs {b.upper()}: better at every rate compared: {beat}.")
        elif not beat:
            lines.append(f"CAE vs {b.upper()}: better at no rate; not better at {lose}.")
        else:
            lines.append(f"CAE vs {b.upper()}: better at {beat}; not better at {lose}.")
    at36 = [x for x in v if x["cr_fixed"] >= 36 and x["pca"] is not None]
    ok2 = all(x["pca"] >= 2 for x in at36)
    margins = ", ".join(f"{x['pca']:+.1f}" for x in at36)
    lines.append(f"Issue target 'CAE >= PCA + 2 dB at every CR >= 36': {'holds' if ok2 and at36 else 'does not hold'}"
                 + (f" (margins {margins} dB)" if at36 else ""))
    if sort is not None and sort["cae"]:
        near = rdmod.nearest_rate(sort["cae"], 36.6)
        drop = 100 * (sort["original_accuracy"] - near["accuracy"])
        lines.append(f"Sorting accuracy at CR {near['cr_fixed']:.0f}: {100 * near['accuracy']:.1f} % vs "
                     f"{100 * sort['original_accuracy']:.1f} % on the original spikes "
                     f"({f'{drop:.1f} points lost' if drop > 0 else f'{-drop:.1f} points gained'}; "
                     f"target within 5: {'holds' if drop <= 5 else 'does not hold'}).")
    return lines


def _seed_sweep(codecs: dict, d: dict, fit: SpikeSet, score: SpikeSet, progress: bool) -> None:
    """The seed's shape at its rates (if any) into ``d["rd_seed"]``, with its margins against the baselines
    of the sweep ``d["rd"]`` and a statement of them."""
    if not codecs:
        return
    out = d["rd_seed"] = rdmod.sweep(codecs, fit, score, progress=progress, baselines=False)
    out["margins"] = rdmod.verdicts({**d["rd"], "cae": out["cae"]})
    d["statements"].append(_seed_statement(out["margins"]))


def _seed_statement(margins: list[dict]) -> str:
    """The seed's shape against PCA at each of its rates, in one line."""
    m = [(x["cr_fixed"], x["pca"]) for x in margins if x["pca"] is not None]
    return ("The seed's shape (paper) vs PCA at the same bits: " + ", ".join(f"CR {cr:.0f} {d:+.1f} dB" for cr, d in m)
            + f"; above PCA at {sum(d > 0 for _, d in m)} of {len(m)} rates.")


def build(inp: Inputs, out_dir: str | Path) -> dict:
    from hwcae.spikes.sources import load_data

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    codecs = _codecs([inp.float_checkpoint] + inp.rd_checkpoints)
    qat = _codecs(sorted(set(inp.qat_checkpoints) | ({inp.default_design} if inp.default_design else set())))
    if inp.default_design:  # the default fixed-point design joins the rate-distortion sweep
        codecs[Path(inp.default_design).stem] = qat[Path(inp.default_design).stem]
    default_name = Path(inp.float_checkpoint).stem
    default = codecs[default_name]
    result = {"generated": datetime.datetime.now().isoformat(timespec="seconds"), "quick": inp.quick,
              "checkpoints": {n: c.payload["content_hash"] for n, c in codecs.items()}, "data": {}}
    seed_codecs = _codecs(inp.seed_rd_checkpoints)
    rd_by, figs = {}, {}
    for spec in inp.data:
        data, desc = load_data(spec)
        fit, score = _split(data, inp.max_score)
        d = {"source": desc["source"], "fit_spikes": len(fit), "scored_spikes": len(score),
             "reference": "clean twin" if score.clean is not None else "input"}
        recons: dict = {}
        d["rd"] = rdmod.sweep(codecs, fit, score, progress=inp.progress, keep=recons)
        pca = rdmod.baseline_at("pca", default.arch.bits_per_spike_fixed).fit(fit.spikes)
        d["per_sampling_rate"] = _fs_breakdown(recons[default_name][1], pca, score)
        if spec == inp.data[0]:
            rob_set = score.subset(np.linspace(0, len(score) - 1, min(len(score), inp.max_robust)).astype(int))
            methods = {"CAE": lambda x: default.decode(default.encode(x)), "PCA": pca.roundtrip}
            d["robustness"] = robmod.run(methods, rob_set, progress=inp.progress)
            d["sorting"] = _sorting(codecs, recons, fit, score)
            d["examples"] = _examples(default, pca, score)
            fixed = [(n, qat[n]) for n in (Path(p).stem for p in inp.qat_checkpoints)]
            d["float_vs_fixed"] = [{"name": "float", "bits_per_spike": default.arch.bits_per_spike_fixed,
                                    "sndr_db_mean": rdmod.sndr_mean(score, recons[default_name][1])}]
            d["float_vs_fixed"] += [{"name": n if c.arch.name == default.arch.name else f"{n} ({c.arch.name} arch)",
                                     "bits_per_spike": c.arch.bits_per_spike_fixed,
                                     "sndr_db_mean": rdmod.sndr_mean(score, recons[n][1] if n in recons
                                                                     else c.decode(c.encode(score.spikes)))}
                                    for n, c in fixed]
            idx = recons[default_name][0]
            d["codebook_counts"] = np.bincount(idx.ravel(), minlength=default.arch.vq.codebook_size).tolist()
            figs["robustness"] = plots.robustness(d["robustness"], out_dir / "robustness.png")
            if d["sorting"]:
                figs["sorting"] = plots.sorting(d["sorting"], out_dir / "sorting.png")
            figs["examples"] = plots.examples(d["examples"], out_dir / "examples.png")
            figs["float_vs_fixed"] = plots.float_vs_fixed(d["float_vs_fixed"], out_dir / "float_vs_fixed.png")
            figs["codebook"] = plots.codebook_usage(d["codebook_counts"], out_dir / "codebook.png")
            if inp.default_design:
                result["footings"] = _footings(qat[Path(inp.default_design).stem], score, desc["source"])
            d["seed_arch"] = seed_arch.compare(fit, score, inp.seed_pairs, progress=inp.progress)
        d["statements"] = _statements(d["rd"], d.get("sorting"))
        _seed_sweep(seed_codecs, d, fit, score, inp.progress)
        rd_by[f"{desc['source']} ({len(score):,} held-out spikes)"] = {**d["rd"], "seed": d.get("rd_seed", {}).get("cae", [])}
        result["data"][spec] = d
    figs["rd"] = plots.rd_curves(rd_by, out_dir / "rd.png")
    result["cost"] = _cost(inp.default_design)
    result["seed_arch_cost"] = seed_arch.costs(inp.seed_pairs)
    result["figures"] = figs
    from hwcae.evaluate.report_html import explore_summary

    result["explore"] = explore_summary(out_dir)  # the design-space search's front (hwcae explore), if run
    write_text_atomic(out_dir / "report.json", json.dumps(result, indent=1, default=float))
    from hwcae.evaluate.report_html import render

    write_text_atomic(out_dir / "index.html", render(result))
    return result


def _footings(codec, score: SpikeSet, source: str) -> dict:
    """The default design's compression ratio on every footing (real .hwc bytes included)."""
    from hwcae.evaluate.table import cae_row

    return {**cae_row(codec.payload, score)["footings"], "design": codec.design.name, "source": source}


def _cost(path: str | None) -> dict | None:
    if not path or not Path(path).exists():
        return None
    from hwcae.cost.estimate import Budget
    from hwcae.cost.report import cost_for_checkpoint, summary_lines

    from hwcae.operating_point import load_operating_point

    op = load_operating_point()
    r = cost_for_checkpoint(path, op.node, Budget.at_operating_point(op))
    return {"operating_point": op.describe(), "summary": summary_lines(r), "power_per_channel_uw": r["power_per_channel_uw"],
            "energy_per_spike_pj": r["energy_per_spike_pj"], "channel_capacity": r["channel_capacity"],
            "area_mm2": r["area_mm2"], "design": r["design"], "tech": r["tech"]}
