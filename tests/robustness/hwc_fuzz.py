"""Structure-aware mutations of ``.hwc`` files for the decompress fuzzer (test_decompress_fuzz.py).

A file is parsed into its header fields and its chunks' fields and payloads; a mutation changes
fields and re-serialises with the CRCs recomputed where the mutation says (a field changed under a
valid frame, the way a buggy writer or a deliberate edit would), moves whole chunks (drop,
duplicate, swap, reorder, cut at a boundary, splice from another file or coder), or damages raw
bytes. Each mutation returns the new bytes and the spikes a decoder may legitimately return
beside the original ones (a spliced donor's).
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

from hwcae.codec import container

H, C = container._HEADER[container.VERSION], container._CHUNK[container.VERSION]
U64 = 2**64 - 1
#: Header fields by name (their index in H's fields); "hash" is the 8-byte model hash.
FIELDS = {"version": 1, "coder": 2, "positions": 3, "codebook": 5, "hash": 7, "n_spikes": 8, "n_chunks": 9, "digest": 10,
          "fs": 11}
#: Sampling rates a reader must refuse (outcome "refused"), or read as unknown (0.0) or as the rate.
BAD_FS, GOOD_FS = [float("nan"), -1.0, float("inf"), -float("inf"), 1e300, 1.0, 999.0, 1e6 + 1], [0.0, -0.0]


@dataclass
class Base:
    """A valid file and what it holds: symbols (N, S), times, channels; chunks of ``chunk`` spikes."""
    name: str
    data: bytes
    symbols: np.ndarray
    times: np.ndarray
    channels: np.ndarray
    chunk: int
    decoded: np.ndarray | None = None  # the waveforms a good decode gives
    fs: float = 0.0  # the sampling rate in its header (0.0: unknown)


@dataclass
class Parsed:
    header: list
    chunks: list  # [fields (seq, n, first_time, payload_len, content_crc), payload]
    raw_chunks: list = field(default_factory=list)  # each chunk's bytes as written


def parse(buf: bytes) -> Parsed:
    header, pos, chunks, raw = list(H.unpack_from(buf, 0)), H.size + 4, [], []
    while pos < len(buf):
        f = list(C.unpack_from(buf, pos + 2))
        end = pos + 2 + C.size + f[3]
        chunks.append([f, buf[pos + 2 + C.size:end]])
        raw.append(buf[pos:end + 4])
        pos = end + 4
    return Parsed(header, chunks, raw)


def header_bytes(fields, crc: bool = True) -> bytes:
    head = H.pack(*fields)
    return head + struct.pack("<I", zlib.crc32(head) if crc else zlib.crc32(head) ^ 1)


def chunk_bytes(fields, payload: bytes, crc: bool = True) -> bytes:
    body = C.pack(*fields) + payload
    return b"CK" + body + struct.pack("<I", zlib.crc32(body) if crc else zlib.crc32(body) ^ 1)


def content_crc(base: Base, k: int, seq: int) -> int:
    """Chunk k's content check as if it were numbered ``seq`` (a forged but self-consistent chunk)."""
    s = slice(k * base.chunk, (k + 1) * base.chunk)
    return container._content_crc(seq, base.times[s], base.channels[s], base.symbols[s])


def _pick(rng, values):
    return values[int(rng.integers(len(values)))]


def _clamp(v: int, bits: int) -> int:
    return min(max(int(v), 0), 2**bits - 1)


