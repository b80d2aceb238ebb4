"""Calibrate a float or QAT checkpoint on the user's own noisy spikes, at a level a chip allows.

Levels (what changes; everything else stays bit-identical):

- ``decoder``: the off-chip decoder only (the silicon is unchanged);
- ``codebook``: the codewords too (registers on chip): a few Lloyd iterations from the current
  codebook on the latents of the user's spikes, then the decoder;
- ``all``: the encoder's weights too, within the design's bit widths (the QAT scales stay fixed);
  the codebook follows the encoder (Lloyd iterations before every epoch).

The model learns the user's spikes -> denoised targets made from those spikes alone
(:mod:`hwcae.adapt.targets`: the model's own reconstruction blended with a projection on each spike's
neighbours, plus what of the residual stands out of the noise; half of the inputs are hybrids, a target
plus another spike's residual), so no clean waveform is ever read. Adam's rate is cosine-decayed over
the epochs. A fifth of the spikes is held out; the epoch kept
is the one with the best SNDR against their targets (epoch 0: the model as it came). The returned payload is the same kind as the input (a calibrated
QAT checkpoint goes through ``hls``, ``verify``, ``cost`` and ``compress`` unchanged); its entropy
coders' statistics are recomputed on the user's spikes.
"""
from __future__ import annotations

import hashlib
import time

import numpy as np
import torch

from hwcae.adapt import DEFAULT_EPOCHS
from hwcae.adapt.targets import check_spikes, neighbour_targets, pairs
from hwcae.errors import HwcaeError
from hwcae.model.train import gain_codes, index_statistics, to_tensors
from hwcae.spikes.spikeset import SpikeSet

LEVELS = ("decoder", "codebook", "all")
#: Adam's peak learning rate, as a fraction of the architecture's, for every level. With the cosine
#: decay the decoder alone takes the same rate as `all` (suite `val`: 0.25 beat 0.05 by +0.04 to +0.91
#: dB on 8 of 9 sets, -0.02 on `drift`); 0.5 at level `all` was 0.01-0.19 dB lower on 8 of 9.
LR_FRACTION = 0.25
#: Lloyd iterations on the codebook before each epoch at level ``all`` (eval mode freezes the EMA
#: codebook, so without them it stays where the first refit put it while the encoder moves).
#: Suite `val`, float: +0.00 to +0.37 dB on every set over one refit at the start.
LLOYD_PER_EPOCH = 3


def _load(payload: dict):
    """(model in eval mode, arch) of a float or QAT payload."""
    if payload["kind"] == "qat":
        from hwcae.quantize.qat import load_qat

        model, arch, _, _ = load_qat(payload)
        return model, arch
    from hwcae.model.config import arch_from_dict
    from hwcae.model.train import model_from_checkpoint

    return model_from_checkpoint(payload), arch_from_dict(payload["arch"])


def _codebook(model) -> torch.Tensor:
    return model.encoder.codebook_q() if hasattr(model.encoder, "codebook_q") else model.vq.codebook.detach()


def _latent_vectors(model, x: torch.Tensor) -> torch.Tensor:
    """The latent vectors (M, D) the codeword search sees for inputs x."""
    z = model.encoder.latent(x).value if hasattr(model.encoder, "codebook_q") else model.vectors(model.encoder(x))
    return z.permute(0, 2, 1).reshape(-1, z.shape[1])


@torch.no_grad()
def refit_codebook(model, x: torch.Tensor, iters: int = 10) -> None:
    """Lloyd iterations from the current codebook on the latents of ``x``; unused codewords stay."""
    z = torch.cat([_latent_vectors(model, x[i:i + 2048]) for i in range(0, len(x), 2048)]).double()
    c = _codebook(model).double().clone()
    for _ in range(iters):
        idx = torch.cdist(z, c).argmin(1)
        counts = torch.bincount(idx, minlength=len(c))
        sums = torch.zeros_like(c).index_add_(0, idx, z)
        c = torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None], c)
    if hasattr(model.encoder, "set_codebook"):
        model.encoder.set_codebook(c.float())
    else:
        model.vq.set_codebook(c.float())


def trainable(model, level: str) -> list[torch.nn.Parameter]:
    """The parameters a level may change (the QAT scales never)."""
    from hwcae.model.refit import decoder_only

    params = decoder_only(model)
    if level == "all":
        encoder = [p for n, p in model.encoder.named_parameters() if "scaling_impl" not in n and "score" not in n]
        for p in encoder:
            p.requires_grad_(True)
        params += encoder
    return params


def _fit(model, arch, level: str, x, y, xv, yv, epochs: int, seed: int, progress: bool) -> list[dict]:
    """Fine-tune with the model in eval mode (frozen batch-norm statistics and quantiser scales), Adam
    cosine-decayed to 5 % of the level's rate over the epochs; keep the epoch with the best held-out
    SNDR (epoch 0: the model as it came). At level ``all`` the codebook follows the moving encoder:
    :data:`LLOYD_PER_EPOCH` Lloyd iterations on the inputs' latents before every epoch."""
    from hwcae.model.refit import cosine_schedule, fine_tune

    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(trainable(model, level), lr=arch.train.lr * LR_FRACTION)
    follow = (lambda m: refit_codebook(m, x, iters=LLOYD_PER_EPOCH)) if level == "all" else None
    return fine_tune(model, opt, arch, x, y, xv, yv, epochs=epochs, gen=gen, desc=f"adapt {level}",
                     sched=cosine_schedule(opt, epochs), vq_loss=level == "all", progress=progress,
                     before_epoch=follow)


def adapt(payload: dict, spikes_uv: np.ndarray, *, level: str = "decoder", epochs: int | None = None, n_pairs: int = 30000,
          seed: int = 0, source: dict | None = None, progress: bool = True) -> dict:
    """The calibrated payload (not yet saved) of ``payload`` on noisy spikes in uV (N, 4, 64)."""
    from hwcae.model.infer import decode_uv, encode_uv

    if level not in LEVELS:
        raise HwcaeError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
    t0 = time.time()
    epochs = DEFAULT_EPOCHS if epochs is None else epochs
    torch.manual_seed(seed)
    spikes_uv = check_spikes(spikes_uv)
    model, arch = _load(payload)
    targets, est = neighbour_targets(spikes_uv, decode_uv(model, encode_uv(model, spikes_uv)), seed=seed)
    perm = np.random.default_rng(seed).permutation(len(spikes_uv))
    n_val = len(perm) // 5
    x, y = to_tensors(pairs(spikes_uv, targets, perm[n_val:], n_pairs, seed), arch, denoise=True)
    xv, yv = to_tensors(pairs(spikes_uv, targets, perm[:n_val], max(1000, n_pairs // 10), seed + 1), arch, denoise=True)
    if level in ("codebook", "all"):
        refit_codebook(model, x)
    history = _fit(model, arch, level, x, y, xv, yv, epochs, seed, progress)
    xs, _ = to_tensors(SpikeSet(spikes=spikes_uv), arch, denoise=False)
    out = {k: v for k, v in payload.items() if k not in ("content_hash", "format", "version")}
    out.update(state_dict=model.state_dict(),
               **index_statistics(model, xs, arch.vq.codebook_size, gain_codes(spikes_uv, arch)))
    out["adapt"] = {"level": level, "from_hash": payload["content_hash"], "spikes": int(len(spikes_uv)),
                    "input_sha256": hashlib.sha256(spikes_uv.tobytes()).hexdigest()[:16], "pairs": int(n_pairs),
                    "epochs": epochs, "seed": seed, "seconds": round(time.time() - t0, 1), "targets": est,
                    "history": history, **(source or {})}
    return out
