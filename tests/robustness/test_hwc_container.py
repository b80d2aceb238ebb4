"""The .hwc container through ``hwcae decompress``: a file that lost spikes (cut at a chunk boundary,
a header alone, a chunk dropped or damaged) exits with EXIT_ERROR and the count in one line, and
writes nothing unless --partial; a header that disagrees with the checkpoint (latent count,
codebook, coder) or a chunk time beyond 2^62 is one line; chunks put out of order or duplicated
decode exactly, with a warning; chunks of another file are told; a sampling rate the header cannot
hold is one line; version 1 and 2 files still read (sampling rate unknown)."""
from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from hwcae.codec import container
from tests.robustness import hwc_fuzz
from tests.robustness.conftest import assert_refused, waveforms, write_npz

N = 700  # three chunks: 256 + 256 + 188 spikes


@pytest.fixture(scope="module")
def made(tiny_checkpoint, tmp_path_factory):
    """(folder, checkpoint, the valid file's bytes, its spikes' times, channels and symbols)."""
    from hwcae.api import load_model
    from hwcae.cli import main

    root = tmp_path_factory.mktemp("hwc")
    rng = np.random.default_rng(5)
    spikes, times, chans = waveforms(N, seed=5), np.cumsum(rng.integers(1, 300, N)), rng.integers(0, 9, N)
    write_npz(root / "s.npz", spikes=spikes, times=times, channels=chans)
    assert main(["compress", str(root / "s.npz"), str(root / "s.hwc"), "--checkpoint", str(tiny_checkpoint)]) == 0
    return root, tiny_checkpoint, (root / "s.hwc").read_bytes(), times, chans, load_model(tiny_checkpoint).encode(spikes)


def decompress(cli, made, tmp_path, data: bytes, *extra):
    src, out = tmp_path / "x.hwc", tmp_path / "x.npz"
    src.write_bytes(data)
    rc, stdout, err = cli("decompress", src, "--checkpoint", made[1], "--out", out, *extra)
    return rc, err, out


def with_header(data: bytes, **fields) -> bytes:
    p = hwc_fuzz.parse(data)
    for k, v in fields.items():
        p.header[hwc_fuzz.FIELDS[k]] = v
    return hwc_fuzz.header_bytes(p.header) + b"".join(p.raw_chunks)


def chunks(data: bytes) -> tuple[bytes, list[bytes]]:
    p = hwc_fuzz.parse(data)
    return data[:hwc_fuzz.H.size + 4], p.raw_chunks


def test_the_valid_file_decodes_exactly(cli, made, tmp_path):
    rc, err, out = decompress(cli, made, tmp_path, made[2])
    assert rc == 0 and err == ""
    with np.load(out) as z:
        assert np.array_equal(z["times"], made[3]) and np.array_equal(z["channels"], made[4])
        assert np.array_equal(z["indices"], made[5])
        assert "fs" not in z.files  # the spike set had no 'fs': the .npz has none (not 0 or NaN)


@pytest.mark.parametrize("keep, lost, words", [(0, N, "3 of 3 chunks missing (the file ends early)"),
                                               (1, N - 256, "2 of 3 chunks missing (the file ends early)"),
                                               (2, N - 512, "1 of 3 chunks missing (the file ends early)")])
def test_a_file_cut_at_a_chunk_boundary_loses_spikes_loudly(keep, lost, words, cli, made, tmp_path):
    head, parts = chunks(made[2])
    rc, err, out = decompress(cli, made, tmp_path, head + b"".join(parts[:keep]))
    assert_refused(rc, err, f"{lost} of {N} spikes lost", words, "nothing written")
    assert not out.exists()


def test_partial_writes_what_decodes_and_still_fails(cli, made, tmp_path):
    head, parts = chunks(made[2])
    rc, err, out = decompress(cli, made, tmp_path, head + parts[0] + parts[2], "--partial")
    assert_refused(rc, err, f"256 of {N} spikes lost", "1 of 3 chunks missing")
    with np.load(out) as z:
        keep = np.r_[0:256, 512:N]
        assert np.array_equal(z["times"], made[3][keep]) and np.array_equal(z["indices"], made[5][keep])


