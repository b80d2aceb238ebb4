"""Decoder refit: the off-chip decoder trained on alone, the encoder and codebook frozen.

The joint training ends before its decoder has converged: on the previous default (30 joint epochs),
10 more epochs of the decoder alone (Adam at a tenth of the training rate, cosine decayed) took
``synth:val`` from 18.71 to 18.94 dB and every set of the external suite's ``val`` seeds up by
0.09-0.50 dB (``docs/measured.md``); the default now trains 60 joint epochs and then this refit.
The decoder runs off chip, so a refit changes nothing on the silicon: the indices a chip sends for any
spike stay bit-identical. Works on a float :class:`~hwcae.model.cae.CAE` and on a QAT model alike (both
return ``(reconstruction, indices, vq_loss)``); the model stays in eval mode throughout, so batch-norm
statistics, the codebook's moving averages and the quantisers' scales do not move.
"""
from __future__ import annotations

import copy
import sys

import torch

from hwcae.model.config import Arch


def decoder_only(model) -> list[torch.nn.Parameter]:
    """Freeze every parameter but the decoder's; returns the decoder's."""
    for p in model.parameters():
        p.requires_grad_(False)
    params = list(model.decoder.parameters())
    for p in params:
        p.requires_grad_(True)
    return params


def cosine_schedule(opt: torch.optim.Optimizer, epochs: int, floor: float = 0.05):
    """The project's one schedule (training, decoder refit, calibration): each group's rate cosine-decayed
    over ``epochs`` steps (one per epoch) to ``floor`` of its starting value."""
    lr = opt.param_groups[0]["lr"]
    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1), eta_min=lr * floor)


def fine_tune(model, opt, arch: Arch, x: torch.Tensor, y: torch.Tensor, xv: torch.Tensor, yv: torch.Tensor, *,
              epochs: int, gen: torch.Generator, desc: str, sched=None, augment_batches: bool = False,
              vq_loss: bool = False, progress: bool = True, echo: bool = False, before_epoch=None) -> list[dict]:
    """The loop both the decoder refit and ``hwcae adapt`` run: ``epochs`` passes over (x, y) in
    shuffled batches of the arch's size and loss (plus the VQ loss if ``vq_loss``; the arch's
    augmentation if ``augment_batches``), stepping ``opt`` (and ``sched`` once an epoch), with the model
    in eval mode (frozen batch-norm statistics, codebook averages and quantiser scales);
    ``before_epoch(model)``, if given, runs at the start of every epoch. Keeps the epoch
    with the best SNDR on (xv, yv), epoch 0 being the model as it came; returns the history and leaves
    every parameter trainable again."""
    from tqdm import tqdm

    from hwcae.model.train import augment, evaluate_loss, recon_loss

    history = [{"epoch": 0, "val_sndr_db": evaluate_loss(model, xv, yv)[1]}]
    best, best_state, bs = history[0]["val_sndr_db"], copy.deepcopy(model.state_dict()), arch.train.batch_size
    for epoch in range(epochs):
        model.eval()
        if before_epoch is not None:
            before_epoch(model)
        perm = torch.randperm(len(x), generator=gen)
        bar = tqdm(range(0, len(x), bs), desc=f"{desc} {epoch + 1}/{epochs}", unit="batch",
                   disable=not progress, leave=False, file=sys.stderr)
        for i in bar:
            b = perm[i:i + bs]
            xb, yb = augment(x[b], y[b], arch, gen) if augment_batches else (x[b], y[b])
            rec, _, vq = model(xb)
            loss = recon_loss(rec, yb, arch.train.loss)
            if vq_loss:
                loss = loss + vq
            opt.zero_grad()
            loss.backward()
            opt.step()
        if sched is not None:
            sched.step()
        history.append({"epoch": epoch + 1, "val_sndr_db": evaluate_loss(model, xv, yv)[1]})
        if progress and echo:
            print(f"{desc} {epoch + 1}: val SNDR {history[-1]['val_sndr_db']:.2f} dB", file=sys.stderr)
        if history[-1]["val_sndr_db"] > best:
            best, best_state = history[-1]["val_sndr_db"], copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    for p in model.parameters():
        p.requires_grad_(True)
    return history


def refit_decoder(model, arch: Arch, x: torch.Tensor, y: torch.Tensor, xv: torch.Tensor, yv: torch.Tensor, *,
                  epochs: int, lr_fraction: float, seed: int = 0, progress: bool = True) -> list[dict]:
    """Train ``model``'s decoder alone on (x, y) for ``epochs`` with the arch's loss, batch size and
    augmentation, Adam at ``lr_fraction`` of the arch's rate, cosine decayed to 5 % of it; keep the
    epoch with the best SNDR on (xv, yv) (epoch 0: the model as it came, so a refit never scores below
    it there). Returns the per-epoch history; ``model`` holds the best state."""
    lr = arch.train.lr * lr_fraction
    opt = torch.optim.Adam(decoder_only(model), lr=lr, weight_decay=arch.train.weight_decay, amsgrad=True)
    return fine_tune(model, opt, arch, x, y, xv, yv, epochs=epochs, gen=torch.Generator().manual_seed(seed),
                     desc="decoder refit", sched=cosine_schedule(opt, epochs), augment_batches=True, progress=progress, echo=True)


def refit_stage(model, arch: Arch, x, y, xv, yv, *, seed: int = 0, progress: bool = True) -> dict:
    """The refit as the arch's ``train:`` asks for it (``decoder_refit_epochs``, ``decoder_refit_lr``):
    ``{"decoder_refit": history}`` for the checkpoint's metrics, or ``{}`` when it asks for none."""
    t = arch.train
    if not t.decoder_refit_epochs:
        return {}
    return {"decoder_refit": refit_decoder(model, arch, x, y, xv, yv, epochs=t.decoder_refit_epochs,
                                           lr_fraction=t.decoder_refit_lr, seed=seed, progress=progress)}
