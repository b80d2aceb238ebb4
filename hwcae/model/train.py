"""Training the float CAE: denoising where clean twins exist, early stopping, resumable.

Deterministic on CPU for a given seed and thread count. Progress is a tqdm bar per epoch.

The resume state (``OUT.resume``, written atomically after every epoch) holds only tensors and
plain values and is read with ``torch.load(weights_only=True)``: a file that would run code, or
one written for another run (architecture, seed, epochs), is refused in one line.
"""
from __future__ import annotations

import copy
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from hwcae.errors import HwcaeError
from hwcae.fileio import atomic_path, check_outputs
from hwcae.metrics import mean_db, sndr_db
from hwcae.model.cae import CAE
from hwcae.model.checkpoint import load_plain, save_checkpoint
from hwcae.model.config import Arch
from hwcae.model.refit import cosine_schedule, refit_stage
from hwcae.model.warm_start import codebook_needs_refit, start_from
from hwcae.spikes.spikeset import SpikeSet
from hwcae.spikes.warp import stretch


def to_tensors(s: SpikeSet, arch: Arch, denoise: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(input, target) in model units: uV through the gain stage (if the arch has one; the target
    takes the input's factor) and divided by ``input_scale_uv``."""
    from hwcae.fixedpoint.gain import GainSpec, exponent_codes, factors

    x = s.spikes
    y = s.clean if denoise and s.clean is not None else s.spikes
    spec = GainSpec.of(arch.gain)
    if spec is not None:
        f = factors(exponent_codes(x, spec), spec)
        x, y = x * f, y * f
    return torch.from_numpy(x / arch.input_scale_uv).float(), torch.from_numpy(y / arch.input_scale_uv).float()


def recon_loss(rec: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "mse":
        return F.mse_loss(rec, target)
    err = ((rec - target) ** 2).sum(dim=(1, 2))
    if kind == "sse":  # the seed's sum-MSE: squared error summed over the spike, mean over the batch
        return err.mean()
    energy = (target**2).sum(dim=(1, 2)) + 1e-6
    if kind == "nmse":
        return (err / energy).mean()
    # "db": the mean per-spike SNDR in dB, negated, scaled by 1/10 to sit near the MSE's range
    return torch.log10((err + 1e-6) / energy).mean()


def augment(x: torch.Tensor, y: torch.Tensor, arch: Arch, gen: torch.Generator):
    """If configured, the recorder's band-pass on a fraction of the targets; the same random shift and
    amplitude factor on input and target; then, if configured, extra white noise on the input alone."""
    t = arch.train
    if t.augment_bandpass is not None:
        from hwcae.spikes.recorder_filter import FilterBank

        x, y = FilterBank(t.augment_bandpass)(x, y, gen)
    if t.augment_shift:
        s = int(torch.randint(-t.augment_shift, t.augment_shift + 1, (1,), generator=gen))
        x, y = torch.roll(x, s, dims=2), torch.roll(y, s, dims=2)
    lo, hi = t.augment_stretch
    if (lo, hi) != (1.0, 1.0):
        f = math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * float(torch.rand(1, generator=gen)))
        ys = stretch(y, f)
        x, y = ys + (x - y), ys
    lo, hi = t.augment_scale
    a = lo + (hi - lo) * torch.rand(x.shape[0], 1, 1, generator=gen)
    x, y = x * a, y * a
    n_lo, n_hi = t.augment_noise_uv
    if n_hi > 0:
        sd = (n_lo + (n_hi - n_lo) * torch.rand(x.shape[0], 1, 1, generator=gen)) / arch.input_scale_uv
        x = x + sd * torch.randn(x.shape, generator=gen)
    return x, y


@torch.no_grad()
def evaluate_loss(model: CAE, x: torch.Tensor, y: torch.Tensor, batch: int = 1024) -> tuple[float, float]:
    """(mean reconstruction MSE, mean SNDR in dB of reconstruction vs target)."""
    model.eval()
    mse, recs = 0.0, []
    for i in range(0, len(x), batch):
        r, _, _ = model(x[i:i + batch])
        mse += F.mse_loss(r, y[i:i + batch], reduction="sum").item()
        recs.append(r)
    rec = torch.cat(recs).numpy()
    return mse / y.numel(), mean_db(sndr_db(y.numpy(), rec))


@torch.no_grad()
def fit_codebook(model: CAE, x: torch.Tensor, gen: torch.Generator, *, kmeans: bool, spikes: int = 4096) -> None:
    """Codebook from the encoder's latents of ``spikes`` random training spikes: a random sample
    of the latent vectors (at the start), or their k-means centroids (after a warm-up)."""
    model.eval()
    z = model.vectors(model.encoder(x[torch.randperm(len(x), generator=gen)[:spikes]]))
    z = z.permute(0, 2, 1).reshape(-1, model.arch.vector_dim)
    if kmeans:
        model.vq.fit_kmeans(z, gen)
    else:
        model.vq.set_codebook(z[torch.randperm(len(z), generator=gen)[: model.arch.vq.codebook_size]])


@torch.no_grad()
def index_statistics(model, x: torch.Tensor, k: int, gain_codes: np.ndarray | None = None, batch: int = 2048) -> dict:
    """The entropy coders' statistics (:func:`hwcae.codec.statistics.symbol_statistics`) of the
    indices ``model`` sends for ``x``, as tensors for the checkpoint."""
    from hwcae.codec.statistics import symbol_statistics

    model.eval()
    idx = torch.cat([model.encode(x[i:i + batch]) for i in range(0, len(x), batch)]).numpy()
    stats = symbol_statistics(idx, k, gain_codes)
    return {key: None if v is None else torch.from_numpy(v) for key, v in stats.items()}


def train_epoch(model, opt, x, y, arch: Arch, gen: torch.Generator, bar, *, batch_size: int | None = None,
                keep_eval=None, **forward) -> None:
    """One pass over (x, y) in shuffled, augmented batches of the arch's loss (+ the VQ loss).
    ``bar``: a tqdm to advance, with the loss shown; ``keep_eval``: a sub-module left in eval mode
    (its batch-norm statistics frozen); ``forward``: keyword arguments of ``model(x, ...)``."""
    batch_size = batch_size or arch.train.batch_size
    model.train()
    if keep_eval is not None:
        keep_eval.eval()
    perm = torch.randperm(len(x), generator=gen)
    if len(x) > 1 and len(x) % batch_size == 1:
        perm = perm[:-1]  # a batch of one spike cannot be batch-normalised: leave it out this epoch
    bar.total = math.ceil(len(perm) / batch_size)
    for i in range(0, len(perm), batch_size):
        b = perm[i:i + batch_size]
        xb, yb = augment(x[b], y[b], arch, gen)
        rec, _, vq_loss = model(xb, **forward)
        loss = recon_loss(rec, yb, arch.train.loss) + vq_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.4f}")
    bar.close()


RESUME_KEYS = {"run": dict, "model": dict, "opt": dict, "sched": dict, "gen": torch.Tensor, "rng": torch.Tensor,
               "epoch": int, "best": float, "best_state": (dict, type(None)), "stale": int, "history": list}


def save_resume_state(path: Path, run: dict, model, opt, sched, gen: torch.Generator, **progress) -> None:
    """Write the state after an epoch (atomically): ``progress`` = epoch, best, best_state, stale, history."""
    state = {"run": run, "model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
             "gen": gen.get_state(), "rng": torch.get_rng_state(), **progress}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_resume_state(path: Path, run: dict, model, opt, sched, gen: torch.Generator) -> tuple:
    """Restore an interrupted run's state; returns (start epoch, best score, best state, stale epochs, history).
    ``run`` (arch, seed, epochs) must be the one the state was written for."""
    try:
        st = load_plain(path, "resume state")
    except HwcaeError as exc:
        raise HwcaeError(f"{exc}; delete it or train without --resume") from None
    bad = [k for k, t in RESUME_KEYS.items() if not isinstance(st, dict) or not isinstance(st.get(k), t)]
    if bad:
        raise HwcaeError(f"{path} is not a resume state (missing or wrong: {', '.join(bad)}); delete it or train without --resume")
    if st["run"] != run:
        raise HwcaeError(f"{path} was written for another run (architecture, seed or epochs differ); "
                         "delete it or train without --resume")
    try:
        model.load_state_dict(st["model"]), opt.load_state_dict(st["opt"]), sched.load_state_dict(st["sched"])
        gen.set_state(st["gen"]), torch.set_rng_state(st["rng"])
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise HwcaeError(f"{path}: the resume state does not fit this model ({str(exc).splitlines()[0][:100]})") from None
    return st["epoch"], st["best"], st["best_state"], st["stale"], st["history"]


def check_training_inputs(arch: Arch, train_set: SpikeSet, val_set: SpikeSet, epochs: int, out) -> None:
    """Everything that would make training fail or be lost, checked before the first epoch."""
    if not 1 <= epochs <= 10000:
        raise HwcaeError(f"epochs must be between 1 and 10000, got {epochs}")
    if arch.train.vq_warmup_epochs >= epochs:
        raise HwcaeError(f"vq_warmup_epochs ({arch.train.vq_warmup_epochs}) leaves no quantised epoch of {epochs}: "
                         "the warm-up must be shorter than the training")
    need = max(2, math.ceil(arch.vq.codebook_size / arch.indices_per_spike))
    if len(train_set) < need:
        raise HwcaeError(f"training needs at least {need} spikes for arch {arch.name!r} (its {arch.vq.codebook_size} "
                         f"codewords are fitted on {arch.indices_per_spike} vectors per spike); got {len(train_set)}")
    if len(val_set) < 1:
        raise HwcaeError("the validation set holds no spikes")
    out = Path(out)
    check_outputs([out, out.with_suffix(".json"), Path(str(out) + ".resume")], force=True)


def initial_codebook(model: CAE, x: torch.Tensor, gen: torch.Generator, init: dict | None, started: dict) -> None:
    """Codebook from the encoder's outputs (avoids dead codes at the start): random latents for a fresh
    model, k-means for a warm start whose codebook cannot serve as it is, untouched otherwise."""
    if init is None or codebook_needs_refit(model, init, started["init"]["fresh"]):
        fit_codebook(model, x, gen, kmeans=init is not None)


def train(arch: Arch, train_set: SpikeSet, val_set: SpikeSet, out: str | os.PathLike, *, seed: int = 0,
          epochs: int | None = None, resume: bool = False, data_desc: dict | None = None,
          command: str = "", progress: bool = True, init: dict | None = None, init_source: str = "") -> dict:
    """Train, keep the model with the best validation SNDR (the reported metric: mean per-spike dB;
    the MSE loss and it disagree on which epoch is best), write the checkpoint; returns its payload.
    ``init``: a float checkpoint's payload to start from (:mod:`hwcae.model.warm_start`); its matching
    tensors are copied and, where it cannot serve as it is, the codebook refit by k-means on the latents."""
    from tqdm import tqdm

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(seed)
    t = arch.train
    epochs = t.epochs if epochs is None else epochs
    check_training_inputs(arch, train_set, val_set, epochs, out)
    run = {"arch": arch.model_dump(mode="json"), "seed": seed, "epochs": epochs}
    x, y = to_tensors(train_set, arch, t.denoise)
    xv, yv = to_tensors(val_set, arch, t.denoise)
    model = CAE(arch)
    started = start_from(model, init, init_source)
    opt = torch.optim.Adam(model.parameters(), lr=t.lr, weight_decay=t.weight_decay, amsgrad=True)
    sched = cosine_schedule(opt, epochs)
    state_path = Path(str(out) + ".resume")
    start, best, best_state, stale, history = 0, float("inf"), None, 0, []
    if resume and state_path.is_file():
        start, best, best_state, stale, history = load_resume_state(state_path, run, model, opt, sched, gen)
    warm = t.vq_warmup_epochs
    if start == 0 and not warm:
        initial_codebook(model, x, gen, init, started)
    if start == 0:
        history.append({"epoch": 0, "val_mse": evaluate_loss(model, xv, yv)[0], "val_sndr_db": float("nan")})
    for epoch in range(start, epochs):
        if warm and epoch == warm:  # end of the continuous warm-up: codebook = k-means of the latents
            fit_codebook(model, x, gen, kmeans=True)
        quantize = epoch >= warm
        bar = tqdm(desc=f"epoch {epoch + 1}/{epochs}", unit="batch", disable=not progress, leave=False, file=sys.stderr)
        train_epoch(model, opt, x, y, arch, gen, bar, quantize=quantize)
        sched.step()
        val_mse, val_sndr = evaluate_loss(model, xv, yv)
        history.append({"epoch": epoch + 1, "val_mse": val_mse, "val_sndr_db": val_sndr})
        if progress:
            print(f"epoch {epoch + 1}: val mse {val_mse:.5f}, val SNDR {val_sndr:.2f} dB", file=sys.stderr)
        score = -val_sndr if quantize else float("inf")  # warm-up epochs are not candidates
        if score < best:
            best, best_state, stale = score, copy.deepcopy(model.state_dict()), 0
        elif quantize:
            stale += 1
        save_resume_state(state_path, run, model, opt, sched, gen, epoch=epoch + 1, best=float(best),
                          best_state=best_state, stale=stale, history=history)
        if stale >= t.patience:
            break
    model.load_state_dict(best_state)
    metrics = refit_stage(model, arch, x, y, xv, yv, seed=seed, progress=progress)
    val_mse, val_sndr = evaluate_loss(model, xv, yv)
    payload = {
        "kind": "float", "arch": arch.model_dump(mode="json"), "design": None,
        "state_dict": model.state_dict(), "input_scale_uv": arch.input_scale_uv,
        **index_statistics(model, x, arch.vq.codebook_size, gain_codes(train_set.spikes, arch)),
        "data": {**(data_desc or {}), **started}, "seed": seed, "command": command,
        "metrics": {"val_mse": val_mse, "val_sndr_db": val_sndr, "epochs_run": len(history) - 1, "history": history,
                    **metrics}}
    save_checkpoint(out, payload)
    state_path.unlink(missing_ok=True)
    return payload


def gain_codes(spikes_uv: np.ndarray, arch: Arch) -> np.ndarray | None:
    """The gain stage's exponent codes of ``spikes_uv`` (None if the arch has no gain stage)."""
    from hwcae.fixedpoint.gain import GainSpec, exponent_codes

    spec = GainSpec.of(arch.gain)
    return None if spec is None else exponent_codes(spikes_uv, spec)


def model_from_checkpoint(payload: dict) -> CAE:
    from hwcae.model.config import arch_from_dict

    model = CAE(arch_from_dict(payload["arch"]))
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model
