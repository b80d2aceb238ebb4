import numpy as np

from hwcae.fixedpoint import io as fixedpoint_io
from hwcae.fixedpoint.graph import FixedPointModel, Quant, Search, Word
from hwcae.fixedpoint.reference import ReferenceEncoder, requantize
from hwcae.quantize.extract import extract
from hwcae.quantize.qat import load_qat
from hwcae.verify.checks import brevitas_codes, compare, edge_inputs


def test_requantize_rounds_half_to_even_and_saturates():
    codes = np.array([1, 3, 5, -3, -5, 7, 100, -100])  # values at 2^-1: 0.5, 1.5, 2.5, -1.5, -2.5, 3.5, 50, -50
    q, sat = requantize(codes, -1, Word(4, True, 0))
    assert q.tolist() == [0, 2, 2, -2, -2, 4, 7, -8] and sat == 2
    q, sat = requantize(np.array([-3, 40]), -1, Word(4, False, 0), relu=True)
    assert q.tolist() == [0, 15] and sat == 1


def test_reference_matches_brevitas_on_random_and_saturating_inputs(each_qat, tiny_set, tmp_path):
    model, arch, design, _ = load_qat(each_qat)
    fixedpoint_io.save(extract(model.encoder), tmp_path / "w.npz")
    ref = ReferenceEncoder(fixedpoint_io.load(tmp_path / "w.npz"))  # from the saved file alone
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
    model = FixedPointModel("dense", 1.0, Word(8, True, 0), [Quant("latent", "input", "latent", Word(8, True, -1))],
                            Search(np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]]), -1, 4), bias_bits=16)
    ref = ReferenceEncoder(model)
    s = ref.scores(np.array([[[2], [0], [0], [0]]]))
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
    from hwcae.fixedpoint.reference import conv1d

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


def test_fixed_point_file_old_or_foreign_is_one_line(tmp_path):
    import pytest

    from hwcae.errors import HwcaeError

    np.savez(tmp_path / "old.npz", input_scale_uv=np.array(256.0), pools=np.array([2, 2]))  # the version-1 layout
    with pytest.raises(HwcaeError, match="not an hwcae fixed-point model"):
        fixedpoint_io.load(tmp_path / "old.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(HwcaeError, match="cannot read fixed-point model"):
        fixedpoint_io.load(tmp_path / "junk.npz")


def test_fixed_point_file_round_trip_and_version_check(each_qat, tmp_path):
    import pytest

    from hwcae.errors import HwcaeError

    model = extract(load_qat(each_qat)[0].encoder)
    fixedpoint_io.save(model, tmp_path / "m.npz")
    again = fixedpoint_io.load(tmp_path / "m.npz")
    assert [type(o) for o in again.ops] == [type(o) for o in model.ops] and again.words() == model.words()
    assert again.macs() == model.macs() and again.bits_per_spike == model.bits_per_spike
    for a, b in zip(again.convs(), model.convs()):
        assert a.name == b.name and np.array_equal(a.w, b.w) and np.array_equal(a.b, b.b) and a.acc_exp == b.acc_exp
    arrays = fixedpoint_io.to_arrays(model)
    arrays["version"] = np.array(fixedpoint_io.VERSION + 1)
    np.savez(tmp_path / "new.npz", **arrays)
    with pytest.raises(HwcaeError, match="format version"):
        fixedpoint_io.load(tmp_path / "new.npz")


def test_graph_that_does_not_fit_is_refused():
    import pytest

    from hwcae.errors import HwcaeError
    from hwcae.fixedpoint.graph import Conv

    w = np.zeros((8, 3, 1), np.int64)  # takes 3 channels, the input has 4
    with pytest.raises(HwcaeError, match="takes 3 channels, gets 4"):
        FixedPointModel("conv", 1.0, Word(8, True, 0), [Conv("c", "input", "c.acc", w, 0, 8, np.zeros(8, np.int64), 0)],
                        Search(np.zeros((4, 8), np.int64), 0, 8), bias_bits=16)
