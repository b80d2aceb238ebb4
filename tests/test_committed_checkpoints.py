"""Every committed checkpoint keeps its behaviour: the symbols it sends (float encoder or the
bit-accurate reference walking the typed fixed-point model), the latent codes and saturation counts,
and the cost report's figures, against tests/data/committed_behaviour.json.

That file was written by the pre-refactor code (the untyped weights dict); a retrained checkpoint
has a new content hash and must be re-recorded (the message says how: tests/committed.py), never
silently accepted. The `paper` checkpoints (issue 28) were recorded when committed, after
`make hls DESIGN=paper-w8a8` was 100 % bit-exact on both backends."""
import json

import pytest

from tests.committed import RECORD, behaviour

WANT = json.loads(RECORD.read_text())


@pytest.mark.parametrize("path", sorted(WANT))
def test_committed_checkpoint_behaves_as_recorded(path):
    want, got = WANT[path], behaviour(path)
    assert got["content_hash"] == want["content_hash"], f"{path} was retrained: re-record it (python -m tests.committed {path})"
    for k in ("shape", "symbols_sha256", "latent_sha256", "saturation"):
        assert got.get(k) == want.get(k), k
    if "cost_65nm" in want:
        g, w = got["cost_65nm"], want["cost_65nm"]
        for k in ("macs_per_spike", "sram_bits", "channel_capacity", "layers"):
            assert g[k] == w[k], k
        for k in ("gates_ge", "energy_per_spike_pj", "power_per_channel_uw"):
            assert g[k] == pytest.approx(w[k], rel=1e-12), k
