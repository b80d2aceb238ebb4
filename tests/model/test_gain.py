"""The gain stage: exact power-of-two exponents, exact normalisation, symbols and their statistics."""
import numpy as np
import pytest

from hwcae.errors import HwcaeError
from hwcae.fixedpoint.gain import GainSpec, adc_quantize, denormalize, exponent_codes, join, normalize, split
from hwcae.spikes.spikeset import PEAK_SAMPLE

SPEC = GainSpec(bits=3, min_uv=8.0, target_uv=128.0)


def _spikes(troughs):
    x = np.zeros((len(troughs), 4, 64), np.float32)
    x[:, 0, PEAK_SAMPLE] = -np.asarray(troughs, np.float32)
    x[:, 1, 10] = 5.0
    return x


def test_exponent_codes_at_and_around_powers_of_two():
    troughs = [0.0, -50.0, 7.9, 8.0, 15.99, 16.0, 31.0, 32.0, 1023.0, 1024.0, 5000.0]
    want = [0, 0, 0, 0, 0, 1, 1, 2, 6, 7, 7]  # floor(log2(t / 8)), clipped to [0, 7]
    np.testing.assert_array_equal(exponent_codes(_spikes(troughs), SPEC), want)


def test_normalise_puts_the_trough_in_range_and_round_trips():
    rng = np.random.default_rng(0)
    t = np.exp(rng.uniform(np.log(17), np.log(1000), 500))
    x = _spikes(t) + rng.normal(0, 3, (500, 4, 64)).astype(np.float32)
    x[:, 0, PEAK_SAMPLE] = -t
    y, codes = normalize(x, SPEC)
    assert np.all(-y[:, 0, PEAK_SAMPLE] >= 128) and np.all(-y[:, 0, PEAK_SAMPLE] < 256)
    np.testing.assert_allclose(denormalize(y, codes, SPEC), x, rtol=1e-6)
    ratio = y / np.where(x == 0, 1, x)
    assert np.all(np.isin(np.round(np.log2(ratio[x != 0]), 6), np.arange(-3, 5)))  # powers of two only


def test_adc_path_shifts_words_and_no_spec_is_identity():
    x = _spikes([100.3, 700.0])
    y, codes = normalize(x, SPEC, adc=(12, 1024.0))
    q = adc_quantize(x, 12, 1024.0)
    np.testing.assert_array_equal(y, q * (128.0 / 8.0 / 2.0 ** codes)[:, None, None])
    same, none = normalize(x, None)
    assert none is None and same is x


def test_symbols_join_and_split():
    idx = np.arange(12).reshape(3, 4)
    s = join(idx, np.array([1, 2, 3]))
    assert s.shape == (3, 5)
    a, b = split(s, SPEC)
    np.testing.assert_array_equal(a, idx)
    np.testing.assert_array_equal(b, [1, 2, 3])
    assert split(idx, None)[1] is None


def test_arch_gain_validation():
    from hwcae.model.config import arch_from_dict, load_arch

    d = load_arch("tiny-dense").model_dump(mode="json")
    assert arch_from_dict(d).symbols_per_spike == 9 and arch_from_dict(d).bits_per_spike_fixed == 8 * 4 + 3
    for bad in ({"min_uv": 10}, {"bits": 5}):
        with pytest.raises(HwcaeError):
            arch_from_dict({**d, "gain": {**d["gain"], **bad}})
    with pytest.raises(HwcaeError, match="codebook"):
        arch_from_dict({**d, "gain": {**d["gain"], "bits": 4}, "vq": {**d["vq"], "codebook_size": 8}})


def test_float_codec_round_trip_with_gain(tiny_set, tmp_path):
    """A float model with a gain stage: symbols carry the code, the container round-trips them, and
    the decoded spikes come back at the input's scale."""
    import torch

    from hwcae.stream.codec import Codec
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.model.config import load_arch
    from hwcae.model.train import train

    torch.set_num_threads(2)
    fit, val = tiny_set.halves()
    p = train(load_arch("tiny-dense"), fit, val, tmp_path / "g.pt", epochs=2, seed=0, progress=False)
    assert np.asarray(p["index_counts"]).shape == (9, 16)  # 8 index positions + the gain code
    assert np.asarray(p["index_transitions"]).shape == (7, 16, 16)  # pairs of indices only
    codec = Codec(load_checkpoint(tmp_path / "g.pt"))
    sym = codec.encode(val.spikes)
    np.testing.assert_array_equal(sym[:, -1], exponent_codes(val.spikes, SPEC))
    for coder in ("ans-ctx", "ans", "huffman"):  # every coder round-trips the gain column
        d = codec.unpack(codec.pack(sym, coder=coder))
        np.testing.assert_array_equal(d.indices, sym)
    from hwcae.fixedpoint.gain import factors
    from hwcae.model.infer import decode_indices

    # the decoder works at the normalised scale; the receiver shifts its output back per spike
    rec = codec.decode(sym)
    raw = decode_indices(codec.model, sym[:, :-1])
    np.testing.assert_allclose(rec, raw / factors(sym[:, -1], SPEC), rtol=1e-6)
    assert len(np.unique(sym[:, -1])) >= 3  # the tiny set spans several exponents
