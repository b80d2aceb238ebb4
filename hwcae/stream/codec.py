"""A checkpoint as a codec: spikes -> symbols -> ``.hwc`` bytes -> symbols -> reconstructed spikes.

A QAT checkpoint encodes with the bit-accurate NumPy reference walking its typed fixed-point model
(what the chip computes); a float checkpoint with the float encoder. Either way the float decoder
reconstructs the waveforms off chip. The bytes themselves are the model-free
:class:`hwcae.codec.bitstream.Bitstream`'s job.
"""
from __future__ import annotations

import numpy as np

from hwcae.codec.bitstream import Bitstream


class Codec:
    def __init__(self, payload: dict):
        self.payload = payload
        self.bitstream = Bitstream.of(payload)
        self.hash = payload["content_hash"]
        if payload["kind"] == "qat":
            from hwcae.fixedpoint.reference import ReferenceEncoder
            from hwcae.quantize.extract import extract
            from hwcae.quantize.qat import load_qat

            self.model, self.arch, self.design, _ = load_qat(payload)
            self.fixed_point = extract(self.model.encoder)
            self._ref = ReferenceEncoder(self.fixed_point)
        else:
            from hwcae.model.config import arch_from_dict
            from hwcae.model.train import model_from_checkpoint

            self.model, self.arch, self._ref = model_from_checkpoint(payload), arch_from_dict(payload["arch"]), None
            self.design = self.fixed_point = None

    @property
    def coders(self) -> dict:
        return self.bitstream.coders

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

    def pack(self, symbols, times=None, channels=None, coder: str | None = None, fs_hz: float | None = None) -> bytes:
        return self.bitstream.pack(symbols, times, channels, coder, fs_hz)

    def unpack(self, buf: bytes):
        return self.bitstream.unpack(buf)
