import numpy as np

from hwcae.fixedpoint.compare import compare_codes
from hwcae.verify.design import exact


def test_a_gain_code_alone_makes_a_spike_differ():
    lat, idx = np.zeros((4, 2, 16), np.int64), np.arange(64).reshape(4, 16)
    gain = np.array([0, 1, 2, 3])
    same = compare_codes((lat, idx, gain), (lat.copy(), idx.copy(), gain.copy()))
    assert same["spikes_all_exact"] == 1.0 and exact(same) and "first_mismatch_spike" not in same
    other = gain.copy()
    other[2] = 5
    r = compare_codes((lat, idx, gain), (lat, idx, other))
    assert r["latent_exact"] == 1.0 and r["index_exact"] == 1.0 and r["gain_code_exact"] == 0.75
    assert r["spikes_all_exact"] == 0.75 and not exact(r)
    assert r["first_mismatch_spike"] == 2 and r["first_mismatch_in"] == "gain code only"
    idx2 = idx.copy()
    idx2[1, 3] += 1
    r = compare_codes((lat, idx), (lat, idx2))  # no gain codes: indices and latents only
    assert "gain_code_exact" not in r and r["first_mismatch_spike"] == 1 and r["first_mismatch_in"].startswith("index")
