"""Float vs fixed point: one row per model on the same spikes (``hwcae compare``)."""
from __future__ import annotations

import numpy as np

from hwcae.metrics import cr_entropy, entropy_bits, summarize


def row(name: str, codec, spikes, clean, weight_bits: float, w: int | str, a: int | str,
        ref_idx: np.ndarray | None) -> tuple[dict, np.ndarray]:
    """One model's row; a QAT codec encodes with the fixed-point reference (as the chip does)."""
    arch = codec.arch
    idx = codec.encode(spikes)
    r = summarize(spikes, codec.decode(idx), clean, arch.bits_per_spike_fixed)
    h = entropy_bits(idx, arch.vq.codebook_size)
    r.update(design=name, bits=f"w{w}a{a}", cr_entropy=cr_entropy(idx.shape[1] * h, len(idx), arch.bits_per_spike_fixed),
             index_agreement=float((idx == ref_idx).mean()) if ref_idx is not None and ref_idx.shape == idx.shape else float("nan"),
             weight_bits=int(weight_bits), macs=int(encoder_macs(codec)))
    if codec.fixed_point is not None:
        r["saturation"] = codec.saturation
    return r, idx


def encoder_macs(codec) -> int:
    """MACs per spike on chip: walked from the fixed-point model, or counted on the float model."""
    if codec.fixed_point is not None:
        return codec.fixed_point.macs()
    from hwcae.model.cae import count_encoder_macs

    return count_encoder_macs(codec.model)


def float_weight_bits(model) -> int:
    return 32 * sum(p.numel() for p in model.encoder.parameters()) + 32 * model.vq.codebook.numel()


def compare_designs(float_checkpoint, qat_checkpoints, data, progress: bool = False) -> list[dict]:
    """Rows for the float checkpoint, then each QAT checkpoint, on ``data`` (a SpikeSet)."""
    from tqdm import tqdm

    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.stream.codec import Codec

    bar = tqdm(total=1 + len(qat_checkpoints), desc="compare", unit="model", disable=not progress, leave=False)

    fcodec = Codec(load_checkpoint(float_checkpoint, kind="float"))
    farch = fcodec.arch
    r, fidx = row(f"float ({farch.name})", fcodec, data.spikes, data.clean, float_weight_bits(fcodec.model), 32, 32, None)
    rows = [r]
    bar.update()
    for path in qat_checkpoints:
        codec = Codec(load_checkpoint(path, kind="qat"))
        d = codec.design
        r, _ = row(d.name, codec, data.spikes, data.clean, codec.fixed_point.weight_bits(), d.weight_bits,
                   d.activation_bits, fidx if codec.arch.name == farch.name else None)
        rows.append(r)
        bar.update()
    bar.close()
    return rows
