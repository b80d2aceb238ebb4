"""Float vs fixed point: one row per model on the same spikes (``hwcae compare``)."""
from __future__ import annotations

import numpy as np

from hwcae import RAW_BITS_PER_SPIKE
from hwcae.evaluate.metrics import entropy_bits, summarize
from hwcae.model.cae import count_encoder_macs


def row(name: str, codec, spikes, clean, weight_bits: float, w: int | str, a: int | str,
        ref_idx: np.ndarray | None) -> tuple[dict, np.ndarray]:
    """One model's row; a QAT codec encodes with the fixed-point reference (as the chip does)."""
    arch = codec.arch
    idx = codec.encode(spikes)
    r = summarize(spikes, codec.decode(idx), clean, arch.bits_per_spike_fixed)
    h = entropy_bits(idx, arch.vq.codebook_size)
    r.update(design=name, bits=f"w{w}a{a}", cr_entropy=RAW_BITS_PER_SPIKE / (idx.shape[1] * max(h, 1e-9)),
             index_agreement=float((idx == ref_idx).mean()) if ref_idx is not None and ref_idx.shape == idx.shape else float("nan"),
             weight_bits=int(weight_bits), macs=int(count_encoder_macs(arch)))
    if codec.fixed_point is not None:
        r["saturation"] = codec.saturation
    return r, idx


def float_weight_bits(model) -> int:
    return 32 * sum(p.numel() for p in model.encoder.parameters()) + 32 * model.vq.codebook.numel()


def fixed_weight_bits(fp: dict) -> int:
    bits = sum(c["w"].size * c["w_bits"] for c in fp["convs"].values())
    return bits + fp["codebook"]["w"].size * fp["codebook"]["bits"]
