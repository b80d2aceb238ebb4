"""Quantisation-aware fine-tuning from a float checkpoint, and loading QAT checkpoints.

The codebook is frozen at its quantised value (what the chip stores); the Brevitas encoder and the
float decoder are fine-tuned together with the straight-through VQ gradient.
"""
from __future__ import annotations

import copy
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

from hwcae.errors import HwcaeError
from hwcae.metrics import mean_db, sndr_db
from hwcae.model.cae import Decoder
from hwcae.model.checkpoint import check_loaded, load_checkpoint, save_checkpoint, sealed
from hwcae.model.config import Arch, arch_from_dict
from hwcae.model.train import gain_codes, index_statistics, model_from_checkpoint, to_tensors, train_epoch
from hwcae.quantize.design import Design, design_from_dict
from hwcae.quantize.build import from_float, make_quant_encoder
from hwcae.spikes.spikeset import SpikeSet


class QATModel(torch.nn.Module):
    """Fixed-point encoder + frozen quantised codebook + float decoder."""

    def __init__(self, encoder, decoder: Decoder, beta: float):
        super().__init__()
        self.encoder, self.decoder, self.beta = encoder, decoder, beta

    @property
    def arch(self) -> Arch:
        return self.encoder.arch

    def forward(self, x):
        z = self.encoder.latent(x).value
        idx = torch.argmax(self.encoder.scores(z), dim=1)
        e = self.encoder.codebook_q()[idx].permute(0, 2, 1)
        q = z + (e - z).detach()
        return self.decoder(q), idx, self.beta * F.mse_loss(z, e)

    @torch.no_grad()
    def encode(self, x):
        return self.encoder(x)

    @torch.no_grad()
    def decode(self, idx):
        return self.decoder(self.encoder.codebook_q()[idx].permute(0, 2, 1))


@torch.no_grad()
def calibrate(model: QATModel, x: torch.Tensor, gen: torch.Generator, batch_size: int, steps: int = 40) -> None:
    """Post-training quantisation: activation ranges from runtime statistics (Brevitas collects them
    over the first training-mode steps), no weight update. The float decoder stays in eval mode (it
    keeps its batch-norm statistics: re-estimating them costs ~0.8 dB)."""
    model.train()
    model.decoder.eval()
    perm = torch.randperm(len(x), generator=gen)
    for i in range(0, min(len(x), steps * batch_size), batch_size):
        model.encoder.latent(x[perm[i:i + batch_size]])
    model.eval()


#: The most bits :func:`tune_activation_ranges` moves a radix point finer than the statistics put it.
MAX_RANGE_STEPS = 3


def _log2_range(quantizer) -> torch.nn.Parameter:
    """The activation quantiser's range parameter (Brevitas stores log2 of the threshold: -1 halves it)."""
    found = [p for n, p in quantizer.named_parameters() if n.endswith("scaling_impl.value")]
    if len(found) != 1:
        raise HwcaeError(f"expected one runtime-statistics range in {type(quantizer).__name__}, found {len(found)}")
    return found[0]


@torch.no_grad()
def tune_activation_ranges(model: QATModel, xv: torch.Tensor, yv: torch.Tensor, steps: int = MAX_RANGE_STEPS) -> dict[str, int]:
    """{activation word: bits its radix point moved finer} (the ADC input stays), chosen by the mean
    SNDR on the validation pairs: first every word's range halved 0..``steps`` times together, then
    each word alone one halving more or fewer (in forward order), each change kept only where it
    raises the SNDR. The runtime statistics size a range for the rarest large activations, which
    leaves the common small ones (small spikes, which a mean of per-spike dB weighs like the large) a
    coarse step; each halving gives them a bit and saturates what lies above."""
    from hwcae.quantize.extract import quantizer_words

    model.eval()
    quantizers, ranges = model.encoder.act_quantizers(), {}
    for name in quantizer_words(model.encoder):  # in the order a forward pass reaches them
        if name != "input" and all(quantizers[name] is not quantizers[n] for n in ranges):  # shared blocks once
            ranges[name] = _log2_range(quantizers[name])
    start = {n: p.detach().clone() for n, p in ranges.items()}

    def score(shifts: dict[str, int]) -> float:
        for n, p in ranges.items():
            p.copy_(start[n] - shifts[n])
        return val_metrics(model, xv, yv)["val_sndr_db"]

    chosen, best = dict.fromkeys(ranges, 0), None

    def keep_if_better(trial: dict[str, int]) -> None:
        nonlocal chosen, best
        value = score(trial)
        if best is None or value > best:
            best, chosen = value, trial

    keep_if_better(chosen)
    for k in range(1, steps + 1):  # every word together
        keep_if_better(dict.fromkeys(ranges, k))
    for n in ranges:  # then each alone, one halving either way, from the best so far
        for d in (-1, 1):
            if 0 <= chosen[n] + d <= steps:
                keep_if_better({**chosen, n: chosen[n] + d})
    score(chosen)
    return chosen


