"""Symbol statistics (pure NumPy) and the codec package's independence from torch."""
import subprocess
import sys

import numpy as np

from hwcae.codec.statistics import pair_table, symbol_statistics


def _pairs(idx, k):
    out = np.zeros((idx.shape[1] - 1, k, k))
    for p in range(idx.shape[1] - 1):
        np.add.at(out[p], (idx[:, p], idx[:, p + 1]), 1)
    return out


def test_pair_table_fits_a_byte_and_keeps_every_seen_pair():
    few = np.random.default_rng(0).integers(0, 8, (50, 3))
    np.testing.assert_array_equal(pair_table(few, 8), _pairs(few, 8))  # counts under 256: exact
    many = np.concatenate([np.zeros((2000, 3), np.int64), few])  # one pair seen 2000+ times
    t = pair_table(many, 8)
    assert t.dtype == np.uint8 and t.shape == (2, 8, 8) and t.max() == 255
    np.testing.assert_array_equal(t > 0, _pairs(many, 8) > 0)  # no seen pair lost, none invented


def test_symbol_statistics_count_every_position_and_pairs_of_indices_only():
    idx = np.array([[0, 1, 2], [0, 1, 3], [2, 2, 2]])
    gain = np.array([1, 1, 0])
    s = symbol_statistics(idx, 4, gain)
    assert s["index_counts"].shape == (4, 4) and s["index_counts"].dtype == np.int32
    assert s["index_counts"][0].tolist() == [2, 0, 1, 0] and s["index_counts"][3].tolist() == [1, 2, 0, 0]
    assert s["index_transitions"].shape == (2, 4, 4) and s["index_transitions"][0, 0, 1] == 2
    assert symbol_statistics(np.zeros((2, 6), np.int64), 512)["index_transitions"] is None  # too many cells


def test_codec_fixedpoint_and_stream_bitstream_load_no_torch():
    """The container, the coders, the statistics and the typed fixed-point model with its NumPy
    reference import neither torch nor Brevitas (checked in a fresh interpreter)."""
    code = ("import sys; import hwcae.codec.bitstream, hwcae.codec.container, hwcae.codec.entropy, "
            "hwcae.codec.statistics, hwcae.fixedpoint.io, hwcae.fixedpoint.reference; "
            "bad = [m for m in ('torch', 'brevitas') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
