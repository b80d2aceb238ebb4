"""The gain stage: per-spike power-of-two normalisation ahead of the encoder (block floating point).

Spike amplitudes span two decades (a 20 uV unit far from the probe, a 1 mV one beside it), and a
codebook of fixed-scale codewords spends most of its resolution on the range. The gain stage
takes the aligned spike's trough (row 0, sample ``PEAK_SAMPLE``: the best channel's negative peak,
which detection put there), finds its power-of-two exponent and shifts the whole spike so the
trough lands in ``[target_uv, 2 x target_uv)``. The exponent code (``bits`` wide: troughs from
``min_uv`` up to ``min_uv x 2^(2^bits)``, clipped at both ends) is sent beside the codeword indices,
and the receiver shifts the reconstruction back. On chip it is a leading-one detector on one
sample and a barrel shift of the 256 input words, before the encoder; in fixed point the shift
acts on the ADC words (``adc`` below), so the encoder sees exactly what the chip computes.

Pure NumPy (the NumPy reference, the codec and streaming use it without torch).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from hwcae import PEAK_SAMPLE


@dataclasses.dataclass(frozen=True)
class GainSpec:
    bits: int  # exponent code width
    min_uv: float  # troughs below 2 x min_uv all get code 0
    target_uv: float  # the normalised trough lies in [target_uv, 2 x target_uv)

    @classmethod
    def of(cls, spec) -> "GainSpec | None":
        """From an arch's ``gain`` (a pydantic model, a dict, a GainSpec) or None."""
        if spec is None or isinstance(spec, GainSpec):
            return spec
        d = spec if isinstance(spec, dict) else spec.model_dump()
        return cls(int(d["bits"]), float(d["min_uv"]), float(d["target_uv"]))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def adc_quantize(spikes_uv: np.ndarray, bits: int, range_uv: float) -> np.ndarray:
    """The ADC word in uV: round half to even to ``range_uv / 2^(bits-1)``, saturate to the word."""
    step = range_uv / 2.0 ** (bits - 1)
    q = np.rint(np.asarray(spikes_uv, np.float64) / step)
    return np.clip(q, -(2.0 ** (bits - 1)), 2.0 ** (bits - 1) - 1) * step


def exponent_codes(spikes_uv: np.ndarray, spec: GainSpec) -> np.ndarray:
    """(N,) int64 codes: floor(log2(trough / min_uv)) clipped to [0, 2^bits - 1] (exact: frexp)."""
    trough = -np.asarray(spikes_uv, np.float64)[:, 0, PEAK_SAMPLE]
    _, e = np.frexp(np.maximum(trough, spec.min_uv) / spec.min_uv)  # x = m 2^e, m in [0.5, 1)
    return np.clip(e.astype(np.int64) - 1, 0, 2**spec.bits - 1)


def factors(codes: np.ndarray, spec: GainSpec) -> np.ndarray:
    """(N, 1, 1) power-of-two factors that normalise spikes of the given codes."""
    return (spec.target_uv / spec.min_uv * 2.0 ** -np.asarray(codes, np.float64))[:, None, None]


def normalize(spikes_uv: np.ndarray, spec: GainSpec | None, adc: tuple[int, float] | None = None
              ) -> tuple[np.ndarray, np.ndarray | None]:
    """(normalised spikes (float32; float64 with ``adc``), exponent codes); ``spec`` None: the spikes
    as they are and no codes. ``adc`` = (bits, range_uv) quantises to the ADC word first."""
    x = adc_quantize(spikes_uv, *adc) if adc is not None else np.asarray(spikes_uv)
    if spec is None:
        return x, None
    codes = exponent_codes(x, spec)
    out = x * factors(codes, spec)  # a power of two: exact
    return (out if adc is not None else out.astype(np.float32)), codes


def denormalize(spikes_uv: np.ndarray, codes: np.ndarray | None, spec: GainSpec | None) -> np.ndarray:
    """Undo :func:`normalize` on reconstructions."""
    if spec is None:
        return spikes_uv
    return (spikes_uv / factors(codes, spec)).astype(np.float32)


def join(indices: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    """Per-spike symbols: the codeword indices, then the exponent code as one more column."""
    return indices if codes is None else np.concatenate([indices, np.asarray(codes, np.int64)[:, None]], axis=1)


def split(symbols: np.ndarray, spec: GainSpec | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Inverse of :func:`join`."""
    symbols = np.asarray(symbols)
    return (symbols, None) if spec is None else (symbols[:, :-1], symbols[:, -1])
