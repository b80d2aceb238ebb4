"""Float vs fixed point: one row per model on the same spikes (``hwcae compare``)."""
from __future__ import annotations

import numpy as np
import torch

from hwcae import RAW_BITS_PER_SPIKE
from hwcae.evaluate.metrics import entropy_bits, summarize
from hwcae.model.cae import count_encoder_macs


@torch.no_grad()
def _codes(model, spikes_uv, scale, batch=4096):
    idx, rec = [], []
    for i in range(0, len(spikes_uv), batch):
        x = torch.from_numpy(spikes_uv[i:i + batch] / scale).float()
        k = model.encode(x)
        idx.append(k.numpy())
        rec.append((model.decode(k) * scale).numpy())
    return np.concatenate(idx), np.concatenate(rec)


def row(name: str, model, arch, spikes, clean, weight_bits: float, w: int | str, a: int | str,
        ref_idx: np.ndarray | None, saturation: dict | None = None) -> tuple[dict, np.ndarray]:
    idx, rec = _codes(model, spikes, arch.input_scale_uv)
    r = summarize(spikes, rec, clean, arch.bits_per_spike_fixed)
    h = entropy_bits(idx, arch.vq.codebook_size)
    r.update(design=name, bits=f"w{w}a{a}", cr_entropy=RAW_BITS_PER_SPIKE / (idx.shape[1] * max(h, 1e-9)),
             index_agreement=float((idx == ref_idx).mean()) if ref_idx is not None and ref_idx.shape == idx.shape else float("nan"),
             weight_bits=int(weight_bits), macs=int(count_encoder_macs(arch)))
    if saturation is not None:
        r["saturation"] = saturation
    return r, idx


def float_weight_bits(model) -> int:
    return 32 * sum(p.numel() for p in model.encoder.parameters()) + 32 * model.vq.codebook.numel()


def fixed_weight_bits(fp: dict) -> int:
    bits = sum(c["w"].size * c["w_bits"] for c in fp["convs"].values())
    return bits + fp["codebook"]["w"].size * fp["codebook"]["bits"]
