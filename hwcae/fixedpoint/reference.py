"""Bit-accurate NumPy integer model of the on-chip encoder and codeword search.

It walks the typed integer model (:class:`hwcae.fixedpoint.graph.FixedPointModel`) alone; no
torch. Every tensor holds integer codes with a power-of-two exponent. Requantisation is exactly what the
firmware does: shift with round-half-to-even (``RND_CONV``), then saturate (``SAT``) to the
destination word. Accumulators are exact; saturation events are counted per quantiser.

Speed without giving up exactness: codes are carried as float64, which represents every integer
below 2^53 exactly, so a convolution is one BLAS matrix product (channels-last im2col), a shift
is a multiplication by a power of two and round-half-even is ``np.rint``. Each product's partial
sums are bounded from the operands' magnitudes first: float32 below 2^24, float64 below 2^53, a
clear error above (no design comes near: 12-bit inputs x 16-bit weights x 96 taps < 2^35).
"""
from __future__ import annotations

import numpy as np

from hwcae.errors import HwcaeError
from hwcae.fixedpoint.gain import join, normalize
from hwcae.fixedpoint.graph import Add, Conv, FixedPointModel, MaxPool, Quant, Reshape, Word

EXACT_FLOAT64 = 2.0**53
EXACT_FLOAT32 = 2.0**24


def requantize(codes: np.ndarray, exp_from: int, word: Word, relu: bool = False) -> tuple[np.ndarray, int]:
    """codes x 2^exp_from -> codes of ``word``; returns (codes, #saturated).

    Works on integer arrays and on float64 arrays of exact integers (returned as float64).
    """
    x = np.asarray(codes, np.float64)
    shift = word.exp - exp_from
    if relu:
        q = np.maximum(x, 0.0)
        q *= 2.0**-shift
    else:
        q = x * 2.0**-shift  # a power-of-two scaling is exact
    np.rint(q, out=q)  # round half to even
    lo, hi = float(word.lo), float(word.hi)
    if q.size == 0 or (q.min() >= lo and q.max() <= hi):
        sat = 0
    else:
        sat = int(np.count_nonzero(q < lo) + np.count_nonzero(q > hi))
        np.clip(q, lo, hi, out=q)
    if np.issubdtype(np.asarray(codes).dtype, np.integer):
        return q.astype(np.int64), sat
    return q, sat


def _matmul_exact(a: np.ndarray, w: np.ndarray, a_max: float | None = None) -> np.ndarray:
    """a (M, J) @ w (J, O) for integer-valued operands, exactly: every partial sum is bounded by
    max|a| x max column sum |w|, and float32 / float64 hold every integer below 2^24 / 2^53.
    ``a_max`` (max|a|) may be given when the caller knows it."""
    a_max = float(np.abs(a).max(initial=0.0)) if a_max is None else a_max
    bound = a_max * float(np.abs(w).sum(axis=0).max(initial=0.0))
    if bound < EXACT_FLOAT32:  # twice the BLAS speed of float64
        return (a.astype(np.float32) @ w.astype(np.float32)).astype(np.float64)
    if bound < EXACT_FLOAT64:
        return a @ w.astype(np.float64)
    raise HwcaeError(f"partial sums up to {bound:.3g} exceed 2^53: beyond this reference model's exact range")


def conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact integer 'same' convolution, channels last: x (N, L, C), w (O, C, K), b (O,) -> (N, L, O)."""
    n, length, c = x.shape
    o, _, k = w.shape
    pad = k // 2
    if k > o:  # few outputs, many taps (the global head): one product per tap, then shifted sums
        return _conv1d_by_taps(x, w, b)
    cols = np.zeros((n, length, k * c)) if k > 1 else x
    for j in range(k if k > 1 else 0):  # column block j holds x shifted by j - pad, zero outside
        lo, hi = max(0, pad - j), min(length, length + pad - j)
        cols[:, lo:hi, j * c:(j + 1) * c] = x[:, lo + j - pad:hi + j - pad, :]
    wm = w.transpose(2, 1, 0).reshape(k * c, -1)  # row j*C + c matches the column order above
    x_max = float(max(x.max(initial=0.0), -x.min(initial=0.0)))  # im2col repeats x: same maximum
    out = _matmul_exact(cols.reshape(n * length, k * c), wm, x_max)
    out += b  # |b| < 2^31 by the design's bias width: the sum stays exact
    return out.reshape(n, length, -1)


def _conv1d_by_taps(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``conv1d`` without the im2col copy: z = x @ [w_0 .. w_K-1] gives every tap's exact partial
    sum (N, L, K, O); output position p adds tap j's term from input position p + j - pad. Every
    running sum is bounded by max|x| x the output's whole sum |w|, checked against 2^53 first."""
    n, length, c = x.shape
    o, _, k = w.shape
    pad = k // 2
    x_max = float(max(x.max(initial=0.0), -x.min(initial=0.0)))
    if x_max * float(np.abs(w).sum(axis=(1, 2)).max(initial=0.0)) >= EXACT_FLOAT64:
        raise HwcaeError("partial sums reach 2^53: beyond this reference model's exact range")
    z = _matmul_exact(x.reshape(n * length, c), w.transpose(1, 2, 0).reshape(c, k * o), x_max)
    z = z.reshape(n, length, k, o)
    out = np.zeros((n, length, o))
    for j in range(k):  # output p takes input p + j - pad; zero padding outside
        lo, hi = max(0, pad - j), min(length, length + pad - j)
        if lo < hi:
            out[:, lo:hi] += z[:, lo + j - pad:hi + j - pad, j]
    out += b
    return out


def grouped_conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray, groups: int = 1) -> np.ndarray:
    """``conv1d`` with ``groups`` groups: w (O, C / groups, K); output channel o reads only the input
    channels of its group o // (O / groups), as torch's grouped convolution."""
    if groups == 1:
        return conv1d(x, w, b)
    ci, co = x.shape[2] // groups, len(w) // groups
    return np.concatenate([conv1d(x[:, :, g * ci:(g + 1) * ci], w[g * co:(g + 1) * co], b[g * co:(g + 1) * co])
                           for g in range(groups)], axis=2)


