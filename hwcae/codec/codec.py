"""Compress spikes to an ``.hwc`` container and back, with a float or a QAT checkpoint.

A QAT checkpoint encodes with the bit-accurate NumPy reference (what the chip computes); a float
checkpoint with the float encoder. Either way the decoder reconstructs the waveforms off-chip.
``cr_bytes`` = raw bytes (N x 4 x 64 x 2) / container bytes: every byte a receiver needs.
"""
from __future__ import annotations

import numpy as np

from hwcae import RAW_BITS_PER_SPIKE
from hwcae.codec import container
from hwcae.codec.entropy import CODER_BY_ID, CODERS, ContextANSCoder
from hwcae.errors import HwcaeError


class Codec:
    def __init__(self, payload: dict):
        self.payload = payload
        self.hash = payload["content_hash"]
        counts = np.asarray(payload["index_counts"])
        self.coders = {name: cls(counts) for name, cls in CODERS.items()}
        if payload.get("index_transitions") is not None:  # context modelling when the statistics exist
            self.coders["ans-flat"] = self.coders["ans"]  # still decodes files written without context
            self.coders["ans"] = ContextANSCoder(counts, np.asarray(payload["index_transitions"]))
        if payload["kind"] == "qat":
            from hwcae.export import fixed_point
            from hwcae.quantize.qat import load_qat
            from hwcae.verify.reference import ReferenceEncoder

            self.model, self.arch, self.design, _ = load_qat(payload)
            self.fixed_point = fixed_point.extract(self.model.encoder)
            self._ref = ReferenceEncoder(self.fixed_point)
        else:
            from hwcae.model.config import arch_from_dict
            from hwcae.model.train import model_from_checkpoint

            self.model, self.arch, self._ref = model_from_checkpoint(payload), arch_from_dict(payload["arch"]), None
            self.design = self.fixed_point = None

    @property
    def saturation(self) -> dict[str, int]:
        """Saturation events per quantiser over everything encoded so far (fixed point only)."""
        return {} if self._ref is None else {k: v for k, v in self._ref.saturation.items() if v}

    def encode(self, spikes_uv: np.ndarray) -> np.ndarray:
        """Symbols (N, S): the codeword indices, then the gain code if the model has a gain stage."""
        if self._ref is not None:
            return self._ref.encode_symbols(spikes_uv)
        from hwcae.model.infer import encode_uv

        return encode_uv(self.model, spikes_uv)

    def decode(self, symbols: np.ndarray) -> np.ndarray:
        """Reconstructed spikes in uV (N, 4, 64) from symbols."""
        from hwcae.model.infer import decode_uv

        return decode_uv(self.model, symbols)

    def pack(self, indices, times=None, channels=None, coder: str = "ans") -> bytes:
        if coder not in self.coders:
            raise HwcaeError(f"unknown coder {coder!r}; choose from {', '.join(self.coders)}")
        n = len(indices)
        times = np.arange(n) if times is None else np.asarray(times, np.int64)
        channels = np.zeros(n, np.int64) if channels is None else np.asarray(channels, np.int64)
        if np.any(np.diff(times) < 0):
            raise HwcaeError("spike times must be non-decreasing")
        return container.write(self.coders[coder], self.hash, indices, times, channels)

    def unpack(self, buf: bytes) -> container.Decoded:
        try:
            h = container.read_header(buf)
        except container.ContainerError as exc:
            raise HwcaeError(str(exc)) from None
        if not self.hash.startswith(h["model_hash"]):
            raise HwcaeError(f"the file was written with model {h['model_hash']}, this checkpoint is {self.hash[:16]}")
        coder = next((c for c in self.coders.values() if c.coder_id == h["coder_id"]), None)
        if coder is None:
            known = CODER_BY_ID.get(h["coder_id"])
            raise HwcaeError(f"the file uses coder {known.name if known else h['coder_id']}, "
                             "which this checkpoint's statistics cannot drive")
        return container.read(buf, coder)


def cr_bytes(n_spikes: int, n_bytes: int) -> float:
    return n_spikes * RAW_BITS_PER_SPIKE / 8 / max(n_bytes, 1)


def rate_report(codec: Codec, indices: np.ndarray) -> dict:
    """Estimated (model cross-entropy) vs real (coded payload) bits per spike for each coder,
    indices only, one chunk; the container's side information is reported by ``cr_bytes``."""
    from hwcae.codec.entropy import ContextANSCoder

    out = {}
    for name, coder in codec.coders.items():
        real = len(coder.encode(indices)) * 8 / max(len(indices), 1)
        if isinstance(coder, ContextANSCoder):
            rows = np.concatenate([coder._rows(p, indices[:, p - 1] if p else None, len(indices))
                                   for p in range(indices.shape[1])])
            est = float(-np.log2(rows[np.arange(len(rows)), indices.T.reshape(-1)]).sum() / len(indices))
        else:
            from hwcae.codec.entropy import cross_entropy_bits, smoothed_probabilities

            est = cross_entropy_bits(indices, smoothed_probabilities(codec.payload["index_counts"]))
        out[name] = {"estimated_bits_per_spike": est, "coded_bits_per_spike": real, "overhead": real / est - 1}
    return out
