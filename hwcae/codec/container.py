"""The ``.hwc`` container: entropy-coded codeword indices with per-spike channel and time.

Byte layout (little endian), version 1::

    header  (28 bytes)
      magic       4s   b"HWC1"
      version     u8   1
      coder       u8   0 = static canonical Huffman, 1 = ANS (constriction)
      positions   u8   indices per spike (L)
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


def write(coder, model_hash: str, indices: np.ndarray, times: np.ndarray, channels: np.ndarray,
          chunk_spikes: int = 256) -> bytes:
    n, positions = indices.shape
    head = _HEADER.pack(MAGIC, VERSION, coder.coder_id, positions, 0, coder.k, 0, bytes.fromhex(model_hash[:16]), n)
    out = bytearray(head + struct.pack("<I", zlib.crc32(head)))
    for s in range(0, n, chunk_spikes):
        sl = slice(s, min(n, s + chunk_spikes))
        t, c = times[sl].astype(np.int64), channels[sl].astype(np.int64)
        chans = bytes([1]) + _varints(c[:1]) if np.all(c == c[0]) else bytes([0]) + _varints(c)
        payload = _varints(np.diff(t)) + chans + coder.encode(indices[sl])
        body = _CHUNK.pack(len(t), int(t[0]), len(payload)) + payload
        out += CHUNK_MAGIC + body + struct.pack("<I", zlib.crc32(body))
    return bytes(out)


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