class ReferenceEncoder:
    """``encode(spikes_uV)`` -> (latent codes (N, D, L), indices (N, L)); ``saturation`` counts
    saturated values per quantiser over everything encoded so far."""

    def __init__(self, model: FixedPointModel, accumulator_bits: int = 64):
        self.model = model
        self.accumulator_bits = accumulator_bits
        self.saturation: dict[str, int] = {}
        self._last_use = {}
        for i, op in enumerate(model.ops):  # free each tensor after its last reader
            for s in (op.srcs if isinstance(op, Add) else (op.src,)):
                self._last_use[s] = i

    def quantize_input(self, spikes_uv: np.ndarray) -> np.ndarray:
        """The ADC word: uV -> signed input codes (round half even, saturate), int64 (N, 4, 64)."""
        return self._input_codes(spikes_uv).astype(np.int64)

    def _input_codes(self, spikes_uv: np.ndarray) -> np.ndarray:
        word = self.model.input
        x = np.asarray(spikes_uv, np.float64) * (1.0 / self.model.input_scale_uv / 2.0**word.exp)
        q, sat = requantize(x, 0, Word(word.bits, word.signed, 0))
        self._count("input", sat)
        return q

    def _count(self, name: str, n: int) -> None:
        self.saturation[name] = self.saturation.get(name, 0) + n

    def _run(self, op, t: dict) -> tuple[np.ndarray, int]:
        """One operation on the tensors ``t`` (name -> (codes, exp)): its (codes, exp)."""
        if isinstance(op, Add):
            (a, ea), (b, eb) = t[op.srcs[0]], t[op.srcs[1]]
            if ea != eb:
                raise HwcaeError(f"{op.dst}: adds operands at exponents {ea} and {eb}")
            return a + b, ea
        x, e = t[op.src]
        if isinstance(op, Conv):
            acc = grouped_conv1d(x, op.w, op.b, op.groups)
            if float(np.abs(acc).max(initial=0.0)) >= 2.0 ** (self.accumulator_bits - 1):
                raise HwcaeError(f"layer {op.name}: accumulator needs more than {self.accumulator_bits} bits")
            return acc, op.acc_exp
        if isinstance(op, Quant):
            q, sat = requantize(x, e, op.word, op.relu)
            self._count(op.name, sat)
            return q, op.word.exp
        if isinstance(op, MaxPool):
            return x.reshape(x.shape[0], -1, op.size, x.shape[2]).max(axis=2), e
        if isinstance(op, Reshape):
            return x.reshape(x.shape[0], op.positions, -1), e
        raise HwcaeError(f"unknown fixed-point operation {op!r}")  # pragma: no cover

    def _latent(self, x: np.ndarray) -> np.ndarray:
        """Channels-last float64 input codes (N, L, C) -> latent codes (N, L, D), float64."""
        t = {"input": (x, self.model.input.exp)}
        for i, op in enumerate(self.model.ops):
            t[op.dst] = self._run(op, t)
            for s in [s for s in t if self._last_use.get(s, len(self.model.ops)) <= i and s != op.dst]:
                del t[s]
        return t[self.model.latent][0]

    def scores(self, latent: np.ndarray) -> np.ndarray:
        """Exact integer codeword scores (N, K, L) of latent codes (N, D, L), scaled by 2^-(f_z + 2 f_c + 1).

        score_k = z.e_k - ||e_k||^2 / 2 with z = Z 2^ez, e = E 2^ec; multiplying by
        2^-(ez + 2 ec) x 2 gives 2 Z.E 2^-ec - ||E||^2 2^-ez: shifted left instead where needed.
        """
        s = self._scores(np.asarray(latent, np.float64).transpose(0, 2, 1))
        return s.transpose(0, 2, 1).astype(np.int64)

    def _scores(self, latent: np.ndarray) -> np.ndarray:
        """Channels-last latent (N, L, D) -> scores (N, L, K), float64 exact integers."""
        cb = self.model.search
        ez, ec = self.model.latent_word.exp, cb.exp
        n, length, d = latent.shape
        dot = _matmul_exact(latent.reshape(n * length, d), cb.codebook.T).reshape(n, length, -1)
        norm = (cb.codebook.astype(np.float64) ** 2).sum(1)
        # common exponent m = min(ez + ec, 2 ec - 1): both terms become integers at 2^m
        m = min(ez + ec, 2 * ec - 1)
        out = dot * 2.0 ** (ez + ec - m) - norm * 2.0 ** (2 * ec - 1 - m)
        if float(np.abs(out).max(initial=0.0)) >= EXACT_FLOAT64:  # pragma: no cover
            raise HwcaeError("codeword scores beyond 2^53: not representable in this reference model")
        return out

    @property
    def adc(self) -> tuple[int, float]:
        """The ADC word as (bits, full-scale uV): the input format of the encoder."""
        return self.model.adc

    def gain_stage(self, spikes_uv: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(the spikes the encoder sees, exponent codes): the ADC word, shifted by the gain stage if the
        design has one (:mod:`hwcae.fixedpoint.gain`); without one, the spikes unchanged and no codes."""
        if self.model.gain is None:
            return spikes_uv, None
        return normalize(spikes_uv, self.model.gain, adc=self.adc)

    def encode_symbols(self, spikes_uv: np.ndarray) -> np.ndarray:
        """What the chip sends per spike: codeword indices (N, L), then the gain code if any."""
        x, codes = self.gain_stage(spikes_uv)
        return join(self.encode(x)[1], codes)

    def encode(self, spikes_uv: np.ndarray, batch: int = 128) -> tuple[np.ndarray, np.ndarray]:
        """(latent codes (N, D, L), indices (N, L)) of the encoder alone: spikes as the encoder's
        input word sees them (after any gain stage, see :meth:`encode_symbols`)."""
        lat, idx = [], []
        for i in range(0, len(spikes_uv), batch):
            x = self._input_codes(spikes_uv[i:i + batch]).transpose(0, 2, 1)
            z = self._latent(np.ascontiguousarray(x))
            idx.append(np.argmax(self._scores(z), axis=2))  # first maximum: lowest index on ties
            lat.append(z.transpose(0, 2, 1).astype(np.int64))
        if not lat:
            d, p = self.model.search.dim, self.model.latent_positions
            return np.zeros((0, d, p), np.int64), np.zeros((0, p), np.int64)
        return np.concatenate(lat), np.concatenate(idx)
