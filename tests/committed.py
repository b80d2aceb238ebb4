"""Fixed probe inputs for the committed-checkpoint behaviour test (tests/data/committed_behaviour.json),
and the recorder that writes an entry of it.

Plain NumPy, seeded: spike-like troughs of 20-2000 uV with noise on 4 channels, plus constant and
alternating full-scale inputs, so every quantiser sees both ordinary and saturating words.

Re-record a retrained checkpoint (only after `make hls` is 100 % bit-exact for a QAT design):
``.venv/bin/python -m tests.committed models/float-paper.pt models/qat-paper-w8a8.pt``."""
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "tests/data/committed_behaviour.json"


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


def sha(a) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, np.int64).tobytes()).hexdigest()


def behaviour(path: str) -> dict:
    """What the test pins for a checkpoint: the symbols it sends for the probe inputs; for a QAT
    design also the reference's latent codes, saturation counts and the 65 nm cost report."""
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.stream.codec import Codec

    codec = Codec(load_checkpoint(ROOT / path))
    x = probe_spikes()
    sym = codec.encode(x)
    out = {"content_hash": codec.hash, "symbols_sha256": sha(sym), "shape": list(sym.shape)}
    if codec.fixed_point is not None:  # a QAT design
        from hwcae.cost.estimate import Budget
        from hwcae.cost.report import cost_for_checkpoint
        from hwcae.export.backends import load_hls_config
        from hwcae.fixedpoint.reference import ReferenceEncoder

        ref = ReferenceEncoder(codec.fixed_point)
        lat, _ = ref.encode(ref.gain_stage(x)[0])
        r = cost_for_checkpoint(str(ROOT / path), "65nm", Budget(reuse=load_hls_config("catapult").reuse_factor))
        out.update(latent_sha256=sha(lat), saturation={k: v for k, v in ref.saturation.items() if v},
                   cost_65nm={**{k: r[k] for k in ("macs_per_spike", "gates_ge", "sram_bits", "energy_per_spike_pj",
                                                    "power_per_channel_uw", "channel_capacity")},
                              "layers": [[e["layer"], e["macs"], e["acc_bits"], e["mult_bits"], round(e["gates_ge"], 6)]
                                         for e in r["layers"]]})
    return out


if __name__ == "__main__":
    from hwcae.fileio import write_text_atomic

    record = json.loads(RECORD.read_text())
    for p in sys.argv[1:]:
        record[p] = behaviour(p)
        print(f"recorded {p}: {record[p]['content_hash']}")
    write_text_atomic(RECORD, json.dumps(dict(sorted(record.items())), indent=1) + "\n")