def test_a_damaged_chunk_is_counted(cli, made, tmp_path):
    data = bytearray(made[2])
    data[len(data) // 2] ^= 0x10
    rc, err, out = decompress(cli, made, tmp_path, bytes(data))
    assert_refused(rc, err, "spikes lost", "damaged")
    assert not out.exists()


@pytest.mark.parametrize("how, note", [("reorder", "out of order"), ("duplicate", "duplicated chunk")])
def test_reordered_or_duplicated_chunks_decode_exactly_with_a_warning(how, note, cli, made, tmp_path):
    head, p = chunks(made[2])
    body = p[2] + p[0] + p[1] if how == "reorder" else p[0] + p[1] + p[1] + p[2] + p[0]
    rc, err, out = decompress(cli, made, tmp_path, head + body)
    lines = err.strip().splitlines()
    assert rc == 0 and len(lines) == 1 and lines[0].startswith("hwcae: warning:") and note in lines[0], err
    with np.load(out) as z:
        assert np.array_equal(z["times"], made[3]) and np.array_equal(z["indices"], made[5])


def test_a_relabelled_coder_never_decodes_to_garbage(cli, made, tmp_path):
    h = container.read_header(made[2])
    for other in {0, 1, 2} - {h["coder_id"]}:
        rc, err, out = decompress(cli, made, tmp_path, with_header(made[2], coder=other))
        assert_refused(rc, err, f"{N} of {N} spikes lost", "relabelled header")
        assert not out.exists()


@pytest.mark.parametrize("field, value, words", [
    ("positions", 3, "says 3 symbols per spike"), ("positions", 255, "says 255 symbols per spike"),
    ("codebook", 15, "from 15 codewords"), ("coder", 9, "uses coder 9"),
    ("version", container.VERSION + 1, f"version {container.VERSION + 1} is not supported"),
    ("n_spikes", 2**63, f"{2**63 - N} of {2**63} spikes lost"), ("n_spikes", N - 1, f"hold {N} spikes but the header says"),
    ("n_chunks", 2**32 - 1, f"{2**32 - 4} of {2**32 - 1} chunks missing"), ("n_chunks", 2, "numbered beyond"),
    *[("fs", v, "the header's sampling rate") for v in (float("nan"), -1.0, float("inf"), 1e300, 999.0)]])
def test_a_header_that_disagrees_is_one_line(field, value, words, cli, made, tmp_path):
    rc, err, out = decompress(cli, made, tmp_path, with_header(made[2], **{field: value}))
    assert_refused(rc, err, words)
    assert not out.exists()


@pytest.mark.parametrize("t0", [2**62, 2**63, 2**64 - 1])
@pytest.mark.parametrize("forged", [False, True])
def test_a_chunk_time_beyond_range_is_one_line(t0, forged, cli, made, tmp_path):
    """first_time changed under a valid chunk CRC (forged: its content check recomputed too)."""
    p = hwc_fuzz.parse(made[2])
    f, payload = p.chunks[1]
    f[2] = t0
    if forged:
        f[4] = zlib.crc32(struct.pack("<I", 1))  # any value: the time is refused before the check
    rc, err, out = decompress(cli, made, tmp_path, hwc_fuzz.serialise(p))
    assert_refused(rc, err, f"256 of {N} spikes lost", "do not decode")


def test_chunks_of_another_file_are_told(cli, made, tmp_path, tiny_checkpoint):
    """Chunk 1 of another file of the same model, coder and numbering: every check of its own holds."""
    from hwcae.api import load_model

    codec = load_model(tiny_checkpoint)
    other = codec.pack(made[5][::-1].copy(), made[3], made[4])  # same times: only the digest can tell
    head, p = chunks(made[2])
    rc, err, out = decompress(cli, made, tmp_path, head + p[0] + chunks(other)[1][1] + p[2])
    assert_refused(rc, err, "chunks of another file")


def _v1(coder, model_hash: str, symbols, times, chans, chunk: int) -> bytes:
    """A version 1 file, as hwcae wrote them before chunk numbers (no seq, no content check)."""
    out = []
    for s in range(0, len(times), chunk):
        t, c, k = times[s:s + chunk], chans[s:s + chunk], symbols[s:s + chunk]
        payload = container._varints(np.diff(t)) + bytes([0]) + container._varints(c) + coder.encode(k)
        body = container._CHUNK[1].pack(len(t), int(t[0]), len(payload)) + payload
        out.append(b"CK" + body + struct.pack("<I", zlib.crc32(body)))
    head = container._HEADER[1].pack(b"HWC1", 1, coder.coder_id, symbols.shape[1], 0, coder.k, 0,
                                     bytes.fromhex(model_hash[:16]), len(times))
    return head + struct.pack("<I", zlib.crc32(head)) + b"".join(out)


def test_version_1_files_still_read_and_a_cut_one_is_told(cli, made, tmp_path, tiny_checkpoint):
    from hwcae.api import load_model

    codec = load_model(tiny_checkpoint)
    old = _v1(codec.bitstream.coder("ans"), codec.hash, made[5], made[3], made[4], 256)
    rc, err, out = decompress(cli, made, tmp_path, old)
    assert rc == 0 and err == ""
    with np.load(out) as z:
        assert np.array_equal(z["times"], made[3]) and np.array_equal(z["indices"], made[5])
        assert "fs" not in z.files
    out.unlink()
    rc, err, out = decompress(cli, made, tmp_path, old[:28 + 4 + 10])
    assert_refused(rc, err, f"{N} of {N} spikes lost")


def _v2(data: bytes) -> bytes:
    """The same file in version 2, as hwcae wrote them before the sampling rate (its chunks are those of version 3)."""
    p = hwc_fuzz.parse(data)
    head = container._HEADER[2].pack(*p.header[:1], 2, *p.header[2:hwc_fuzz.FIELDS["fs"]])
    return head + struct.pack("<I", zlib.crc32(head)) + b"".join(p.raw_chunks)


def test_version_2_files_still_read_and_a_cut_one_is_told(cli, made, tmp_path):
    old = _v2(made[2])
    assert container.read_header(old)["fs_hz"] == 0.0 and container.read_header(old)["size"] == 40
    rc, err, out = decompress(cli, made, tmp_path, old, "--fs", "24000")
    assert rc == 0 and err == ""
    with np.load(out) as z:
        assert np.array_equal(z["times"], made[3]) and np.array_equal(z["indices"], made[5])
        assert float(z["fs"]) == 24000.0  # --fs supplies the rate the file does not hold
    out.unlink()
    head, parts = 40, hwc_fuzz.parse(made[2]).raw_chunks
    rc, err, out = decompress(cli, made, tmp_path, old[:head + len(parts[0])])
    assert_refused(rc, err, f"{N - 256} of {N} spikes lost", "2 of 3 chunks missing (the file ends early)")
    rc, err, out = decompress(cli, made, tmp_path, old, "--format", "nwb")
    assert_refused(rc, err, "give the recording's sampling rate (--fs)")


def test_the_writer_refuses_what_the_format_cannot_hold(tiny_checkpoint):
    from hwcae.api import load_model
    from hwcae.errors import HwcaeError

    codec = load_model(tiny_checkpoint)
    sym = np.zeros((3, codec.bitstream.counts.shape[0]), np.int64)
    for times, chans in [([0, 1, 2**62], [0, 0, 0]), ([-1, 0, 1], [0, 0, 0]), ([0, 1, 2], [0, -1, 0])]:
        with pytest.raises(HwcaeError, match="2\\^62|non-negative"):
            codec.pack(sym, times, chans)


def test_the_sampling_rate_round_trips_and_fs_overrides_it(cli, made, tmp_path, tiny_checkpoint):
    from hwcae.api import load_model

    data = load_model(tiny_checkpoint).pack(made[5], made[3], made[4], fs_hz=30000.0)
    assert container.read_header(data)["fs_hz"] == 30000.0
    for extra, fs, warned in [((), 30000.0, False), (("--fs", "30000.00001"), 30000.00001, False),
                              (("--fs", "24000"), 24000.0, True)]:
        rc, err, out = decompress(cli, made, tmp_path, data, *extra)
        lines = err.strip().splitlines()
        assert rc == 0 and len(lines) == warned, err
        assert not warned or ("hwcae: warning:" in lines[0] and "differs from the file's sampling rate 30000 Hz" in lines[0])
        with np.load(out) as z:
            assert z["fs"].shape == () and z["fs"].dtype == np.float64 and float(z["fs"]) == fs
            assert np.array_equal(z["indices"], made[5])
        out.unlink()


@pytest.mark.parametrize("fs, stored, warning", [(24000.0, 24000.0, None), (np.full(N, 24000.0), 24000.0, None),
                                                 (np.r_[np.full(N - 1, 24000.0), 30000.0], 0.0, "2 sampling rates"),
                                                 (500.0, 0.0, "sampling rate is not stored")])
def test_compress_stores_a_spike_sets_fs(fs, stored, warning, cli, made, tmp_path):
    """A spike set's 'fs' goes into the header when it is one rate the header can hold; else none, with a warning."""
    src = write_npz(tmp_path / "f.npz", spikes=waveforms(N, seed=5), times=made[3], channels=made[4], fs=fs)
    rc, _, err = cli("compress", src, tmp_path / "f.hwc", "--checkpoint", made[1])
    assert rc == 0 and (warning in err if warning else "warning" not in err), err
    data = (tmp_path / "f.hwc").read_bytes()
    assert container.read_header(data)["fs_hz"] == stored
    rc, err, out = decompress(cli, made, tmp_path, data)
    with np.load(out) as z:
        assert rc == 0 and (float(z["fs"]) == stored if stored else "fs" not in z.files)


def test_the_writer_refuses_a_sampling_rate_the_header_cannot_hold(tiny_checkpoint):
    from hwcae.api import load_model
    from hwcae.errors import HwcaeError

    codec = load_model(tiny_checkpoint)
    sym = np.zeros((3, codec.bitstream.counts.shape[0]), np.int64)
    for fs in (float("nan"), -1.0, float("inf"), 1e300, 999.0, 1e6 + 1):
        with pytest.raises(HwcaeError, match="sampling rate must be 0 \\(unknown\\) or 1000 to 1e\\+06 Hz"):
            codec.pack(sym, fs_hz=fs)
    for fs in (None, 0, 0.0, 1000, 1e6):
        assert container.read_header(codec.pack(sym, fs_hz=fs))["fs_hz"] == float(fs or 0)
