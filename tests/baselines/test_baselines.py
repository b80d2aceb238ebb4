import numpy as np

from hwcae.baselines.dwt import DWTCodec
from hwcae.baselines.pca import PCACodec
from hwcae.metrics import sndr_db


def test_pca_bit_accounting_and_codes(tiny_set):
    c = PCACodec.at_budget(112).fit(tiny_set.spikes)
    assert c.k == 14 and c.bits_per_spike == 112
    codes = c.encode(tiny_set.spikes)
    assert codes.shape == (len(tiny_set), 14) and codes.min() >= -128 and codes.max() <= 127
    assert PCACodec.at_budget(7).k == 1  # at least one component


def test_dwt_bit_accounting_and_codes(tiny_set):
    c = DWTCodec.at_budget(112).fit(tiny_set.spikes)
    assert c.k == 7 and c.bits_per_spike == 7 * (8 + 8)
    pos, vals = c.encode(tiny_set.spikes)
    assert pos.shape == vals.shape == (len(tiny_set), 7) and pos.max() < 256
    assert vals.min() >= -128 and vals.max() <= 127


def test_more_bits_less_distortion(tiny_set):
    fit, score = tiny_set.halves()
    for cls in (PCACodec, DWTCodec):
        s = [np.mean(sndr_db(score.spikes, cls.at_budget(b).fit(fit.spikes).roundtrip(score.spikes)))
             for b in (32, 128, 512)]
        assert s[0] < s[1] < s[2], (cls.__name__, s)


def test_dwt_all_coefficients_is_nearly_lossless(tiny_set):
    c = DWTCodec(256, coef_bits=16).fit(tiny_set.spikes)
    assert np.mean(sndr_db(tiny_set.spikes, c.roundtrip(tiny_set.spikes))) > 60
