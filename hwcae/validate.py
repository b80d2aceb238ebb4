"""Typed checks at the boundary, in one place: numbers given on the command line (argparse
``type=`` helpers) and the integer index arrays that travel beside spikes (``times``, ``channels``).

An argparse helper raises :class:`argparse.ArgumentTypeError`, which the command line turns into
one line (``hwcae: error: --epochs must be at least 1 (got '0')``); an array check raises
:class:`~hwcae.errors.HwcaeError`.
"""
from __future__ import annotations

import argparse
import math

import numpy as np

from hwcae.errors import HwcaeError

#: Largest sample index / channel id an index array may hold (the container's varints stay in 64 bits).
MAX_INDEX = 1 << 62


def _number(text: str, kind: type):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number (got {text!r})")
    return value


def bounded(kind: type = float, low: float | None = None, high: float | None = None, *, low_open: bool = False):
    """An argparse type: a ``kind`` (int or float, finite) within [low, high] (``low_open``: > low)."""

    def convert(text: str):
        value = _number(text, kind)
        if low is not None and (value <= low if low_open else value < low):
            raise argparse.ArgumentTypeError(f"must be {'>' if low_open else 'at least'} {low:g} (got {text!r})")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:g} (got {text!r})")
        return value

    convert.__name__ = kind.__name__  # argparse names the type in its messages
    return convert


#: The helpers the verbs use.
positive_int = bounded(int, 1)
nonneg_int = bounded(int, 0)
positive_float = bounded(float, 0, low_open=True)
nonneg_float = bounded(float, 0)
finite_float = bounded(float)
seed = bounded(int, 0, 2**32 - 1)
epochs = bounded(int, 1, 10000)


def index_array(name: str, a, n: int) -> np.ndarray:
    """``a`` as int64 (n,): integers (not strings, floats or booleans), 1-D, length n, each in [0, 2^62)."""
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
        raise HwcaeError(f"'{name}' must be integers, got {a.dtype}")
    if a.ndim != 1 or a.shape[0] != n:
        raise HwcaeError(f"'{name}' must have shape ({n},) (one per spike), got {a.shape}")
    if n and (int(a.min()) < 0 or int(a.max()) >= MAX_INDEX):
        raise HwcaeError(f"'{name}' must lie in [0, 2^62), got values from {a.min()} to {a.max()}")
    return a.astype(np.int64, copy=False)


#: Sampling rates a recording may have (Hz): from slow field potentials to the fastest ADCs in use.
FS_RANGE = (1e3, 1e6)
sampling_rate = bounded(float, *FS_RANGE)


def rate_or_unknown(value, what: str = "the sampling rate", error: type[Exception] = HwcaeError) -> float:
    """``value`` in Hz as a file may hold it: 0.0 when unknown (None or 0), else a finite rate within
    :data:`FS_RANGE`; anything else raises ``error`` naming ``what``."""
    fs = float(value or 0.0)
    if fs != 0 and not (math.isfinite(fs) and FS_RANGE[0] <= fs <= FS_RANGE[1]):
        raise error(f"{what} must be 0 (unknown) or {FS_RANGE[0]:g} to {FS_RANGE[1]:g} Hz (got {value!r})")
    return fs


#: Channel counts of a raw recording (the largest arrays in use have a few thousand contacts).
channel_count = bounded(int, 1, 65536)
#: Worker processes.
jobs = bounded(int, 1, 1024)
#: A stretch of recording in seconds (> 0; at most about 30 years, so seconds x rate stays a number).
duration_s = bounded(float, 0, 1e9, low_open=True)
#: Sample types a raw binary recording may hold: integers and IEEE floats (any byte order).
RAW_DTYPES = ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float16", "float32", "float64")


def raw_dtype_or_none(text) -> str | None:
    """``text`` as a NumPy sample type name (``int16``, or ``>i2`` for a foreign byte order), None if it
    is not one of :data:`RAW_DTYPES` (objects, strings, booleans, complex, records, dates...)."""
    try:
        dt = np.dtype(text) if isinstance(text, (str, np.dtype)) else None
    except Exception:  # numpy raises TypeError, ValueError or SyntaxError for odd strings
        return None
    if dt is None or dt.name not in RAW_DTYPES or dt.fields is not None:
        return None
    return dt.name if dt.isnative or dt.byteorder == "|" else dt.str


def raw_dtype(text: str) -> str:
    """An argparse type: a raw binary sample type (see :func:`raw_dtype_or_none`)."""
    name = raw_dtype_or_none(text)
    if name is None:
        raise argparse.ArgumentTypeError(f"must be a sample type among {', '.join(RAW_DTYPES)} (got {text!r})")
    return name


raw_dtype.__name__ = "dtype"