def mutate_header(rng, p: Parsed, base: Base) -> str:
    h, n, m = p.header, len(base.times), len(p.chunks)
    which = _pick(rng, ["version", "coder", "positions", "codebook", "hash", "n_spikes", "n_chunks", "digest",
                        "reserved", "fs"])
    idx = {k: v for k, v in FIELDS.items() if k != "hash"}
    choices = {"version": [0, 1, 2, container.VERSION + 1, 255], "coder": [0, 1, 2, 3, 255], "positions": [0, h[3] - 1, h[3] + 1, 255],
               "codebook": [0, h[5] - 1, h[5] + 1, 65535], "n_spikes": [0, n - 1, n + 1, n - base.chunk, 2**32, 2**63, U64],
               "n_chunks": [0, m - 1, m + 1, 2**32 - 1], "digest": [h[10] ^ 1, 0]}
    if which == "hash":
        b = bytearray(h[7])
        b[int(rng.integers(8))] ^= 1 << int(rng.integers(8))
        h[7] = bytes(b)
    elif which == "reserved":
        h[4 if rng.random() < 0.5 else 6] = int(rng.integers(1, 255))
    elif which == "fs":
        h[idx[which]] = _pick(rng, BAD_FS + GOOD_FS)
    else:
        bits = {"version": 8, "coder": 8, "positions": 8, "codebook": 16, "n_spikes": 64, "n_chunks": 32, "digest": 32}
        h[idx[which]] = _clamp(_pick(rng, choices[which]), bits[which])
    return f"header.{which}={h[idx[which]] if which in idx else '*'}"


def mutate_chunk_field(rng, p: Parsed, base: Base) -> str:
    """A chunk field changed under a valid chunk CRC (the content check is left as written)."""
    k = int(rng.integers(len(p.chunks)))
    f, payload = p.chunks[k]
    which = _pick(rng, ["seq", "n", "first_time", "payload_len", "content_crc", "payload_flip", "payload_resize"])
    if which == "seq":
        f[0] = _clamp(_pick(rng, [f[0] + 1, f[0] - 1, 0, len(p.chunks), 2**32 - 1]), 32)
    elif which == "n":
        f[1] = _clamp(_pick(rng, [0, f[1] - 1, f[1] + 1, 4097, 65535]), 16)
    elif which == "first_time":
        f[2] = _clamp(_pick(rng, [f[2] - 1, f[2] + 1, 0, 2**62, 2**63, U64]), 64)
    elif which == "payload_len":
        f[3] = _clamp(_pick(rng, [f[3] - 1, f[3] + 1, f[3] + 1000, 0, 2**32 - 1]), 32)
    elif which == "content_crc":
        f[4] ^= 1 << int(rng.integers(32))
    elif which == "payload_flip" and payload:
        b = bytearray(payload)
        b[int(rng.integers(len(b)))] ^= 1 << int(rng.integers(8))
        p.chunks[k][1] = bytes(b)
    elif payload:
        at = int(rng.integers(len(payload)))
        new = payload[:at] + (bytes(rng.integers(0, 256, int(rng.integers(1, 5)), dtype=np.uint8))
                              if rng.random() < 0.5 else payload[at + int(rng.integers(1, 5)):])
        p.chunks[k][1], f[3] = new, len(new)
    return f"chunk.{which}#{k}"


