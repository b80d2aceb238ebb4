"""PCA baseline: k principal components of the flattened 4 x 64 spike, each coefficient
quantised to ``coef_bits`` bits. Bits per spike = k x coef_bits (basis, mean and scales are
model parameters the receiver already holds, like the CAE's decoder)."""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.decomposition import PCA

from hwcae.baselines.quantizer import UniformQuantizer


class PCACodec:
    name = "pca"

    def __init__(self, n_components: int, coef_bits: int = 8):
        if n_components < 1:
            raise ValueError("PCA needs at least one component")
        self.k, self.coef_bits = n_components, coef_bits
        self.q = UniformQuantizer(coef_bits)

    @classmethod
    def at_budget(cls, bits_per_spike: float, coef_bits: int = 8) -> "PCACodec":
        return cls(max(1, int(bits_per_spike // coef_bits)), coef_bits)

    @property
    def bits_per_spike(self) -> int:
        return self.k * self.coef_bits

    def fit(self, spikes: np.ndarray) -> "PCACodec":
        flat = spikes.reshape(len(spikes), -1)
        with warnings.catch_warnings():  # identical spikes (zero variance): sklearn divides 0 / 0 for a ratio unused here
            warnings.simplefilter("ignore", RuntimeWarning)
            self.pca = PCA(n_components=self.k, svd_solver="full").fit(flat)
        self.q.fit(self.pca.transform(flat), axis=0)
        return self

    def encode(self, spikes: np.ndarray) -> np.ndarray:
        return self.q.quantize(self.pca.transform(spikes.reshape(len(spikes), -1)))

    def decode(self, codes: np.ndarray) -> np.ndarray:
        return self.pca.inverse_transform(self.q.dequantize(codes)).reshape(len(codes), 4, 64).astype(np.float32)

    def roundtrip(self, spikes: np.ndarray) -> np.ndarray:
        return self.decode(self.encode(spikes))
