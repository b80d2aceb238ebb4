"""The ``.hwc`` container: entropy-coded codeword indices (and gain codes) with per-spike channel and time.

Byte layout (little endian), version 1::

    header  (28 bytes)
      magic       4s   b"HWC1"
      version     u8   1
      coder       u8   0 = static canonical Huffman, 1 = ANS (constriction)
      positions   u8   symbols per spike: L codeword indices, plus the gain code if the model has a gain stage
      reserved    u8   0
      codebook    u16  codewords (K)
      reserved    u16  0
      model_hash  8s   first 8 bytes of the checkpoint's content hash
      n_spikes    u32
      header_crc  u32  CRC32 of the 24 bytes above
    chunk   (repeated)
      magic       2s   b"CK"
      n_spikes    u16
      first_time  u64  sample index of the chunk's first spike
      payload_len u32
      payload          varint time deltas (n-1); channel ids: u8 0 + varint per spike, or
                       u8 1 + one varint when the whole chunk is one channel; coded indices
      chunk_crc   u32  CRC32 of n_spikes..payload

A damaged chunk fails its CRC and is skipped (its spikes are reported lost); the others decode.
Times are non-decreasing sample indices; channels are the best channel of each spike.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

MAGIC, CHUNK_MAGIC, VERSION = b"HWC1", b"CK", 1
_HEADER = struct.Struct("<4sBBBBHH8sI")
_CHUNK = struct.Struct("<HQI")


class ContainerError(ValueError):
    pass


def _varints(values: np.ndarray) -> bytes:
    out = bytearray()
    for v in values.tolist():
        if v < 0:
            raise ContainerError("times must be non-decreasing and channels non-negative")
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
    return bytes(out)


def _read_varints(buf: bytes, pos: int, n: int) -> tuple[np.ndarray, int]:
    vals = np.zeros(n, np.int64)
    for i in range(n):
        shift = v = 0
        while True:
            if pos >= len(buf) or shift > 63:
                raise ContainerError("varint runs past the chunk")
            b = buf[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        vals[i] = v
    return vals, pos


@dataclass
class Decoded:
    indices: np.ndarray  # (N, L)
    times: np.ndarray
    channels: np.ndarray
    chunks_ok: int
    chunks_bad: int
    spikes_lost: int


class Writer:
    """Append spikes to an ``.hwc`` stream in chunks of ``chunk_spikes``; :meth:`close` writes the
    remainder and the final spike count into the header (the stream must be seekable).

    Spikes arrive in time order, any number at a time; a chunk is coded as soon as it is full, so
    memory holds at most one chunk.
    """

    def __init__(self, fh, coder, model_hash: str, positions: int, chunk_spikes: int = 256):
        self.fh, self.coder, self.hash, self.positions, self.chunk = fh, coder, model_hash, positions, chunk_spikes
        self.n = 0
        self.last_time = -1
        self._buf: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._buffered = 0
        self._start = fh.tell()
        self._write_header()

    def _write_header(self) -> None:
        head = _HEADER.pack(MAGIC, VERSION, self.coder.coder_id, self.positions, 0, self.coder.k, 0,
                            bytes.fromhex(self.hash[:16]), self.n)
        self.fh.write(head + struct.pack("<I", zlib.crc32(head)))

    def add(self, indices: np.ndarray, times: np.ndarray, channels: np.ndarray) -> None:
        if len(indices) == 0:
            return
        times = np.asarray(times, np.int64)
        if times[0] < self.last_time or np.any(np.diff(times) < 0):
            raise ContainerError("spike times must be non-decreasing")
        if indices.ndim != 2 or indices.shape[1] != self.positions:
            raise ContainerError(f"expected indices of shape (N, {self.positions}), got {indices.shape}")
        self.last_time = int(times[-1])
        self._buf.append((np.asarray(indices), times, np.asarray(channels, np.int64)))
        self._buffered += len(indices)
        if self._buffered >= self.chunk:
            idx, t, c = (np.concatenate(a) for a in zip(*self._buf))
            full = len(idx) - len(idx) % self.chunk
            for s in range(0, full, self.chunk):
                self._write_chunk(idx[s:s + self.chunk], t[s:s + self.chunk], c[s:s + self.chunk])
            self._buf = [(idx[full:], t[full:], c[full:])] if full < len(idx) else []
            self._buffered = len(idx) - full

    def _write_chunk(self, indices: np.ndarray, t: np.ndarray, c: np.ndarray) -> None:
        chans = bytes([1]) + _varints(c[:1]) if np.all(c == c[0]) else bytes([0]) + _varints(c)
        payload = _varints(np.diff(t)) + chans + self.coder.encode(indices)
        body = _CHUNK.pack(len(t), int(t[0]), len(payload)) + payload
        self.fh.write(CHUNK_MAGIC + body + struct.pack("<I", zlib.crc32(body)))
        self.n += len(t)

    def close(self) -> int:
        """Flush the last partial chunk and rewrite the header; returns the spike count."""
        if self._buf:
            idx, t, c = (np.concatenate(a) for a in zip(*self._buf))
            if len(idx):
                self._write_chunk(idx, t, c)
            self._buf, self._buffered = [], 0
        end = self.fh.tell()
        self.fh.seek(self._start)
        self._write_header()
        self.fh.seek(end)
        return self.n


def write(coder, model_hash: str, indices: np.ndarray, times: np.ndarray, channels: np.ndarray,
          chunk_spikes: int = 256) -> bytes:
    """The whole container for spikes held in memory (see :class:`Writer` for streams)."""
    import io

    fh = io.BytesIO()
    w = Writer(fh, coder, model_hash, indices.shape[1], chunk_spikes)
    w.add(indices, times, channels)
    w.close()
    return fh.getvalue()


def read_header(buf: bytes) -> dict:
    if len(buf) < _HEADER.size + 4:
        raise ContainerError("file too short for an .hwc header")
    fields = _HEADER.unpack_from(buf, 0)
    if fields[0] != MAGIC:
        raise ContainerError("not an .hwc file (bad magic)")
    (crc,) = struct.unpack_from("<I", buf, _HEADER.size)
    if zlib.crc32(buf[: _HEADER.size]) != crc:
        raise ContainerError("header CRC mismatch (corrupt header)")
    if fields[1] != VERSION:
        raise ContainerError(f"container version {fields[1]} is not supported")
    return {"coder_id": fields[2], "positions": fields[3], "codebook": fields[5], "model_hash": fields[7].hex(),
            "n_spikes": fields[8]}


def read(buf: bytes, coder) -> Decoded:
    h = read_header(buf)
    pos, idx, times, chans = _HEADER.size + 4, [], [], []
    ok = bad = lost = 0
    while pos < len(buf):
        if buf[pos:pos + 2] != CHUNK_MAGIC or pos + 2 + _CHUNK.size > len(buf):
            nxt = buf.find(CHUNK_MAGIC, pos + 1)  # resynchronise on the next chunk marker
            bad += 1
            if nxt < 0:
                break
            pos = nxt
            continue
        n, t0, plen = _CHUNK.unpack_from(buf, pos + 2)
        end = pos + 2 + _CHUNK.size + plen
        if end + 4 > len(buf) or zlib.crc32(buf[pos + 2:end]) != struct.unpack_from("<I", buf, end)[0]:
            bad += 1
            nxt = buf.find(CHUNK_MAGIC, pos + 2)
            if nxt < 0:
                break
            pos = nxt
            continue
        try:
            payload = buf[pos + 2 + _CHUNK.size:end]
            d, p = _read_varints(payload, 0, max(n - 1, 0))
            if p >= len(payload) or payload[p] > 1:
                raise ContainerError("bad channel mode")
            mode = payload[p]
            c, p = _read_varints(payload, p + 1, 1 if mode else n)
            if mode:
                c = np.repeat(c, n)
            k = coder.decode(payload[p:], n, h["positions"])
        except Exception:  # a CRC collision on garbage: treat as damaged
            bad += 1
            pos = end + 4
            continue
        idx.append(k)
        times.append(t0 + np.concatenate([[0], np.cumsum(d)]))
        chans.append(c)
        ok += 1
        pos = end + 4
    got = sum(len(t) for t in times)
    lost = h["n_spikes"] - got
    if idx:
        return Decoded(np.concatenate(idx), np.concatenate(times), np.concatenate(chans), ok, bad, lost)
    return Decoded(np.zeros((0, h["positions"]), np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), ok, bad, lost)
