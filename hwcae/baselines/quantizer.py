"""Uniform symmetric scalar quantiser shared by the baselines (coefficients at a fixed word).

The scale is fitted once on training data (a high percentile of |coefficient|, so rare outliers
saturate instead of coarsening every value) and is part of the model, not of the bitstream.
"""
from __future__ import annotations

import numpy as np


class UniformQuantizer:
    def __init__(self, bits: int = 8, percentile: float = 99.9):
        self.bits, self.percentile = bits, percentile
        self.qmax = 2 ** (bits - 1) - 1
        self.scale: np.ndarray | float | None = None

    def fit(self, values: np.ndarray, axis=None) -> "UniformQuantizer":
        peak = np.percentile(np.abs(values), self.percentile, axis=axis)
        self.scale = np.maximum(peak, 1e-9) / self.qmax
        return self

    def quantize(self, values: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(values / self.scale), -self.qmax - 1, self.qmax).astype(np.int32)

    def dequantize(self, codes: np.ndarray) -> np.ndarray:
        return codes * self.scale

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return self.dequantize(self.quantize(values))
