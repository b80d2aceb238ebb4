"""Bit-accurate NumPy integer model of the on-chip encoder and codeword search.

Built from the fixed-point weights (:mod:`hwcae.export.fixed_point`) alone; no torch. Every
tensor is an int64 array of codes with a power-of-two exponent. Requantisation is exactly what
the firmware does: shift with round-half-to-even (``RND_CONV``), then saturate (``SAT``) to the
destination word. Accumulators are exact (int64; the design's accumulator width is checked).
Saturation events are counted per quantiser.
"""
from __future__ import annotations

import numpy as np

from hwcae.errors import HwcaeError


def requantize(codes: np.ndarray, exp_from: int, fmt: dict, relu: bool = False) -> tuple[np.ndarray, int]:
    """codes x 2^exp_from -> codes of format fmt (bits, signed, exp); returns (codes, #saturated)."""
    if relu:
        codes = np.maximum(codes, 0)
    shift = fmt["exp"] - exp_from
    if shift > 0:  # drop `shift` fractional bits, round half to even
        q = codes >> shift
        rem = codes - (q << shift)
        half = 1 << (shift - 1)
        q = q + ((rem > half) | ((rem == half) & (q & 1 == 1)))
    else:
        q = codes << (-shift)
    lo, hi = (-(1 << (fmt["bits"] - 1)), (1 << (fmt["bits"] - 1)) - 1) if fmt["signed"] else (0, (1 << fmt["bits"]) - 1)
    sat = int(np.count_nonzero((q < lo) | (q > hi)))
    return np.clip(q, lo, hi), sat


def conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact integer 'same' convolution: x (N, C, L), w (O, C, K), b (O,) -> (N, O, L).

    Computed as one float64 matrix product (BLAS) when every partial sum is below 2^53, where
    float64 integer arithmetic is exact; otherwise in int64.
    """
    k = w.shape[2]
    pad = k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, k, axis=2)  # (N, C, L, K)
    if x.size and float(np.abs(x).max()) * float(np.abs(w).reshape(len(w), -1).sum(1).max()) < 2.0**52:
        cols = windows.transpose(0, 2, 1, 3).reshape(x.shape[0], x.shape[2], -1).astype(np.float64)
        out = cols @ w.reshape(len(w), -1).T.astype(np.float64)  # (N, L, O), exact integers
        return np.rint(out).astype(np.int64).transpose(0, 2, 1) + b[None, :, None]
    out = np.einsum("nclk,ock->nol", windows, w, optimize=True)
    return out + b[None, :, None]


class ReferenceEncoder:
    """``encode(spikes_uV)`` -> (latent codes (N, D, L), indices (N, L)); ``saturation`` counts."""

    def __init__(self, fp: dict, accumulator_bits: int = 64):
        self.fp = fp
        self.accumulator_bits = accumulator_bits
        self.saturation: dict[str, int] = {}

    def quantize_input(self, spikes_uv: np.ndarray) -> np.ndarray:
        """The ADC word: uV -> signed input codes (round half even, saturate)."""
        fmt = self.fp["acts"]["input"]
        x = np.asarray(spikes_uv, np.float64) / self.fp["input_scale_uv"] / 2.0 ** fmt["exp"]
        lo, hi = -(1 << (fmt["bits"] - 1)), (1 << (fmt["bits"] - 1)) - 1
        q = np.rint(x)
        self._count("input", int(np.count_nonzero((q < lo) | (q > hi))))
        return np.clip(q, lo, hi).astype(np.int64)

    def _count(self, name: str, n: int) -> None:
        self.saturation[name] = self.saturation.get(name, 0) + n

    def _conv(self, name: str, x: np.ndarray) -> np.ndarray:
        c = self.fp["convs"][name]
        acc = conv1d(x, c["w"], c["b"])
        peak = int(np.abs(acc).max()) if acc.size else 0
        if peak >= 1 << (self.accumulator_bits - 1):
            raise HwcaeError(f"layer {name}: accumulator needs more than {self.accumulator_bits} bits")
        return acc

    def _act(self, name: str, codes: np.ndarray, exp: int, relu: bool) -> np.ndarray:
        q, sat = requantize(codes, exp, self.fp["acts"][name], relu)
        self._count(name, sat)
        return q

    def latent_from_codes(self, x: np.ndarray) -> np.ndarray:
        fp, acts = self.fp, self.fp["acts"]
        x = self._act("stem", self._conv("stem", x), fp["convs"]["stem"]["acc_exp"], relu=True)
        x_exp = acts["stem"]["exp"]
        for i, pool in enumerate(fp["pools"]):
            n = f"block{i}"
            y = self._act(f"{n}.reduce", self._conv(f"{n}.reduce", x), fp["convs"][f"{n}.reduce"]["acc_exp"], True)
            y = self._act(f"{n}.mid", self._conv(f"{n}.mid", y), fp["convs"][f"{n}.mid"]["acc_exp"], True)
            y = self._conv(f"{n}.expand", y)
            a = self._act(f"{n}.add_in", x, x_exp, False)  # shared quantiser on both operands
            b = self._act(f"{n}.add_in", y, fp["convs"][f"{n}.expand"]["acc_exp"], False)
            x = self._act(f"{n}.add", a + b, acts[f"{n}.add_in"]["exp"], True)
            x_exp = acts[f"{n}.add"]["exp"]
            if pool > 1:
                x = x.reshape(x.shape[0], x.shape[1], -1, pool).max(axis=3)
        return self._act("latent", self._conv("head", x), fp["convs"]["head"]["acc_exp"], False)

    def scores(self, latent: np.ndarray) -> np.ndarray:
        """Exact integer codeword scores (N, K, L), scaled by 2^-(f_z + 2 f_c + 1).

        score_k = z.e_k - ||e_k||^2 / 2 with z = Z 2^ez, e = E 2^ec; multiplying by
        2^-(ez + 2 ec) x 2 gives 2 Z.E 2^-ec - ||E||^2 2^-ez: shifted left instead where needed.
        """
        cb = self.fp["codebook"]
        ez, ec = self.fp["acts"]["latent"]["exp"], cb["exp"]
        dot = np.einsum("ndl,kd->nkl", latent, cb["w"], optimize=True)
        norm = (cb["w"] ** 2).sum(1)[None, :, None]
        # common exponent m = min(ez + ec, 2 ec - 1): both terms become integers at 2^m
        m = min(ez + ec, 2 * ec - 1)
        return (dot << (ez + ec - m)) - (norm << (2 * ec - 1 - m))

    def encode(self, spikes_uv: np.ndarray, batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        lat, idx = [], []
        for i in range(0, len(spikes_uv), batch):
            z = self.latent_from_codes(self.quantize_input(spikes_uv[i:i + batch]))
            lat.append(z)
            idx.append(np.argmax(self.scores(z), axis=1))  # first maximum: lowest index on ties
        if not lat:
            return np.zeros((0,)), np.zeros((0,), np.int64)
        return np.concatenate(lat), np.concatenate(idx)
