"""Entropy coders for codeword indices, driven by per-position symbol statistics learned on
training data (the checkpoint's ``index_counts``, shape (S, K); :mod:`hwcae.codec.statistics`).
Each coder's ``name`` is its key everywhere (CLI ``--coder``, reports) and ``coder_id`` its byte in
the ``.hwc`` header.

- :class:`HuffmanCoder`: one static canonical Huffman table per latent position: a table-driven
  prefix code an encoder chip can run. ``table_bits`` is the ROM it needs (code lengths only; the
  canonical codes follow from them).
- :class:`ANSCoder`: range-asymmetric numeral system coding with ``constriction``, the same
  position-conditioned probabilities; within a fraction of a percent of the model's cross-entropy.
- :class:`ContextANSCoder` (``ans-ctx``): ANS with each index conditioned on the previous
  position's index (the pair table ``index_transitions``).
"""
from __future__ import annotations

import heapq

import numpy as np


def smoothed_probabilities(counts: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """(L, K) probabilities with additive smoothing, so every codeword stays codable."""
    c = np.asarray(counts, np.float64) + alpha
    return c / c.sum(axis=1, keepdims=True)


def cross_entropy_bits(indices: np.ndarray, probs: np.ndarray) -> float:
    """Ideal code length (bits/spike) of ``indices`` (N, L) under the per-position model."""
    pos = np.arange(indices.shape[1])[None, :]
    return float(-np.log2(probs[pos, indices]).sum() / max(len(indices), 1))


def huffman_lengths(p: np.ndarray) -> np.ndarray:
    """Code length per symbol for probabilities p (K,) (ties broken by symbol, deterministic)."""
    k = len(p)
    if k == 1:
        return np.ones(1, np.int64)
    heap = [(float(p[i]), i, [i]) for i in range(k)]
    heapq.heapify(heap)
    lengths = np.zeros(k, np.int64)
    tie = k
    while len(heap) > 1:
        pa, _, a = heapq.heappop(heap)
        pb, _, b = heapq.heappop(heap)
        lengths[a + b] += 1
        heapq.heappush(heap, (pa + pb, tie, a + b))
        tie += 1
    return lengths


def canonical_codes(lengths: np.ndarray) -> np.ndarray:
    """Canonical Huffman code values for the given lengths (shorter first, then by symbol)."""
    order = np.lexsort((np.arange(len(lengths)), lengths))
    codes = np.zeros(len(lengths), np.int64)
    code, prev = 0, lengths[order[0]]
    for n, s in enumerate(order):
        if n:
            code = (code + 1) << (lengths[s] - prev)
        codes[s], prev = code, lengths[s]
    return codes


class HuffmanCoder:
    coder_id = 0
    name = "huffman"

    def __init__(self, counts: np.ndarray):
        probs = smoothed_probabilities(counts)
        self.lengths = np.stack([huffman_lengths(p) for p in probs])
        self.codes = np.stack([canonical_codes(lv) for lv in self.lengths])
        self.k = probs.shape[1]
        # decoding tables: per position, (length, code) -> symbol
        self._decode = [{(int(lv[s]), int(c[s])): s for s in range(self.k)} for lv, c in zip(self.lengths, self.codes)]

    @property
    def table_bits(self) -> int:
        """ROM bits for the tables: one code length per symbol and position."""
        return int(self.lengths.size * int(np.ceil(np.log2(self.lengths.max() + 1))))

    def encode(self, indices: np.ndarray) -> bytes:
        pos = np.broadcast_to(np.arange(indices.shape[1]), indices.shape)
        lens = self.lengths[pos, indices].reshape(-1)
        codes = self.codes[pos, indices].reshape(-1)
        total = int(lens.sum())
        bits = np.zeros(total + (-total) % 8, np.uint8)
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
        for j in range(int(lens.max()) if len(lens) else 0):  # bit j of each code, MSB first
            sel = lens > j
            bits[starts[sel] + j] = (codes[sel] >> (lens[sel] - 1 - j)) & 1
        return np.packbits(bits).tobytes()

    def decode(self, data: bytes, n_spikes: int, positions: int) -> np.ndarray:
        bits = np.unpackbits(np.frombuffer(data, np.uint8))
        out = np.zeros((n_spikes, positions), np.int64)
        i = 0
        for s in range(n_spikes):
            for p in range(positions):
                table, code, length = self._decode[p], 0, 0
                while True:
                    if i >= len(bits) or length > 64:
                        raise ValueError("Huffman stream ended inside a code")
                    code, length, i = (code << 1) | int(bits[i]), length + 1, i + 1
                    sym = table.get((length, code))
                    if sym is not None:
                        out[s, p] = sym
                        break
        return out


class ANSCoder:
    coder_id = 1
    name = "ans"

    def __init__(self, counts: np.ndarray):
        self.probs = smoothed_probabilities(counts).astype(np.float64)
        self.k = self.probs.shape[1]

    def _model(self):
        import constriction

        return constriction.stream.model.Categorical(perfect=False)

    def encode(self, indices: np.ndarray) -> bytes:
        import constriction

        coder = constriction.stream.stack.AnsCoder()
        flat = indices.reshape(-1).astype(np.int32)
        probs = np.tile(self.probs, (len(indices), 1))
        coder.encode_reverse(flat, self._model(), probs)
        return coder.get_compressed().astype("<u4").tobytes()

    def decode(self, data: bytes, n_spikes: int, positions: int) -> np.ndarray:
        import constriction

        if len(data) % 4:
            raise ValueError("ANS payload is not a whole number of 32-bit words")
        coder = constriction.stream.stack.AnsCoder(np.frombuffer(data, "<u4").astype(np.uint32))
        probs = np.tile(self.probs, (n_spikes, 1))
        out = coder.decode(self._model(), probs)
        return np.asarray(out, np.int64).reshape(n_spikes, positions)




class ContextANSCoder(ANSCoder):
    """ANS with each index conditioned on the previous latent position's index:
    P(k_p | k_{p-1}) = (T[p-1, k_{p-1}, k_p] + a P_p(k_p)) / (sum + a), a = 16, from training data.
    Positions past the transition table (the gain code after the indices) use their own usage
    counts alone.

    Symbols are stored position-major within a chunk, so the decoder recovers a whole position
    for every spike of the chunk before it needs it as context for the next.
    """

    coder_id = 2
    name = "ans-ctx"
    alpha = 16.0

    def __init__(self, counts: np.ndarray, transitions: np.ndarray):
        super().__init__(counts)
        t = np.asarray(transitions, np.float64)
        self.cond = (t + self.alpha * self.probs[1:1 + len(t), None, :]) / (t.sum(axis=2, keepdims=True) + self.alpha)

    def _rows(self, p: int, prev: np.ndarray | None, n: int) -> np.ndarray:
        if p == 0 or p - 1 >= len(self.cond):
            return np.tile(self.probs[p], (n, 1))
        return self.cond[p - 1, prev]

    def encode(self, indices: np.ndarray) -> bytes:
        import constriction

        n, L = indices.shape
        probs = np.concatenate([self._rows(p, indices[:, p - 1] if p else None, n) for p in range(L)])
        coder = constriction.stream.stack.AnsCoder()
        coder.encode_reverse(indices.T.reshape(-1).astype(np.int32), self._model(), probs)
        return coder.get_compressed().astype("<u4").tobytes()

    def decode(self, data: bytes, n_spikes: int, positions: int) -> np.ndarray:
        import constriction

        if len(data) % 4:
            raise ValueError("ANS payload is not a whole number of 32-bit words")
        coder = constriction.stream.stack.AnsCoder(np.frombuffer(data, "<u4").astype(np.uint32))
        out = np.zeros((n_spikes, positions), np.int64)
        for p in range(positions):
            rows = self._rows(p, out[:, p - 1] if p else None, n_spikes)
            out[:, p] = coder.decode(self._model(), rows)
        return out


#: Every coder by its container id (the byte in the .hwc header) and by its name.
CODER_BY_ID = {c.coder_id: c for c in (HuffmanCoder, ANSCoder, ContextANSCoder)}
CODER_BY_NAME = {c.name: c for c in CODER_BY_ID.values()}
