"""The recorder's band-pass filter applied to aligned snippets: a training augmentation.

Every real recording reaches the spike detector band-passed (an analog front end, then often a
digital 300-6000 Hz filter), which reshapes each waveform: the slow recovery is cut, a positive
pre- and after-phase grows, the trough shrinks. SpikeInterface's generated templates are
unfiltered. :class:`FilterBank` draws ``bank`` Butterworth band-passes once (order, low and high
cut-off in Hz at a sampling rate in Hz, each log-uniform or uniform in its configured range;
``zero`` phase as ``filtfilt`` gives, |H|^2, or ``causal``, H) and filters snippets with them in
the frequency domain: each 64-sample snippet is zero-padded to 256 samples (the waveform decays
to zero at its ends), multiplied by the filter's response and cut back. A causal filter delays
the waveform; the strongest channel's trough is moved back to where it was, as a detector would
align the filtered trace.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

N_FFT = 256  # 64 samples, zero-padded on both sides
PAD = 96  # zeros before the snippet


@lru_cache(maxsize=4)
def _responses(bank: int, seed: int, phases: tuple, order: tuple, low_hz: tuple, high_hz: tuple,
               fs_hz: tuple) -> torch.Tensor:
    """(bank, N_FFT // 2 + 1) complex responses on the padded snippet's FFT grid."""
    from scipy.signal import butter, sosfreqz

    rng = np.random.default_rng(seed)
    freqs = np.fft.rfftfreq(N_FFT)  # cycles per sample
    out = []
    for _ in range(bank):
        fs = rng.uniform(*fs_hz)
        lo = np.exp(rng.uniform(np.log(low_hz[0]), np.log(low_hz[1])))
        hi = min(np.exp(rng.uniform(np.log(high_hz[0]), np.log(high_hz[1]))), 0.45 * fs)
        sos = butter(int(rng.integers(order[0], order[1] + 1)), [lo, hi], btype="band", fs=fs, output="sos")
        _, h = sosfreqz(sos, worN=freqs * fs, fs=fs)
        out.append(np.abs(h) ** 2 if rng.choice(list(phases)) == "zero" else h)
    return torch.tensor(np.array(out), dtype=torch.complex64)


class FilterBank:
    """Band-passes drawn once from a :class:`hwcae.model.config.BandPass` config (deterministic)."""

    def __init__(self, cfg):
        self.p = cfg.p
        self.h = _responses(cfg.bank, cfg.seed, tuple(cfg.phase), tuple(cfg.order), tuple(cfg.low_hz),
                            tuple(cfg.high_hz), tuple(cfg.fs_hz))

    def filter(self, y: torch.Tensor, which: torch.Tensor) -> torch.Tensor:
        """Snippets (N, C, 64) through filters ``which`` (N,) of the bank, troughs re-aligned."""
        n, _, t = y.shape
        padded = torch.nn.functional.pad(y, (PAD, N_FFT - PAD - t))
        yf = torch.fft.irfft(torch.fft.rfft(padded, dim=2) * self.h[which][:, None, :], n=N_FFT, dim=2)
        yf = yf[:, :, PAD:PAD + t]
        rows = torch.arange(n)
        best = y.abs().amax(dim=2).argmax(dim=1)  # the strongest channel
        delay = yf[rows, best].argmin(dim=1) - y[rows, best].argmin(dim=1)
        src = (torch.arange(t)[None, :] + delay[:, None]) % t  # each row rolled back by its delay
        return yf.gather(2, src[:, None, :].expand_as(yf))

    def __call__(self, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(input, target) with a fraction ``p`` of the targets filtered; the input keeps its own noise
        (``x - y``, already band-limited in the data) on the filtered target."""
        n = y.shape[0]
        pick = torch.rand(n, generator=gen) < self.p
        if not bool(pick.any()):
            return x, y
        which = torch.randint(0, len(self.h), (n,), generator=gen)
        out = y.clone()
        out[pick] = self.filter(y[pick], which[pick])
        return out + (x - y), out
