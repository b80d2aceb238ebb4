"""Fixed probe inputs for the committed-checkpoint behaviour test (tests/data/committed_behaviour.json).

Plain NumPy, seeded: spike-like troughs of 20-2000 uV with noise on 4 channels, plus constant and
alternating full-scale inputs, so every quantiser sees both ordinary and saturating words."""
import numpy as np


def probe_spikes(n: int = 384, seed: int = 20261203) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(64)
    amp = 10 ** rng.uniform(np.log10(20), np.log10(2000), (n, 1, 1))
    width = rng.uniform(1.5, 6.0, (n, 1, 1))
    chan = rng.uniform(0.1, 1.0, (n, 4, 1))
    trough = -np.exp(-0.5 * ((t - 24) / width) ** 2)
    bump = 0.4 * np.exp(-0.5 * ((t - 24 - 3 * width) / (2 * width)) ** 2)
    x = amp * chan * (trough + bump) + rng.normal(0, rng.uniform(2, 25, (n, 1, 1)), (n, 4, 64))
    edges = [np.full((4, 64), v) for v in (0.0, 500.0, -500.0, 5000.0, -5000.0)]
    edges.append(np.tile(np.where(t % 2 == 0, 3000.0, -3000.0), (4, 1)))
    return np.concatenate([x, np.stack(edges)]).astype(np.float32)
