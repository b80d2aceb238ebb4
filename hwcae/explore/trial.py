"""One trial of ``hwcae explore``: a candidate through the whole flow, on one core.

Short float training (or the float model reused: a named architecture's trained checkpoint, or a
generated one cached by its hash in ``<study>/floats/``), QAT, the bit-exact check (Brevitas vs the
NumPy integer reference on held-out spikes plus range-edge inputs), saturation, cost at the
trial's lanes / clock / node and the space's operating point, and SNDR against the clean twin on
the quality sets (the external suite's validation sets), PCA at the same bits beside it.

A problem is a :class:`TrialFailed` with its reason (``did not converge``, ``saturates``, the
error text), which the study records on the trial instead of stopping.
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np

from hwcae.errors import HwcaeError


class TrialFailed(Exception):
    """A candidate that cannot be scored; ``str(exc)`` is the reason recorded on the trial."""


def data_paths(root: Path) -> tuple[Path, Path]:
    return root / "data" / "train.npz", root / "data" / "val.npz"


def prepare_data(space, root: Path) -> None:
    """The training and validation subsamples every trial reads (written once per study)."""
    from hwcae.spikes.sources import load_data
    from hwcae.spikes.spikeset import save_spikes

    for path, spec, n in zip(data_paths(root), (space.data.train, space.data.val),
                             (space.data.train_spikes, space.data.val_spikes)):
        if path.is_file():
            continue
        s = load_data(spec)[0]
        if len(s) > n:  # a seeded random subset across all recordings
            s = s.subset(np.sort(np.random.default_rng(space.seed).choice(len(s), n, replace=False)))
        path.parent.mkdir(parents=True, exist_ok=True)
        save_spikes(s, path)


def float_model(space, cand: dict, root: Path, train_set, val_set) -> tuple[dict, str, bool]:
    """(float payload, its path, whether it was trained in this trial)."""
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.model.config import arch_from_dict
    from hwcae.model.train import train

    if cand["named"]:
        return load_checkpoint(cand["named"]["checkpoint"], kind="float"), cand["named"]["checkpoint"], False
    arch = arch_from_dict(cand["arch"], "generated architecture")
    path = root / "floats" / f"{arch.name}-s{space.seed}.pt"
    if path.is_file():
        return load_checkpoint(path, kind="float"), str(path), False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.pt")
    try:
        train(arch, train_set, val_set, tmp, seed=space.seed, epochs=space.recipe.float_epochs, progress=False)
        os.replace(tmp, path)  # another worker may have trained the same: same seed, same model
        os.replace(tmp.with_suffix(".json"), path.with_suffix(".json")) if tmp.with_suffix(".json").exists() else None
    finally:
        tmp.unlink(missing_ok=True)
    return load_checkpoint(path, kind="float"), str(path), True


def design_dict(space, cand: dict, arch_name: str, name: str) -> dict:
    b = cand["bits"]
    return {"name": name, "arch": arch_name,
            "description": f"found by hwcae explore (study {space.name}); hardware: {cand['hw']['lanes']} lanes, "
                           f"{cand['hw']['clock_mhz']:g} MHz, {cand['hw']['node']}",
            "input": {"bits": b["input"], "range_uv": 1024.0}, "weight_bits": b["weights"],
            "activation_bits": b["activations"], "bias_bits": 24, "latent_bits": b["latent"],
            "codebook_bits": b["codebook"], "accumulator_bits": 32, "rounding": "half_even", "overflow": "saturate",
            "qat": {"epochs": space.recipe.qat_epochs, "lr": space.recipe.qat_lr}}


def bit_exact(qat_path: Path, spikes_uv: np.ndarray) -> tuple[dict, float]:
    """(Brevitas vs reference on the spikes + range-edge inputs, saturated activations per held-out spike)."""
    from hwcae.fixedpoint.reference import ReferenceEncoder
    from hwcae.quantize.extract import extract
    from hwcae.quantize.qat import load_qat
    from hwcae.verify.checks import brevitas_codes, compare, edge_inputs, encoder_inputs

    model, _, design, _ = load_qat(qat_path)
    fixed = extract(model.encoder)
    inputs = np.concatenate([encoder_inputs(fixed, spikes_uv), edge_inputs(design.input.range_uv)])
    ref = ReferenceEncoder(fixed)
    report = compare(brevitas_codes(model.encoder, inputs), ref.encode(inputs))
    held = ReferenceEncoder(fixed)
    held.encode(encoder_inputs(fixed, spikes_uv))
    sat = sum(v for k, v in held.saturation.items() if k != "input") / max(1, len(spikes_uv))
    return report, float(sat)


def quality(space, payload: dict) -> dict:
    """Mean SNDR vs clean on each quality set's second half (``quality_spikes`` of it, evenly spread),
    PCA at the same bits fitted on the first half."""
    from hwcae.baselines.pca import PCACodec
    from hwcae.metrics import sndr_db
    from hwcae.spikes.sources import load_data
    from hwcae.stream.codec import Codec

    codec = Codec(payload)
    bits = codec.arch.bits_per_spike_fixed
    out = {}
    for spec in space.data.quality:
        fit, score = load_data(spec)[0].halves()
        # evenly spread over the half: a set is ordered by recording, so its first spikes are one recording's
        score = score.subset(np.unique(np.linspace(0, len(score) - 1, min(len(score), space.data.quality_spikes)).astype(int)))
        clean = score.clean if score.clean is not None else score.spikes
        rec = codec.decode(codec.encode(score.spikes))
        pca = PCACodec.at_budget(bits).fit(fit.spikes[:20000])
        out[spec] = {"sndr_db": float(np.mean(sndr_db(clean, rec))),
                     "pca_db": float(np.mean(sndr_db(clean, pca.decode(pca.encode(score.spikes)))))}
    return out


def cost(space, qat_path: Path, hw: dict) -> dict:
    from hwcae.cost.estimate import Budget
    from hwcae.cost.report import cost_for_checkpoint

    op = space.operating_point
    budget = Budget(channels=op.channels, rate_hz=op.rate_hz, clock_hz=hw["clock_mhz"] * 1e6, lanes=hw["lanes"],
                    power_budget_mw=op.power_budget_mw, area_budget_mm2=op.area_budget_mm2)
    r = cost_for_checkpoint(str(qat_path), hw["node"], budget)
    uw = float(r["power_per_channel_uw"])
    return {"uw_per_channel": uw, "area_mm2": float(r["total_area_mm2"]), "instance_area_mm2": float(r["area_mm2"]),
            "instances": int(r["instances"]), "gates_ge": float(r["gates_ge"]), "sram_bits": int(r["sram_bits"]),
            "power_mw": uw * op.channels / 1e3, "gates_measured": bool(r.get("rtl", {}).get("measured", False)),
            "bits_per_spike": float(r["bits_per_spike"])}


def run_trial(space, cand: dict, root: Path, name: str) -> dict:
    """Every measure of one candidate; raises :class:`TrialFailed` with the reason."""
    import torch

    from hwcae.quantize.design import design_from_dict
    from hwcae.quantize.qat import qat
    from hwcae.spikes.spikeset import load_spikes

    torch.set_num_threads(1)
    t0 = time.time()
    train_path, val_path = data_paths(root)
    train_set, val_set = load_spikes(train_path), load_spikes(val_path)
    try:
        fp, float_path, trained = float_model(space, cand, root, train_set, val_set)
        arch_name = fp["arch"]["name"]
        spec = design_dict(space, cand, arch_name, name)
        design = design_from_dict(spec, "drawn design")
        out = root / "trials" / name
        out.mkdir(parents=True, exist_ok=True)
        qp = qat(design, fp, train_set, val_set, out / "qat.pt", seed=space.seed, progress=False)
    except HwcaeError as exc:
        raise TrialFailed(f"error: {exc}") from None
    except (RuntimeError, ValueError, FloatingPointError) as exc:
        raise TrialFailed(f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}") from None
    val_db = qp["metrics"]["val_sndr_db"]
    res = {"design": name, "arch": arch_name, "float": float_path, "float_trained": trained, "qat": str(out / "qat.pt"),
           "float_val_sndr_db": float(fp.get("metrics", {}).get("val_sndr_db", math.nan)), "val_sndr_db": float(val_db),
           "design_spec": spec}
    if not math.isfinite(val_db) or val_db < space.recipe.min_sndr_db:
        raise TrialFailed(f"did not converge: val SNDR {val_db:.2f} dB after QAT (minimum {space.recipe.min_sndr_db:g} dB)")
    check = val_set.spikes[-space.data.check_spikes:]
    exact, sat = bit_exact(out / "qat.pt", check)
    res.update(bit_exact=exact["spikes_all_exact"] == 1.0, exact_share=exact["spikes_all_exact"],
               saturated_per_spike=sat)
    if sat > space.recipe.max_saturation:
        raise TrialFailed(f"saturates: {sat:.2f} saturated activations per spike (at most {space.recipe.max_saturation:g})")
    res.update(cost(space, out / "qat.pt", cand["hw"]))
    q = quality(space, qp)
    res["quality"] = q
    res["sndr_db"] = float(np.mean([v["sndr_db"] for v in q.values()]))
    res["pca_db"] = float(np.mean([v["pca_db"] for v in q.values()]))
    res["seconds"] = time.time() - t0
    return res
