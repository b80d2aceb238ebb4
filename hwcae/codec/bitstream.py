"""The bitstream side of compression, without any model: symbol statistics -> coders -> ``.hwc``.

A :class:`Bitstream` holds the coders a checkpoint's statistics can drive (``huffman``, ``ans`` and,
when the pair table exists, ``ans-ctx``) and the checkpoint's content hash, which every file
carries so that a file is never decoded with the wrong model. Pure NumPy (+ constriction for ANS):
it imports neither torch nor Brevitas. ``cr_bytes`` = raw bytes (N x 4 x 64 x 2) / container
bytes: every byte a receiver needs.
"""
from __future__ import annotations

import numpy as np

from hwcae import RAW_BITS_PER_SPIKE
from hwcae.codec import container
from hwcae.codec.entropy import CODER_BY_ID, ANSCoder, ContextANSCoder, HuffmanCoder, cross_entropy_bits, smoothed_probabilities
from hwcae.errors import HwcaeError


class Bitstream:
    """Coders by name from ``index_counts`` (S, K) and optional ``index_transitions`` (L-1, K, K)."""

    def __init__(self, index_counts, index_transitions, model_hash: str):
        counts = np.asarray(index_counts)
        self.hash = model_hash
        self.counts = counts
        self.coders = {"huffman": HuffmanCoder(counts), "ans": ANSCoder(counts)}
        if index_transitions is not None:  # context modelling when the statistics exist
            self.coders["ans-ctx"] = ContextANSCoder(counts, np.asarray(index_transitions))

    @classmethod
    def of(cls, payload: dict) -> "Bitstream":
        """From a checkpoint payload (its statistics and content hash)."""
        return cls(payload["index_counts"], payload.get("index_transitions"), payload["content_hash"])

    @property
    def default_coder(self) -> str:
        """The best coder these statistics drive: ``ans-ctx`` if there is a pair table, else ``ans``."""
        return "ans-ctx" if "ans-ctx" in self.coders else "ans"

    def coder(self, name: str | None):
        name = name or self.default_coder
        if name not in self.coders:
            raise HwcaeError(f"unknown coder {name!r} for this checkpoint; choose from {', '.join(self.coders)}")
        return self.coders[name]

    def pack(self, symbols, times=None, channels=None, coder: str | None = None, fs_hz: float | None = None) -> bytes:
        """A whole ``.hwc`` file of ``symbols`` (N, S) with their times and channels (default 0..N-1, 0)
        and the recording's sampling rate in Hz (None or 0: unknown)."""
        n = len(symbols)
        times = np.arange(n) if times is None else np.asarray(times, np.int64)
        channels = np.zeros(n, np.int64) if channels is None else np.asarray(channels, np.int64)
        if np.any(np.diff(times) < 0):
            raise HwcaeError("spike times must be non-decreasing")
        try:
            return container.write(self.coder(coder), self.hash, symbols, times, channels, fs_hz=fs_hz)
        except container.ContainerError as exc:  # times beyond 2^62, negative channels, wrong shapes, a bad rate
            raise HwcaeError(str(exc)) from None

    def unpack(self, buf: bytes) -> container.Decoded:
        try:
            h = container.read_header(buf)
        except container.ContainerError as exc:
            raise HwcaeError(str(exc)) from None
        if not self.hash.startswith(h["model_hash"]):
            raise HwcaeError(f"the file was written with model {h['model_hash']}, this checkpoint is {self.hash[:16]}")
        want = tuple(self.counts.shape)
        if (h["positions"], h["codebook"]) != want:
            raise HwcaeError(f"the file's header says {h['positions']} symbols per spike from {h['codebook']} codewords, "
                             f"but this checkpoint codes {want[0]} from {want[1]} (a damaged or altered header)")
        coder = next((c for c in self.coders.values() if c.coder_id == h["coder_id"]), None)
        if coder is None:
            known = CODER_BY_ID.get(h["coder_id"])
            raise HwcaeError(f"the file uses coder {known.name if known else h['coder_id']}, "
                             "which this checkpoint's statistics cannot drive")
        return container.read(buf, coder)

    def rate_report(self, symbols: np.ndarray) -> dict:
        """Estimated (model cross-entropy) vs real (coded payload) bits per spike for each coder,
        symbols only, one chunk; the container's side information is reported by :func:`cr_bytes`."""
        out = {}
        for name, coder in self.coders.items():
            real = len(coder.encode(symbols)) * 8 / max(len(symbols), 1)
            if isinstance(coder, ContextANSCoder):
                rows = np.concatenate([coder._rows(p, symbols[:, p - 1] if p else None, len(symbols))
                                       for p in range(symbols.shape[1])])
                est = float(-np.log2(rows[np.arange(len(rows)), symbols.T.reshape(-1)]).sum() / len(symbols))
            else:
                est = cross_entropy_bits(symbols, smoothed_probabilities(self.counts))
            out[name] = {"estimated_bits_per_spike": est, "coded_bits_per_spike": real, "overhead": real / est - 1}
        return out


def cr_bytes(n_spikes: int, n_bytes: int) -> float:
    return n_spikes * RAW_BITS_PER_SPIKE / 8 / max(n_bytes, 1)
