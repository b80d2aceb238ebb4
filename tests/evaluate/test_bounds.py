import numpy as np

from hwcae.evaluate.bounds import bounds, linear_mmse_matrix, unit_template
from hwcae.metrics import sndr_db
from hwcae.spikes.spikeset import SpikeSet


def _units(n_per_unit=400, noise_uv=20.0, seed=0):
    """Three units with fixed templates, a small per-spike amplitude spread, white noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, 64)
    templates = [-a * np.exp(-((t - c) / w) ** 2) for a, c, w in [(300, 0.4, 0.05), (150, 0.35, 0.1), (80, 0.5, 0.08)]]
    clean, labels = [], []
    for u, tpl in enumerate(templates):
        gain = rng.uniform(0.9, 1.1, (n_per_unit, 1, 1))
        clean.append(gain * np.stack([tpl, 0.5 * tpl, 0.25 * tpl, 0.1 * tpl])[None])
        labels.append(np.full(n_per_unit, u))
    clean = np.concatenate(clean).astype(np.float32)
    noisy = (clean + rng.normal(0, noise_uv, clean.shape)).astype(np.float32)
    return SpikeSet(noisy, clean, np.concatenate(labels))


def test_linear_mmse_is_identity_without_noise():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 50, (600, 4, 64))  # full-rank data: the exact map is the identity
    w = linear_mmse_matrix(x, x)
    assert np.abs(w - np.eye(256)).max() < 1e-3


def test_unit_template_is_the_unit_mean():
    s = _units()
    rec = unit_template(s)
    for u in range(3):
        m = s.labels == u
        assert np.allclose(rec[m], s.clean[m].mean(axis=0))
    assert 20 < sndr_db(s.clean, rec).mean() < 40  # only the +-10 % per-spike gain is lost


def test_bounds_order_on_noisy_units():
    fit, score = _units(seed=0), _units(seed=1)
    b = bounds(fit, score)
    # denoising: the linear map gains many dB over the noisy input (noise is white, signal low-rank)
    assert b["linear_mmse"] > b["noisy_input"] + 6
    assert set(b) == {"noisy_input", "linear_mmse", "unit_template"}
    assert bounds(SpikeSet(fit.spikes), score) == {}  # no clean twins: nothing to report
