"""The calibration targets (hwcae/adapt/targets.py): made from noisy spikes alone, closer to the
clean waveforms than either estimate they blend, and the local projection is exact where it must be."""
import numpy as np
import pytest

from hwcae.adapt.targets import local_projections, neighbour_targets
from hwcae.errors import HwcaeError
from hwcae.metrics import mean_db, sndr_db


def test_local_projection_reproduces_points_of_a_low_rank_neighbourhood():
    rng = np.random.default_rng(0)
    base, dirs = rng.normal(size=(1, 256)), rng.normal(size=(2, 256))
    x = (base + rng.normal(size=(300, 2)) @ dirs).astype(np.float32)  # every point in one 2-D plane
    nb = np.stack([rng.choice(np.delete(np.arange(300), i), 40, replace=False) for i in range(300)])
    out = local_projections(x, nb, (1, 2))
    assert np.allclose(out[2], x, atol=1e-3)  # rank 2 spans the plane: nothing is lost
    assert np.abs(out[1] - x).max() > 0.1  # rank 1 does not
    kept = local_projections(x, nb, (2,), noise_var=1e-6)[2]  # directions far above the noise: kept
    assert np.allclose(kept, x, atol=1e-3)
    means = np.stack([x[nb[i]].mean(0) for i in range(300)])
    shrunk = local_projections(x, nb, (2,), noise_var=1e9)[2]  # drowned in noise: only the mean is left
    assert np.allclose(shrunk, means, atol=1e-3)
    with pytest.raises(HwcaeError, match="needs the reconstructions"):  # alignment asked for, nothing to align on
        local_projections(x, nb, (1,), max_shift=2)


def test_targets_are_closer_to_clean_than_the_spikes_and_the_model(tiny_set, tiny_checkpoint):
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.model.infer import decode_uv, encode_uv
    from hwcae.model.train import model_from_checkpoint

    model = model_from_checkpoint(load_checkpoint(tiny_checkpoint))
    x = tiny_set.spikes.astype(np.float32)
    g = decode_uv(model, encode_uv(model, x))
    t, est = neighbour_targets(x, g)
    q = lambda y: mean_db(sndr_db(tiny_set.clean, y))  # noqa: E731 (the clean twin only scores here)
    assert t.shape == x.shape and t.dtype == np.float32
    assert est["rank"] in (1, 2, 4, 8, 16) and 0.35 <= est["weight"] <= 1.0 and est["max_shift"] == 2
    assert q(t) > q(x) + 6.0 and q(t) > q(g) + 6.0, (q(t), q(x), q(g))


def test_keep_outliers_passes_a_large_residual_and_drops_the_noise():
    """An overlapping spike (a large, local residual) stays in the target; white noise mostly does not."""
    from hwcae.adapt.targets import keep_outliers

    rng = np.random.default_rng(1)
    clean = np.zeros((400, 4, 64), np.float32)
    clean[:, 0, 40:44] = -100.0  # every spike overlaps with a 100 uV neighbour the mean would not have
    x = clean + rng.normal(0, 5.0, clean.shape).astype(np.float32)
    blurred = np.zeros_like(x)  # a target that misses the overlap altogether
    t, threshold = keep_outliers(x, blurred, 3.0)
    assert 13.0 < threshold < 16.5  # 3 sigma of the 5 uV noise, estimated from the residuals alone
    assert np.abs(t[:, 0, 40:44] - clean[:, 0, 40:44]).mean() < 20.0  # the overlap kept (minus the threshold)
    noise_only = np.ones(x.shape, bool)
    noise_only[:, 0, 40:44] = False
    assert np.mean(t[noise_only] != 0) < 0.01  # ~0.3 % of pure-noise samples pass a 3-sigma threshold


def test_hybrid_pairs_lay_another_spikes_residual_on_a_target():
    """Every input is the spike itself or, for a fraction ``hybrid`` of the pairs, its target plus the
    residual of another spike of the same index set (both scaled by the pair's amplitude factor)."""
    from hwcae.adapt.targets import pairs

    rng = np.random.default_rng(2)
    x = rng.normal(0, 10, (200, 4, 64)).astype(np.float32)
    t = 0.5 * x  # a stand-in target: every residual x - t is 0.5 x
    index = np.arange(100)  # only the first half may be drawn
    real = pairs(x, t, index, 500, seed=3, hybrid=0.0)
    assert np.allclose(real.spikes, 2.0 * real.clean)  # the spikes themselves
    mixed = pairs(x, t, index, 2000, seed=3, hybrid=0.5)
    hybrid = ~np.isclose(mixed.spikes, 2.0 * mixed.clean, atol=1e-4).all(axis=(1, 2))
    assert 0.4 < hybrid.mean() < 0.6
    residual = (mixed.spikes - mixed.clean)[hybrid].reshape(int(hybrid.sum()), -1)
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    cos = unit(residual) @ unit(0.5 * x.reshape(200, -1)).T
    assert (cos[:, :100].max(axis=1) > 0.9999).all()  # one of the drawable spikes' residuals
    assert (cos[:, 100:].max(axis=1) < 0.9).all()  # never one from outside the index


def test_neighbours_are_shifted_back_into_line_with_the_spike():
    """A neighbour cut 1 or 2 samples early or late is moved by the shift that best matches its
    reconstruction to the spike's; one already in line stays; a shift beyond the limit is not made."""
    import torch

    from hwcae.adapt.targets import aligned
    from hwcae.spikes.warp import shift

    t = np.arange(64, dtype=np.float32)
    wave = np.stack([-100 * np.exp(-0.5 * ((t - 24 - c) / 2.0) ** 2) for c in range(4)])  # (4, 64)
    own = torch.from_numpy(wave)[None, None]  # (1, 1, 4, 64)
    offsets = [0, 1, -2, 2, 3]
    group = torch.stack([shift(torch.from_numpy(wave), s) for s in offsets])[None]  # (1, 5, 4, 64)
    out = aligned(group * 2.0, own, group, max_shift=2)  # the spikes differ from their reconstructions
    for j, s in enumerate(offsets[:4]):
        assert torch.allclose(out[0, j], 2.0 * own[0, 0]), s
    assert not torch.allclose(out[0, 4], 2.0 * own[0, 0])  # 3 samples off: only moved by 2
    assert torch.allclose(out[0, 4], 2.0 * shift(torch.from_numpy(wave), 1))
