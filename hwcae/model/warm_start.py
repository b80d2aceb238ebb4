"""Warm start: begin training from a trained float checkpoint of a related architecture.

Every tensor whose name and shape match is copied; the rest keep their fresh values. The codebook is
then refit by k-means on the new model's latents (``train`` does that) when it did not come over
(another codebook size) or when the vectors it quantises changed (another pooling, so other latent
positions); the same architecture keeps its trained codebook (a plain fine-tune). Meant for variants
that share the encoder's and decoder's layers: the seed's shape at other rates (more pooling = fewer
latent vectors, another codebook size), trained in a fraction of the from-scratch budget.
"""
from __future__ import annotations

from hwcae.errors import HwcaeError
from hwcae.model.cae import CAE
from hwcae.model.checkpoint import content_hash


def codebook_needs_refit(model: CAE, payload: dict, fresh: list[str]) -> bool:
    """Whether the copied codebook cannot serve ``model``: not copied, or other latent positions."""
    from hwcae.model.config import arch_from_dict

    return "vq.codebook" in fresh or arch_from_dict(payload["arch"]).latent_positions != model.arch.latent_positions


def warm_start(model: CAE, payload: dict, source: str) -> list[str]:
    """Copy the matching tensors of a float checkpoint ``payload`` into ``model``; returns the names
    of the model's tensors left at their fresh values. Refuses a checkpoint whose input scale or gain
    stage differ (its weights would see other numbers) or that shares no encoder weight."""
    if payload.get("kind") != "float":
        raise HwcaeError(f"--init {source}: a warm start needs a float checkpoint "
                         f"(this one is {payload.get('kind')!r})")
    arch = payload["arch"]
    mine = model.arch.model_dump(mode="json")
    for key in ("input_scale_uv", "gain"):
        if arch.get(key) != mine.get(key):
            raise HwcaeError(f"--init {source}: its {key} ({arch.get(key)}) differs from this architecture's "
                             f"({mine.get(key)})")
    dst = model.state_dict()
    same = {k: v for k, v in payload["state_dict"].items() if k in dst and tuple(dst[k].shape) == tuple(v.shape)}
    if not any(k.startswith("encoder.") for k in same):
        raise HwcaeError(f"--init {source}: shares no encoder weight with architecture {model.arch.name!r}")
    model.load_state_dict({**dst, **same})
    return sorted(set(dst) - set(same))


def start_from(model: CAE, payload: dict | None, source: str) -> dict:
    """Warm-start ``model`` from ``payload`` if one is given; returns what the card records of it
    (``{"init": {checkpoint, content_hash, fresh}}``, or ``{}`` for a fresh start)."""
    if payload is None:
        return {}
    fresh = warm_start(model, payload, source)
    return {"init": {"checkpoint": source, "content_hash": content_hash(payload["state_dict"]), "fresh": fresh}}
