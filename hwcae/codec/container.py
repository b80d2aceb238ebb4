"""The ``.hwc`` container: entropy-coded codeword indices (and gain codes) with per-spike channel and time.

Byte layout (little endian), version 3::

    header (48 bytes)  magic 4s b"HWC1" | version u8 3 | coder u8 (0 huffman, 1 ans, 2 ans-ctx) | positions u8
                       (symbols per spike: L indices, + the gain code if any) | u8 0 | codebook u16 (K) | u16 0 |
                       model_hash 8s (the checkpoint's content hash, first 8 bytes) | n_spikes u64 | n_chunks u32 |
                       digest u32 (CRC32 over every chunk's content_crc in order) | fs f64 (the recording's
                       sampling rate in Hz: 0.0 unknown, else 1e3..1e6) | CRC32 of the 44 bytes before
    chunk (repeated)   magic 2s b"CK" | seq u32 (0, 1, 2, ... in time order) | n_spikes u16 (1..4096) |
                       first_time u64 (< 2^62) | payload_len u32 | content_crc u32 (CRC32 of what the chunk
                       decodes to: seq u32, times and channels i64, symbols i32) | payload | CRC32 of seq..payload
    payload            varint time deltas (n-1); channel ids: u8 0 + varint per spike, or u8 1 + one varint
                       when the whole chunk is one channel; coded symbols

Still read, sampling rate unknown: version 2 (the same without fs: a 40-byte header) and version 1 (a
28-byte header, a u32 spike count, no chunk count; chunks without seq and content_crc). A damaged chunk
(CRC), or an intact one whose content fails its check (coder relabelled, another model), is skipped;
chunks are put back in order by number, a duplicate dropped (every copy when they differ); missing
numbers, numbers beyond the header's count and times going backwards are reported, the header's spike
count gives the spikes lost (file cut short) and the digest a complete file made of chunks of others.
"""
from __future__ import annotations

import functools
import struct
import zlib
from collections import namedtuple
from dataclasses import dataclass, field

import numpy as np

from hwcae.validate import MAX_INDEX, rate_or_unknown

MAGIC, CHUNK_MAGIC, VERSION = b"HWC1", b"CK", 3
#: Header and chunk layouts by version (a chunk's fields after its magic).
_HEADER = {1: struct.Struct("<4sBBBBHH8sI"), 2: struct.Struct("<4sBBBBHH8sQII"), 3: struct.Struct("<4sBBBBHH8sQIId")}
_CHUNK = {1: struct.Struct("<HQI"), 2: struct.Struct("<IHQII"), 3: struct.Struct("<IHQII")}
MAX_CHUNK_SPIKES = 4096


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
            b, pos = buf[pos], pos + 1
            v, shift = v | (b & 0x7F) << shift, shift + 7
            if b < 0x80:
                break
        if v >= MAX_INDEX:
            raise ContainerError("a time or channel beyond 2^62")
        vals[i] = v
    return vals, pos


def _chain(digest: int, check: int) -> int:
    return zlib.crc32(struct.pack("<I", check), digest)


def _content_crc(seq: int, times, channels, symbols) -> int:
    crc = zlib.crc32(struct.pack("<I", seq))
    for a, dt in ((times, "<i8"), (channels, "<i8"), (symbols, "<i4")):
        crc = zlib.crc32(np.ascontiguousarray(a, dt).tobytes(), crc)
    return crc


@dataclass
class Decoded:
    indices: np.ndarray  # (N, L)
    times: np.ndarray
    channels: np.ndarray
    chunks_ok: int
    chunks_bad: int  # chunks skipped or missing
    spikes_lost: int  # the header's count minus the spikes decoded (negative: more than it says)
    spikes_expected: int = 0
    problems: list = field(default_factory=list)  # what lost spikes or makes the file inconsistent
    notes: list = field(default_factory=list)  # what was repaired without losing a spike (order, duplicates)
    fs_hz: float = 0.0  # the recording's sampling rate in Hz (0.0: unknown; always so in a version 1 or 2 file)

    @property
    def complete(self) -> bool:
        """Every spike the header announces was decoded, and nothing in the file contradicts it."""
        return not self.problems and self.spikes_lost == 0 and self.chunks_bad == 0


