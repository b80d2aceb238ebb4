"""Every committed checkpoint keeps its behaviour: the symbols it sends (float encoder or the
bit-accurate reference walking the typed fixed-point model), the latent codes and saturation counts,
and the cost report's figures, against tests/data/committed_behaviour.json.

That file was written by the pre-refactor code (the untyped weights dict); a retrained checkpoint
has a new content hash and must be re-recorded (the message says so), never silently accepted. The
`paper` checkpoints (issue 28) were recorded when committed, after `make hls DESIGN=paper-w8a8` was 100 %
bit-exact on both backends."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from hwcae.stream.codec import Codec
from hwcae.model.checkpoint import load_checkpoint
from tests.committed import probe_spikes

ROOT = Path(__file__).resolve().parents[1]
WANT = json.loads((ROOT / "tests/data/committed_behaviour.json").read_text())


def _sha(a) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, np.int64).tobytes()).hexdigest()


@pytest.mark.parametrize("path", sorted(WANT))
def test_committed_checkpoint_sends_the_same_symbols(path):
    want = WANT[path]
    codec = Codec(load_checkpoint(ROOT / path))
    assert codec.hash == want["content_hash"], f"{path} was retrained: re-record tests/data/committed_behaviour.json"
    x = probe_spikes()
    sym = codec.encode(x)
    assert list(sym.shape) == want["shape"] and _sha(sym) == want["symbols_sha256"]
    if "latent_sha256" in want:
        from hwcae.fixedpoint.reference import ReferenceEncoder

        ref = ReferenceEncoder(codec.fixed_point)
        lat, _ = ref.encode(ref.gain_stage(x)[0])
        assert _sha(lat) == want["latent_sha256"]
        assert {k: v for k, v in ref.saturation.items() if v} == want["saturation"]


@pytest.mark.parametrize("path", sorted(p for p in WANT if "cost_65nm" in WANT[p]))
def test_committed_design_costs_the_same(path):
    from hwcae.cost.estimate import Budget
    from hwcae.cost.report import cost_for_checkpoint
    from hwcae.export.backends import load_hls_config

    want = WANT[path]["cost_65nm"]
    r = cost_for_checkpoint(str(ROOT / path), "65nm", Budget(reuse=load_hls_config("catapult").reuse_factor))
    for k in ("macs_per_spike", "sram_bits", "channel_capacity"):
        assert r[k] == want[k], k
    for k in ("gates_ge", "energy_per_spike_pj", "power_per_channel_uw"):
        assert r[k] == pytest.approx(want[k], rel=1e-12), k
    got = [[x["layer"], x["macs"], x["acc_bits"], x["mult_bits"], round(x["gates_ge"], 6)] for x in r["layers"]]
    assert got == want["layers"]
