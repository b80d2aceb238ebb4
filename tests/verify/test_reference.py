import numpy as np

from hwcae.export import fixed_point
from hwcae.quantize.qat import load_qat
from hwcae.verify.checks import brevitas_codes, compare, edge_inputs
from hwcae.verify.reference import ReferenceEncoder, requantize


def test_requantize_rounds_half_to_even_and_saturates():
    fmt = {"bits": 4, "signed": True, "exp": 0}
    codes = np.array([1, 3, 5, -3, -5, 7, 100, -100])  # values at 2^-1: 0.5, 1.5, 2.5, -1.5, -2.5, 3.5, 50, -50
    q, sat = requantize(codes, -1, fmt)
    assert q.tolist() == [0, 2, 2, -2, -2, 4, 7, -8] and sat == 2
    q, sat = requantize(np.array([-3, 40]), -1, {"bits": 4, "signed": False, "exp": 0}, relu=True)
    assert q.tolist() == [0, 15] and sat == 1


def test_reference_matches_brevitas_on_random_and_saturating_inputs(each_qat, tiny_set, tmp_path):
    model, arch, design, _ = load_qat(each_qat)
    fp = fixed_point.extract(model.encoder)
    fixed_point.save(fp, tmp_path / "w.npz")
    ref = ReferenceEncoder(fixed_point.load(tmp_path / "w.npz"))  # from the exported file alone
    rng = np.random.default_rng(1)
    x = np.concatenate([tiny_set.spikes, rng.normal(0, 400, (300, 4, 64)).astype(np.float32),
                        edge_inputs(design.input.range_uv)])
    r = ref.encode(x)
    b = brevitas_codes(model.encoder, x)
    res = compare(b, r)
    assert res["latent_exact"] == 1.0 and res["index_exact"] == 1.0, res
    assert ref.saturation["input"] > 0  # the edge inputs really saturate the ADC word
    assert sum(ref.saturation.values()) > ref.saturation["input"]  # and some inner layer


def test_ties_go_to_the_lowest_index():
    fp = {"codebook": {"w": np.array([[1, 0], [1, 0], [0, 1]]), "exp": -1}, "acts": {"latent": {"exp": -1}}}
    ref = ReferenceEncoder(fp)
    s = ref.scores(np.array([[[2], [0]]]))
    assert s[0, 0, 0] == s[0, 1, 0] and np.argmax(s, axis=1)[0, 0] == 0


def _direct_conv(x, w, b):
    """Plain int64 'same' convolution, channels last, as a loop over taps (the definition)."""
    n, length, c = x.shape
    k = w.shape[2]
    pad = k // 2
    xp = np.pad(x, ((0, 0), (pad, pad), (0, 0)))
    out = np.zeros((n, length, len(w)), np.int64) + b
    for j in range(k):
        out += np.einsum("nlc,oc->nlo", xp[:, j:j + length, :], w[:, :, j])
    return out


def test_conv_is_exact_on_each_arithmetic_path():
    """float32 (bound < 2^24) and float64 (< 2^53) paths equal the integer definition; beyond, an error."""
    import pytest

    from hwcae.errors import HwcaeError
    from hwcae.verify.reference import conv1d

    rng = np.random.default_rng(0)
    # (4, 3, 3): im2col; (2, 3, 31): more taps than outputs, the per-tap path (the global head)
    for shape in ((4, 3, 3), (2, 3, 31)):
        for x_bits, w_bits in ((8, 8), (16, 16), (24, 23)):  # bounds ~2^18, ~2^34, ~2^50
            x = rng.integers(-(2 ** (x_bits - 1)), 2 ** (x_bits - 1), (5, 16, 3), dtype=np.int64)
            w = rng.integers(-(2 ** (w_bits - 1)), 2 ** (w_bits - 1), shape, dtype=np.int64)
            b = rng.integers(-100, 100, shape[0], dtype=np.int64)
            got = conv1d(x.astype(np.float64), w, b)
            assert np.array_equal(got.astype(np.int64), _direct_conv(x, w, b)), (shape, x_bits, w_bits)
        with pytest.raises(HwcaeError, match="2\\^53"):
            conv1d(np.full((1, 4, 3), 2.0**30), np.full((shape[0], 3, shape[2]), 2**30, np.int64),
                   np.zeros(shape[0], np.int64))


def test_fixed_point_file_missing_keys_is_one_line(tmp_path):
    import pytest

    from hwcae.errors import HwcaeError

    np.savez(tmp_path / "old.npz", input_scale_uv=np.array(256.0), pools=np.array([2, 2]))
    with pytest.raises(HwcaeError, match="not an hwcae fixed-point weights file"):
        fixed_point.load(tmp_path / "old.npz")