def forge_seq(rng, p: Parsed, base: Base) -> str:
    """Chunk numbers changed with every check recomputed: duplicates, gaps, swaps, numbers beyond.
    A chunk's original number (which spikes it holds) is its seq field as written."""
    m, n_base = len(p.chunks), -(-len(base.times) // base.chunk)
    k = int(rng.integers(m))
    how = _pick(rng, ["other", "beyond", "swap"])
    targets = [(k, (k + 1 + int(rng.integers(max(m - 1, 1)))) % m if how != "beyond" else m + int(rng.integers(3)))]
    if how == "swap" and m > 1:
        targets.append((targets[0][1], p.chunks[k][0][0]))
        targets[0] = (k, p.chunks[targets[0][1]][0][0])
    for a, seq in targets:
        orig = p.chunks[a][0][0]
        p.chunks[a][0][0] = seq
        if orig < n_base:
            p.chunks[a][0][4] = content_crc(base, orig, seq)
    return f"forge.{how}{k}"


def serialise(p: Parsed, header_crc: bool = True, chunk_crc: bool = True) -> bytes:
    return header_bytes(p.header, header_crc) + b"".join(chunk_bytes(f, pl, chunk_crc) for f, pl in p.chunks)


def move_chunks(rng, data: bytes, donors: dict) -> tuple[bytes, str, str | None]:
    """Whole chunks moved, dropped, duplicated or spliced in (CRCs untouched); (bytes, name, donor used)."""
    p = parse(data)
    head, raw, m = data[:H.size + 4], list(p.raw_chunks), len(p.raw_chunks)
    k = int(rng.integers(m))
    how = _pick(rng, ["drop", "duplicate", "duplicate_far", "swap", "move", "reverse", "cut", "header_only",
                      "splice_coder", "splice_file", "append_file"])
    donor = None
    if how == "drop":
        del raw[k]
    elif how == "duplicate":
        raw.insert(k, raw[k])
    elif how == "duplicate_far":
        raw.append(raw[k])
    elif how in ("swap", "move") and m > 1:
        j = (k + 1 + int(rng.integers(m - 1))) % m
        if how == "swap":
            raw[k], raw[j] = raw[j], raw[k]
        else:
            raw.insert(j, raw.pop(k))
    elif how == "reverse":
        raw.reverse()
    elif how == "cut":
        raw = raw[:k]
    elif how == "header_only":
        raw = []
    elif how == "splice_coder":  # the same spikes coded by another coder: chunk k of that file
        other = parse(donors["coder"]).raw_chunks
        raw[k] = other[min(k, len(other) - 1)]
    else:  # other spikes, same model and coder
        other = parse(donors["file"]).raw_chunks
        donor = "file"
        if how == "splice_file":
            raw[k] = other[min(k, len(other) - 1)]
        else:
            raw += other
    return head + b"".join(raw), f"chunks.{how}{k}", donor


def damage_bytes(rng, data: bytes) -> tuple[bytes, str]:
    """Raw damage: bit flips, inserted or deleted bytes, a cut anywhere, garbage appended."""
    b = bytearray(data)
    how = _pick(rng, ["flip", "insert", "delete", "truncate", "append", "zero_run"])
    at = int(rng.integers(max(len(b), 1)))
    if how == "flip" and b:
        for _ in range(int(rng.integers(1, 9))):
            b[int(rng.integers(len(b)))] ^= 1 << int(rng.integers(8))
    elif how == "insert":
        b[at:at] = rng.integers(0, 256, int(rng.integers(1, 40)), dtype=np.uint8).tobytes()
    elif how == "delete":
        del b[at:at + int(rng.integers(1, 40))]
    elif how == "truncate":
        del b[at:]
    elif how == "append":
        b += rng.integers(0, 256, int(rng.integers(1, 60)), dtype=np.uint8).tobytes()
    else:
        n = int(rng.integers(1, 30))
        b[at:at + n] = bytes(len(b[at:at + n]))
    return bytes(b), f"bytes.{how}@{at}"


def mutate(rng, base: Base, donors: dict) -> tuple[bytes, list[str], str | None]:
    """One fuzz case: 1-3 structured mutations, sometimes raw damage on top; (bytes, what was done, donor)."""
    data, done, donor = base.data, [], None
    for _ in range(int(rng.integers(1, 4))):
        kind = _pick(rng, ["header", "header", "field", "field", "forge", "move", "move", "move", "bytes"])
        if kind == "bytes" or len(data) <= H.size + 4:
            data, what = damage_bytes(rng, data)
            done.append(what)
            continue
        try:
            p = parse(data)
        except struct.error:  # an earlier mutation broke the framing: damage bytes instead
            data, what = damage_bytes(rng, data)
            done.append(what)
            continue
        if kind == "move" and p.raw_chunks:
            data, what, d = move_chunks(rng, data, donors)
            donor = donor or d
        elif kind in ("field", "forge") and p.chunks:
            what = (mutate_chunk_field if kind == "field" else forge_seq)(rng, p, base)
            data = serialise(p)
        else:
            what = mutate_header(rng, p, base)
            crc_ok = rng.random() > 0.1
            data = serialise(p, header_crc=crc_ok)
            what += "" if crc_ok else " header.bad_crc"
        done.append(what)
    return data, done, donor