class Writer:
    """Append spikes to an ``.hwc`` stream in chunks of ``chunk_spikes``; :meth:`close` writes the
    remainder and the final spike and chunk counts into the header (the stream must be seekable).
    Spikes arrive in time order, any number at a time; memory holds at most one chunk.
    """

    def __init__(self, fh, coder, model_hash: str, positions: int, chunk_spikes: int = 256, fs_hz: float | None = None):
        self.fs = rate_or_unknown(fs_hz, "the sampling rate", ContainerError)
        if not 1 <= chunk_spikes <= MAX_CHUNK_SPIKES or not 1 <= positions <= 255 or not 1 <= coder.k <= 65535:
            raise ContainerError(f"chunks of 1..{MAX_CHUNK_SPIKES} spikes, 1..255 symbols per spike and a codebook "
                                 f"of 1..65535 (got {chunk_spikes}, {positions}, {coder.k})")
        self.fh, self.coder, self.hash, self.positions, self.chunk = fh, coder, model_hash, positions, chunk_spikes
        self.n, self.chunks, self.digest, self.last_time, self._buffered = 0, 0, 0, -1, 0
        self._buf: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._start = fh.tell()
        self._write_header()

    def _write_header(self) -> None:
        head = _HEADER[VERSION].pack(MAGIC, VERSION, self.coder.coder_id, self.positions, 0, self.coder.k, 0,
                                     bytes.fromhex(self.hash[:16]), self.n, self.chunks, self.digest, self.fs)
        self.fh.write(head + struct.pack("<I", zlib.crc32(head)))

    def add(self, indices: np.ndarray, times: np.ndarray, channels: np.ndarray) -> None:
        if len(indices) == 0:
            return
        times, channels = np.asarray(times, np.int64), np.asarray(channels, np.int64)
        if times[0] < max(self.last_time, 0) or np.any(np.diff(times) < 0):
            raise ContainerError("spike times must be non-negative and non-decreasing")
        if times[-1] >= MAX_INDEX or channels.min() < 0 or channels.max() >= MAX_INDEX:
            raise ContainerError("spike times and channels must lie in [0, 2^62)")
        if indices.ndim != 2 or indices.shape[1] != self.positions or len(times) != len(indices) != len(channels):
            raise ContainerError(f"expected symbols of shape (N, {self.positions}) with N times and channels, "
                                 f"got {indices.shape}, {times.shape}, {channels.shape}")
        self.last_time = int(times[-1])
        self._buf.append((np.asarray(indices), times, channels))
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
        check = _content_crc(self.chunks, t, c, indices)
        body = _CHUNK[VERSION].pack(self.chunks, len(t), int(t[0]), len(payload), check) + payload
        self.fh.write(CHUNK_MAGIC + body + struct.pack("<I", zlib.crc32(body)))
        self.n, self.chunks, self.digest = self.n + len(t), self.chunks + 1, _chain(self.digest, check)

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
          chunk_spikes: int = 256, fs_hz: float | None = None) -> bytes:
    """The whole container for spikes held in memory (see :class:`Writer` for streams)."""
    import io

    w = Writer(fh := io.BytesIO(), coder, model_hash, indices.shape[1], chunk_spikes, fs_hz)
    w.add(indices, times, channels)
    w.close()
    return fh.getvalue()


def read_header(buf: bytes) -> dict:
    if not buf.startswith(MAGIC) or len(buf) < 5:
        raise ContainerError("file too short for an .hwc header" if MAGIC.startswith(buf[:4]) else "not an .hwc file (bad magic)")
    version = buf[4]
    if version not in _HEADER:
        raise ContainerError(f"container version {version} is not supported (this hwcae reads versions 1 to {VERSION})")
    st = _HEADER[version]
    if len(buf) < st.size + 4:
        raise ContainerError("file too short for an .hwc header")
    fields = st.unpack_from(buf, 0)
    if zlib.crc32(buf[: st.size]) != struct.unpack_from("<I", buf, st.size)[0]:
        raise ContainerError("header CRC mismatch (corrupt header)")
    fs = rate_or_unknown(fields[11] if version > 2 else 0.0, "the header's sampling rate (damaged?)", ContainerError)
    return {"version": version, "coder_id": fields[2], "positions": fields[3], "codebook": fields[5],
            "model_hash": fields[7].hex(), "n_spikes": fields[8], "n_chunks": fields[9] if version > 1 else None,
            "digest": fields[10] if version > 1 else None, "fs_hz": fs, "size": st.size + 4}


_Chunk = namedtuple("_Chunk", "seq times channels symbols body check")  # one decoded chunk (body: its bytes, to compare)


def _decode_chunk(body: bytes, h: dict, coder) -> _Chunk:
    """One chunk whose CRC holds (``body``: its fields after the magic, without the CRC)."""
    st = _CHUNK[h["version"]]
    seq, n, t0, _, check = st.unpack_from(body, 0) if h["version"] > 1 else (None, *st.unpack_from(body, 0), None)
    payload = body[st.size:]
    if not 1 <= n <= min(MAX_CHUNK_SPIKES, len(payload)) or t0 >= MAX_INDEX:
        raise ContainerError("spike count or first time out of range")
    d, p = _read_varints(payload, 0, n - 1)
    if p >= len(payload) or payload[p] > 1:
        raise ContainerError("bad channel mode")
    mode = payload[p]
    c, p = _read_varints(payload, p + 1, 1 if mode else n)
    if t0 + sum(d.tolist()) >= MAX_INDEX:
        raise ContainerError("a time beyond 2^62")
    k = np.asarray(coder.decode(payload[p:], n, h["positions"]), np.int64)
    times, c = t0 + np.concatenate([[0], np.cumsum(d)]), np.repeat(c, n) if mode else c
    if k.shape != (n, h["positions"]) or (check is not None and _content_crc(seq, times, c, k) != check):
        raise ContainerError("the chunk's content fails its check")
    return _Chunk(seq, times, c, k, body, check)


