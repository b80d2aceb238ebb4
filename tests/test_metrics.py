import math

import numpy as np

from hwcae.metrics import counts_entropy_bits, cr_from_bits, entropy_bits, sndr_channel_db, sndr_db, summarize


def test_sndr_hand_computed():
    ref = np.zeros((1, 4, 64))
    ref[0, 0, 0] = 10.0
    rec = ref.copy()
    rec[0, 0, 0] = 9.0  # error power 1, signal power 100 -> 20 dB
    assert math.isclose(sndr_db(ref, rec)[0], 20.0, abs_tol=1e-9)
    rec2 = ref.copy()
    rec2[0, 1, 5] = 1.0  # the error on another channel counts over the whole spike
    assert math.isclose(sndr_db(ref, rec2)[0], 20.0, abs_tol=1e-9)


def test_sndr_channel_form():
    ref = np.ones((1, 4, 64))
    rec = ref.copy()
    rec[0, 0] *= 0.9  # channel 0: 20 dB; channels 1-3: perfect (capped by the epsilon)
    per_ch = sndr_channel_db(ref, rec)[0]
    whole = sndr_db(ref, rec)[0]
    assert per_ch > whole  # the mean of per-channel dB is dominated by the perfect channels
    assert math.isclose(whole, 10 * math.log10(256 / (64 * 0.01)), rel_tol=1e-9)


def test_compression_ratio():
    assert math.isclose(cr_from_bits(112), 4096 / 112)
    assert math.isclose(cr_from_bits(112), 36.571428, rel_tol=1e-6)


def test_entropy():
    assert entropy_bits(np.array([0, 1, 2, 3]), 4) == 2.0
    assert entropy_bits(np.zeros(10, int), 4) == 0.0
    h = counts_entropy_bits([[1, 1, 1, 1], [5, 0, 0, 0], [0, 0, 0, 0], [3, 1, 0, 0]])  # one row per symbol position
    assert h[:3].tolist() == [2.0, 0.0, 0.0] and math.isclose(h[3], -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)))


def test_summary_keys():
    x = np.random.default_rng(0).normal(size=(5, 4, 64))
    row = summarize(x, x * 0.9, x, 112)
    assert {"cr_fixed", "sndr_db_mean", "sndr_clean_db_mean", "sndr_clean_db_median", "sndr_channel_db_mean"} <= set(row)
    assert math.isclose(row["sndr_db_mean"], 20.0, abs_tol=1e-6)
