"""Symbol statistics for the entropy coders, computed from the symbols a model sends on its
training data: usage counts per symbol position and a table of consecutive index pairs.

Pure NumPy. Training and QAT call :func:`symbol_statistics` and store the result in the checkpoint
(``index_counts``, ``index_transitions``); :class:`hwcae.codec.bitstream.Bitstream` reads it back.
"""
from __future__ import annotations

import numpy as np

#: Above this many cells ((L-1) x K x K) the pair table is left out: it would outgrow the
#: checkpoint and be too sparse to help (a 512-word codebook: 3.9 M cells for ~1 M training pairs).
MAX_PAIR_CELLS = 2**20


def transition_counts(indices: np.ndarray, k: int) -> np.ndarray:
    """(L-1, K, K) counts of (index at p-1, index at p) pairs, saturated to uint16."""
    L = indices.shape[1]
    t = np.zeros((L - 1, k, k), np.int64)
    for p in range(1, L):
        np.add.at(t[p - 1], (indices[:, p - 1], indices[:, p]), 1)
    return np.minimum(t, np.iinfo(np.uint16).max).astype(np.uint16)


def pair_table(indices: np.ndarray, k: int) -> np.ndarray:
    """(L-1, K, K) uint8 counts of consecutive index pairs, one byte per cell (the table is a quarter
    of a default checkpoint): a table whose largest count exceeds 255 is scaled so that it is 255,
    every seen pair keeping a count of at least 1."""
    t = transition_counts(indices, k).astype(np.float64)
    top = t.max(initial=0.0)
    if top > 255:
        t = np.where(t > 0, np.maximum(1.0, np.rint(t * 255.0 / top)), 0.0)
    return t.astype(np.uint8)


def symbol_statistics(indices: np.ndarray, k: int, gain_codes: np.ndarray | None = None) -> dict[str, np.ndarray | None]:
    """``index_counts``: (S, K) int32 usage counts per symbol position (the L codeword indices, then
    the gain's exponent code if given); ``index_transitions``: the pair table of the indices only
    (the gain code is coded with its own counts), or None above :data:`MAX_PAIR_CELLS`."""
    from hwcae.fixedpoint.gain import join

    indices = np.asarray(indices, np.int64)
    symbols = join(indices, gain_codes)
    counts = np.stack([np.bincount(symbols[:, p], minlength=k) for p in range(symbols.shape[1])]).astype(np.int32)
    if (indices.shape[1] - 1) * k * k > MAX_PAIR_CELLS:
        return {"index_counts": counts, "index_transitions": None}
    return {"index_counts": counts, "index_transitions": pair_table(indices, k)}
