"""The seed's own model beside the default (issue 28), one table: each model in float and at w8a8
on the same held-out spikes, with 8-bit PCA fitted on the first half at the same bits.

Distortion two ways: the project's mean per-spike SNDR over all four channels (dB vs the clean
twin) and the seed code's form (each single-channel waveform's SNDR, averaged). Cost of each w8a8
design at the operating point (``hls/operating_point.yaml``) on one datapath, hls4ml's per-layer
one at the HLS projects' reuse: the only one that runs both (hwcae's RTL engine does not run
grouped convolutions), so the two rows compare like with like.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from hwcae.metrics import mean_db, sndr_channel_db, sndr_db

#: model -> (float checkpoint, w8a8 checkpoint)
PAIRS = {"default": ("models/float.pt", "models/qat-w8a8.pt"),
         "paper (the seed's shape)": ("models/float-paper.pt", "models/qat-paper-w8a8.pt")}


def _row(name: str, kind: str, bits: float, ref: np.ndarray, rec: np.ndarray, **extra) -> dict:
    return {"model": name, "kind": kind, "bits_per_spike": bits, "sndr_db": mean_db(sndr_db(ref, rec)),
            "sndr_channel_db": mean_db(sndr_channel_db(ref, rec)), **extra}


def compare(fit, score, pairs: dict = PAIRS, progress: bool = False) -> list[dict]:
    """Rows for every checkpoint of ``pairs`` that exists, then PCA at the first model's bits."""
    from tqdm import tqdm

    from hwcae.evaluate.rd import baseline_at, reference
    from hwcae.model.cae import CAE, count_encoder_macs
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.stream.codec import Codec

    ref, rows, bits = reference(score), [], None
    paths = [(name, kind, p) for name, pair in pairs.items() for kind, p in zip(("float", "w8a8"), pair) if Path(p).exists()]
    for name, kind, path in tqdm(paths, desc="seed's model", unit="model", disable=not progress, leave=False):
        payload = load_checkpoint(path)
        codec = Codec(payload)
        bits = bits or codec.arch.bits_per_spike_fixed
        rows.append(_row(name, kind if kind == "float" else f"QAT {codec.design.name}", codec.arch.bits_per_spike_fixed,
                         ref, codec.decode(codec.encode(score.spikes)), checkpoint=path,
                         macs_per_spike=count_encoder_macs(CAE(codec.arch))))
    if rows:
        pca = baseline_at("pca", bits).fit(fit.spikes)
        rows.append(_row(f"PCA ({pca.k} x {pca.coef_bits} bit)", "fitted on the first half", pca.k * pca.coef_bits, ref,
                         pca.roundtrip(score.spikes)))
    return rows


def costs(pairs: dict = PAIRS) -> list[dict]:
    """Each w8a8 design's cost at the operating point on hls4ml's per-layer datapath."""
    from hwcae.cost.estimate import Budget
    from hwcae.cost.report import cost_for_checkpoint
    from hwcae.export.backends import BACKENDS
    from hwcae.operating_point import load_operating_point

    op = load_operating_point()
    budget = Budget.at_operating_point(op, lanes=None, reuse=BACKENDS["catapult"].config().reuse_factor)
    out = []
    for name, (_, path) in pairs.items():
        if not Path(path).exists():
            continue
        r = cost_for_checkpoint(path, op.node, budget)
        out.append({"model": name, "design": r["design"], "node": r["tech"], "macs_per_spike": r["macs_per_spike"],
                    "gates_ge": r["gates_ge"], "sram_bits": r["sram_bits"], "area_mm2": r["area_mm2"],
                    "power_per_channel_uw": r["power_per_channel_uw"], "channel_capacity": r["channel_capacity"],
                    "binding_limit": r["binding_limit"], "datapath": f"hls4ml, reuse {budget.reuse}"})
    return out
