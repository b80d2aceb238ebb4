"""DWT baseline (signal-agnostic transform): each channel is decomposed with PyWavelets
(periodised, so 64 coefficients per channel, 256 per spike); the k largest coefficients of the
spike are kept, each sent as a ``coef_bits`` value plus its position (log2 256 = 8 bits).
Bits per spike = k x (coef_bits + 8)."""
from __future__ import annotations

import math

import numpy as np
import pywt

from hwcae.baselines.quantizer import UniformQuantizer


class DWTCodec:
    name = "dwt"

    def __init__(self, k: int, coef_bits: int = 8, wavelet: str = "sym4", level: int = 3):
        if k < 1:
            raise ValueError("DWT needs at least one coefficient")
        self.k, self.coef_bits, self.wavelet, self.level = k, coef_bits, wavelet, level
        self.position_bits = math.ceil(math.log2(256))
        self.q = UniformQuantizer(coef_bits)

    @classmethod
    def at_budget(cls, bits_per_spike: float, coef_bits: int = 8) -> "DWTCodec":
        return cls(max(1, int(bits_per_spike // (coef_bits + 8))), coef_bits)

    @property
    def bits_per_spike(self) -> int:
        return self.k * (self.coef_bits + self.position_bits)

    def _forward(self, spikes: np.ndarray) -> np.ndarray:
        coeffs = pywt.wavedec(spikes, self.wavelet, mode="periodization", level=self.level, axis=-1)
        self._slices = [c.shape[-1] for c in coeffs]
        return np.concatenate(coeffs, axis=-1).reshape(len(spikes), -1)

    def _inverse(self, flat: np.ndarray) -> np.ndarray:
        c = flat.reshape(len(flat), 4, -1)
        parts = np.split(c, np.cumsum(self._slices)[:-1], axis=-1)
        return pywt.waverec(parts, self.wavelet, mode="periodization", axis=-1).astype(np.float32)

    def fit(self, spikes: np.ndarray) -> "DWTCodec":
        flat = self._forward(spikes)
        top = np.take_along_axis(flat, np.argsort(-np.abs(flat), axis=1)[:, : self.k], axis=1)
        self.q.fit(top)
        return self

    def encode(self, spikes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = self._forward(spikes)
        pos = np.sort(np.argsort(-np.abs(flat), axis=1)[:, : self.k], axis=1)
        return pos, self.q.quantize(np.take_along_axis(flat, pos, axis=1))

    def decode(self, code: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        pos, vals = code
        flat = np.zeros((len(pos), 256))
        np.put_along_axis(flat, pos, self.q.dequantize(vals), axis=1)
        return self._inverse(flat)

    def roundtrip(self, spikes: np.ndarray) -> np.ndarray:
        return self.decode(self.encode(spikes))
