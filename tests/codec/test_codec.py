import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwcae.codec import container
from hwcae.codec.bitstream import cr_bytes
from hwcae.stream.codec import Codec
from hwcae.codec.entropy import ANSCoder, HuffmanCoder, canonical_codes, cross_entropy_bits, huffman_lengths, smoothed_probabilities
from hwcae.errors import HwcaeError
from hwcae.model.checkpoint import load_checkpoint

RNG = np.random.default_rng(0)
COUNTS = RNG.integers(0, 200, size=(4, 16)) * (RNG.random((4, 16)) < 0.7)


def sample(n, counts=COUNTS, seed=1):
    p = smoothed_probabilities(counts)
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(p.shape[1], n, p=p[j]) for j in range(p.shape[0])], axis=1)


def test_huffman_is_a_prefix_code_and_kraft_tight():
    lengths = huffman_lengths(np.array([0.5, 0.25, 0.125, 0.125]))
    assert lengths.tolist() == [1, 2, 3, 3]
    codes = canonical_codes(lengths)
    words = [format(int(c), f"0{int(n)}b") for c, n in zip(codes, lengths)]
    assert not any(a != b and b.startswith(a) for a in words for b in words)
    assert sum(2.0 ** -lengths) == 1.0


@pytest.mark.parametrize("cls", [HuffmanCoder, ANSCoder])
def test_round_trip_and_rate(cls):
    idx = sample(4000)
    c = cls(COUNTS)
    data = c.encode(idx)
    np.testing.assert_array_equal(c.decode(data, len(idx), idx.shape[1]), idx)
    h = cross_entropy_bits(idx, smoothed_probabilities(COUNTS))
    bits = len(data) * 8 / len(idx)
    assert h <= bits <= h * (1.01 if cls is ANSCoder else 1.06) + 0.1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 15), min_size=4, max_size=400).map(lambda v: np.array(v[: len(v) // 4 * 4]).reshape(-1, 4)),
       st.sampled_from([HuffmanCoder, ANSCoder]))
def test_container_round_trip_property(idx, cls):
    c = cls(COUNTS)
    times = np.cumsum(np.random.default_rng(len(idx)).integers(0, 5000, len(idx)))
    chans = np.arange(len(idx)) % 300
    buf = container.write(c, "ab" * 8, idx, times, chans, chunk_spikes=7)
    d = container.read(buf, c)
    np.testing.assert_array_equal(d.indices, idx)
    np.testing.assert_array_equal(d.times, times)
    np.testing.assert_array_equal(d.channels, chans)
    assert d.chunks_bad == 0 and d.spikes_lost == 0


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.just(0.0), st.floats(1e3, 1e6)))
def test_container_version_3_carries_the_sampling_rate(fs):
    """The header's f64 before its CRC: 48 bytes, the rate exact to the bit; 0.0 unknown."""
    c, idx = HuffmanCoder(COUNTS), sample(20)
    buf = container.write(c, "ab" * 8, idx, np.arange(20), np.zeros(20, np.int64), fs_hz=fs)
    h = container.read_header(buf)
    assert (h["version"], h["size"], h["fs_hz"]) == (3, 48, fs) and container.read(buf, c).fs_hz == fs
    assert np.frombuffer(buf[36:44], "<f8")[0] == fs


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_or_truncated_containers_never_crash_or_lie(data):
    c = ANSCoder(COUNTS) if data.draw(st.booleans()) else HuffmanCoder(COUNTS)
    idx = sample(60, seed=3)
    times, chans = np.arange(60) * 10, np.arange(60) % 4
    buf = bytearray(container.write(c, "cd" * 8, idx, times, chans, chunk_spikes=10))
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert"]))
    if kind == "flip":
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "truncate":
        buf = buf[: data.draw(st.integers(0, len(buf) - 1))]
    else:
        pos = data.draw(st.integers(0, len(buf)))
        buf[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
    try:
        d = container.read(bytes(buf), c)
    except container.ContainerError:
        return  # a clear error: fine
    # whatever was recovered is exactly right: every recovered spike matches one of the originals
    original = {(int(t), int(ch), tuple(k)) for t, ch, k in zip(times, chans, idx)}
    for t, ch, k in zip(d.times, d.channels, d.indices):
        assert (int(t), int(ch), tuple(int(v) for v in k)) in original
    assert len(d.indices) + d.spikes_lost == 60 or d.chunks_bad > 0


def test_real_checkpoint_compress_decompress(tiny_checkpoint, tiny_set, tmp_path):
    from hwcae.cli import main
    from hwcae.spikes.spikeset import save_spikes

    src = save_spikes(tiny_set, tmp_path / "s.npz")
    out = tmp_path / "s.hwc"
    assert main(["compress", str(src), str(out), "--checkpoint", str(tiny_checkpoint)]) == 0
    assert main(["compress", str(src), str(out), "--checkpoint", str(tiny_checkpoint)]) == 2  # no overwrite
    rec = tmp_path / "r.npz"
    assert main(["decompress", str(out), "--checkpoint", str(tiny_checkpoint), "--out", str(rec)]) == 0
    codec = Codec(load_checkpoint(tiny_checkpoint))
    with np.load(rec) as z:
        np.testing.assert_array_equal(z["indices"], codec.encode(tiny_set.spikes))
        np.testing.assert_allclose(z["spikes"], codec.decode(z["indices"]), rtol=0, atol=1e-4)
        assert z["spikes"].shape == tiny_set.spikes.shape
    assert cr_bytes(len(tiny_set), out.stat().st_size) > 4096 / 64  # beats fixed-length 4-bit x 16 indices
    idx = codec.encode(tiny_set.spikes)
    assert codec.bitstream.default_coder == "ans-ctx"  # training stored the transition statistics
    assert all(name == coder.name for name, coder in codec.coders.items())  # coders are keyed by their own names
    for name in ("ans-ctx", "ans", "huffman"):  # every coder the checkpoint drives decodes its files
        np.testing.assert_array_equal(codec.unpack(codec.pack(idx, coder=name)).indices, idx)


def test_wrong_checkpoint_names_both_hashes(tiny_checkpoint, tiny_qat, tiny_set, tmp_path, capsys):
    from hwcae.cli import main
    from hwcae.spikes.spikeset import save_spikes

    src = save_spikes(tiny_set, tmp_path / "s.npz")
    out = tmp_path / "s.hwc"
    assert main(["compress", str(src), str(out), "--checkpoint", str(tiny_checkpoint), "--coder", "huffman"]) == 0
    assert main(["decompress", str(out), "--checkpoint", str(tiny_qat), "--out", str(tmp_path / "r.npz")]) == 2
    err = capsys.readouterr().err
    a, b = load_checkpoint(tiny_checkpoint)["content_hash"][:16], load_checkpoint(tiny_qat)["content_hash"][:16]
    assert a in err and b in err and not (tmp_path / "r.npz").exists()


def test_qat_checkpoint_encodes_with_the_fixed_point_reference(each_qat, tiny_set):
    from hwcae.fixedpoint.reference import ReferenceEncoder
    from hwcae.quantize.extract import extract
    from hwcae.quantize.qat import load_qat

    codec = Codec(load_checkpoint(each_qat))
    ref = ReferenceEncoder(extract(load_qat(each_qat)[0].encoder))
    x, gain = ref.gain_stage(tiny_set.spikes)  # the dense test arch has a gain stage, the conv one none
    want = ref.encode(x)[1] if gain is None else np.concatenate([ref.encode(x)[1], gain[:, None]], axis=1)
    np.testing.assert_array_equal(codec.encode(tiny_set.spikes), want)
    with pytest.raises(HwcaeError, match="non-decreasing"):
        codec.pack(codec.encode(tiny_set.spikes[:3]), times=[5, 3, 9])