def _scan(buf: bytes, h: dict, coder) -> tuple[list[_Chunk], int, list]:
    """The chunks in file order: (decoded, damaged stretches (CRC, framing), numbers of intact undecodable ones)."""
    v2, st, pos, good, damaged, undecodable, in_damage = h["version"] > 1, _CHUNK[h["version"]], h["size"], [], 0, [], 0
    most = 18 + 8 * h["positions"]  # payload bytes per spike at most: two 9-byte varints, 64-bit codes
    while pos < len(buf):
        ok = buf[pos:pos + 2] == CHUNK_MAGIC and pos + 2 + st.size <= len(buf)
        if ok:
            fields = st.unpack_from(buf, pos + 2)
            n, plen = (fields[1], fields[3]) if v2 else (fields[0], fields[2])
            end = pos + 2 + st.size + plen
            ok = 1 <= n <= MAX_CHUNK_SPIKES and plen <= n * most + 16 and end + 4 <= len(buf) \
                and zlib.crc32(buf[pos + 2:end]) == struct.unpack_from("<I", buf, end)[0]
        if not ok:
            damaged, in_damage = damaged + (not in_damage), True
            pos = buf.find(CHUNK_MAGIC, pos + 1)  # resynchronise on the next chunk marker
            if pos < 0:
                break
            continue
        in_damage = False
        try:
            good.append(_decode_chunk(buf[pos + 2:end], h, coder))
        except Exception:  # garbage under a valid CRC, another coder, another model: never its symbols
            undecodable.append(fields[0] if v2 else None)
        pos = end + 4
    return good, damaged, undecodable


def _in_order(h: dict, chunks: list[_Chunk], undecodable: list, problems: list, notes: list) -> list[_Chunk]:
    """Version 2: the chunks by number, each once (a duplicate dropped; every copy when they differ)."""
    n_chunks = h["n_chunks"]
    if beyond := sum(c.seq >= n_chunks for c in chunks):
        problems.append(f"{beyond} chunk(s) numbered beyond the header's {n_chunks} skipped")
    by_seq: dict[int, list[_Chunk]] = {}
    for c in chunks:
        if c.seq < n_chunks:
            by_seq.setdefault(c.seq, []).append(c)
    if clash := [s for s, cs in by_seq.items() if any(c.body != cs[0].body for c in cs)]:
        problems.append(f"{len(clash)} chunk number(s) held by different chunks, all copies skipped")
    if dup := sum(len(cs) - 1 for s, cs in by_seq.items() if s not in clash):
        notes.append(f"{dup} duplicated chunk(s) dropped")
    if list(by_seq) != sorted(by_seq):
        notes.append("chunks out of order, put back in order")
    kept = [by_seq[s][0] for s in sorted(by_seq) if s not in clash]
    if missing := n_chunks - len(set(by_seq) | {s for s in undecodable if s < n_chunks}):
        tail = not undecodable and (not by_seq or max(by_seq) == len(by_seq) - 1)  # 0..m present, the rest absent
        problems.append(f"{missing} of {n_chunks} chunks missing" + (" (the file ends early)" if tail else ""))
    return kept


def read(buf: bytes, coder) -> Decoded:
    h = read_header(buf)
    chunks, damaged, undecodable = _scan(buf, h, coder)
    problems, notes = [], []
    if damaged:
        problems.append(f"{damaged} damaged stretch(es) skipped (CRC or framing)")
    if undecodable:
        problems.append(f"{len(undecodable)} chunk(s) with intact bytes do not decode to what was written with "
                        f"coder {getattr(coder, 'name', h['coder_id'])} (a relabelled header, or another model?)")
    chunks = _in_order(h, chunks, undecodable, problems, notes) if h["version"] > 1 else chunks
    kept, last = [], -1
    for c in chunks:  # times never go backwards: a chunk that would is skipped
        if c.times[0] >= last:
            kept.append(c)
            last = int(c.times[-1])
    if backwards := len(chunks) - len(kept):
        problems.append(f"{backwards} chunk(s) whose times go backwards skipped")
    if h["version"] > 1 and not problems and len(kept) == h["n_chunks"] \
            and functools.reduce(_chain, (c.check for c in kept), 0) != h["digest"]:
        problems.append("the chunks are not those the header was written with (chunks of another file?)")
    expected, got = h["n_spikes"], sum(len(c.times) for c in kept)
    bad = (h["n_chunks"] - len(kept)) if h["version"] > 1 else damaged + len(undecodable) + backwards
    idx, t, ch = (np.concatenate(a) for a in zip((np.zeros((0, h["positions"]), np.int64), np.zeros(0, np.int64),
                                                  np.zeros(0, np.int64)), *[(c.symbols, c.times, c.channels) for c in kept]))
    return Decoded(idx, t, ch, len(kept), max(bad, 0), expected - got, expected, problems, notes, h["fs_hz"])