def qat(design: Design, float_payload: dict, train_set: SpikeSet, val_set: SpikeSet, out: str | os.PathLike, *,
        seed: int = 0, epochs: int | None = None, command: str = "", progress: bool = True,
        max_train: int | None = None) -> dict:
    from tqdm import tqdm

    arch = arch_from_dict(float_payload["arch"])
    if arch.name != design.arch:
        raise HwcaeError(f"design {design.name} quantises architecture {design.arch!r}, "
                         f"but the checkpoint is {arch.name!r}")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    fm = model_from_checkpoint(float_payload)
    model = QATModel(from_float(arch, design, fm), fm.decoder, arch.vq.beta)
    max_train = max_train or design.qat.get("max_train")  # the argument, else the design's CPU budget
    if max_train and max_train < len(train_set):  # a seeded random subset across all recordings
        max_train = int(max_train)
        pick = np.sort(np.random.default_rng(seed).choice(len(train_set), max_train, replace=False))
        train_set = train_set.subset(pick)
    x, y = to_tensors(train_set, arch, arch.train.denoise)
    xv, yv = to_tensors(val_set, arch, arch.train.denoise)
    epochs = int(design.qat.get("epochs", 6)) if epochs is None else epochs
    bs = int(design.qat.get("batch_size", arch.train.batch_size))
    calibrate(model, x, gen, bs)
    history = [dict(epoch=0, **val_metrics(model, xv, yv))]
    best, best_state = history[0]["val_sndr_db"], copy.deepcopy(model.state_dict())
    # 2. fine-tuning with the straight-through VQ gradient; the best epoch on validation is kept,
    #    so QAT never ends worse than the calibrated post-training model
    # the calibrated power-of-two scales stay fixed: Adam steps on their log2 parameters would flip
    # radix points mid-training; weights, biases and the decoder are fine-tuned
    params = [p for n, p in model.named_parameters() if p.requires_grad and "scaling_impl" not in n]
    opt = torch.optim.Adam(params, lr=design.qat.get("lr", 2e-4))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
    for epoch in range(epochs):
        bar = tqdm(desc=f"qat {design.name} {epoch + 1}/{epochs}", unit="batch", disable=not progress, leave=False,
                   file=sys.stderr)
        train_epoch(model, opt, x, y, arch, gen, bar, batch_size=bs, keep_eval=model.decoder)
        sched.step()
        model.eval()
        history.append(dict(epoch=epoch + 1, **val_metrics(model, xv, yv)))
        if history[-1]["val_sndr_db"] > best:  # the reported metric, as the float training keeps
            best, best_state = history[-1]["val_sndr_db"], copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    model.eval()
    # on the best epoch (tried before fine-tuning too: on the default w8a8 no word moved there)
    steps = tune_activation_ranges(model, xv, yv) if design.activation_range == "val_sndr" else {}
    metrics = dict(val_metrics(model, xv, yv), history=history, activation_range_steps=steps,
                   best_epoch=max(history, key=lambda h: h["val_sndr_db"])["epoch"])
    if progress:
        print(f"qat {design.name}: val SNDR {metrics['val_sndr_db']:.2f} dB (best epoch {metrics['best_epoch']})",
              file=sys.stderr)
    stats = index_statistics(model, x, arch.vq.codebook_size, gain_codes(train_set.spikes, arch))
    payload = {
        "kind": "qat", "arch": arch.model_dump(mode="json"), "design": design.model_dump(mode="json"),
        "state_dict": model.state_dict(), "input_scale_uv": arch.input_scale_uv,
        **stats, "float_hash": float_payload["content_hash"],
        "data": float_payload.get("data", {}), "seed": seed, "command": command, "metrics": metrics,
    }
    payload = sealed(payload)  # what the file holds: load_qat accepts it in memory too
    save_checkpoint(out, payload)
    return payload


@torch.no_grad()
def val_metrics(model, xv, yv, batch: int = 2048) -> dict:
    recs = [model.decode(model.encode(xv[i:i + batch])) for i in range(0, len(xv), batch)]
    rec = torch.cat(recs).numpy()
    return {"val_mse": float(np.mean((rec - yv.numpy()) ** 2)), "val_sndr_db": mean_db(sndr_db(yv.numpy(), rec))}


def load_qat(path_or_payload) -> tuple[QATModel, Arch, Design, dict]:
    """(model in eval mode, arch, design, payload) from a QAT checkpoint: a path, or a payload in memory,
    checked alike (schema, content hash, shapes; :func:`~hwcae.model.checkpoint.sealed` seals a new one)."""
    if isinstance(path_or_payload, dict):
        payload = check_loaded(path_or_payload, "the QAT payload", kind="qat")
    else:
        payload = load_checkpoint(path_or_payload, kind="qat")
    arch = arch_from_dict(payload["arch"])
    design = design_from_dict(payload["design"])
    k, d = arch.vq.codebook_size, arch.encoder.latent_dim
    model = QATModel(make_quant_encoder(arch, design, torch.zeros(k, d)), Decoder(arch), arch.vq.beta)
    model.train()
    model.encoder.latent(torch.zeros(2, 4, 64))  # materialise runtime-statistics scale parameters
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, arch, design, payload
