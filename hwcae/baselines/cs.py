"""Compressive-sensing baseline: m random Bernoulli (+-1) measurements of the flattened 4 x 64
spike, each quantised to ``coef_bits`` bits; recovery by orthogonal matching pursuit
(scikit-learn) in an orthonormal wavelet basis (sym4, 3 levels, per channel).

Bits per spike = m x coef_bits. The measurement matrix comes from a fixed seed, so the receiver
regenerates it; like the other baselines' bases it is not part of the bitstream.
"""
from __future__ import annotations

import numpy as np
import pywt
from sklearn.linear_model import orthogonal_mp

from hwcae.baselines.quantizer import UniformQuantizer


def wavelet_synthesis(n: int = 64, wavelet: str = "sym4", level: int = 3) -> np.ndarray:
    """(n, n) orthonormal synthesis matrix: column j is the signal of wavelet coefficient j."""
    # row i = the coefficients of unit impulse e_i = column i of the analysis matrix W; W is
    # orthonormal, so its inverse (the synthesis matrix) is W^T, whose rows these are
    rows = [np.concatenate(pywt.wavedec(e, wavelet, mode="periodization", level=level)) for e in np.eye(n)]
    return np.stack(rows)


class CSCodec:
    name = "cs"

    def __init__(self, m: int, coef_bits: int = 8, seed: int = 0, sparsity: int | None = None):
        if m < 1:
            raise ValueError("compressive sensing needs at least one measurement")
        self.m, self.coef_bits, self.seed = m, coef_bits, seed
        self.sparsity = sparsity or max(1, m // 4)  # more atoms than m/4 overfit the quantisation noise
        self.q = UniformQuantizer(coef_bits)

    @classmethod
    def at_budget(cls, bits_per_spike: float, coef_bits: int = 8) -> "CSCodec":
        m = max(1, int(round(bits_per_spike / coef_bits)))
        return cls(m, min(coef_bits, max(2, int(bits_per_spike // m))))

    @property
    def bits_per_spike(self) -> int:
        return self.m * self.coef_bits

    def fit(self, spikes: np.ndarray) -> "CSCodec":
        rng = np.random.default_rng(self.seed)
        self.phi = rng.choice([-1.0, 1.0], size=(self.m, 256)) / np.sqrt(self.m)
        psi_ch = wavelet_synthesis()
        self.psi = np.kron(np.eye(4), psi_ch)  # (256, 256), channel-major like the flattened spike
        self.a = self.phi @ self.psi
        self.q.fit(spikes.reshape(len(spikes), -1) @ self.phi.T, axis=0)
        return self

    def encode(self, spikes: np.ndarray) -> np.ndarray:
        return self.q.quantize(spikes.reshape(len(spikes), -1).astype(np.float64) @ self.phi.T)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        y = self.q.dequantize(codes).T  # (m, N)
        k = min(self.sparsity, self.m)
        s = orthogonal_mp(self.a, y, n_nonzero_coefs=k) if len(codes) else np.zeros((256, 0))
        s = s.reshape(256, -1)
        return (self.psi @ s).T.reshape(len(codes), 4, 64).astype(np.float32)

    def roundtrip(self, spikes: np.ndarray) -> np.ndarray:
        return self.decode(self.encode(spikes))
