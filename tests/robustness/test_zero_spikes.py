"""All-zero spikes through eval and compare (issue 24): SNDR against a reference with zero power is
undefined, reported as NaN with a note (it was -155 dB, or 0 dB when the reconstruction was zero
too), means are over the spikes where it is defined, and the ideal entropy coder's compression
ratio stays finite (an entropy of 0 gave 4096 / 1e-9 = 4e12)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.robustness.conftest import ROOT, waveforms, write_npz

QAT = ROOT / "models/qat-w8a8.pt"
FLOAT = ROOT / "models/float.pt"
N = 200


@pytest.fixture
def zeros(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return write_npz(tmp_path / "zeros.npz", spikes=np.zeros((N, 4, 64), np.float32))


def _check_rows(rows, scored):
    for r in rows:
        assert all(r[k] is None or math.isnan(r[k]) for k in r if k.startswith("sndr_") and k != "sndr_note"), r
        assert "reference has zero power" in r.get("sndr_note", "reference has zero power")
        # at least the fixed-length bits of one spike over the scored spikes: finite, and at most that ratio
        assert math.isfinite(r["cr_entropy"]) and r["cr_entropy"] <= 4096 * scored / r["bits_per_spike"] + 1e-6


def test_eval_on_zeros(zeros, cli):
    rc, out, err = cli("eval", "--data", zeros, "--checkpoint", QAT, "--json", "e.json")
    assert rc == 0 and "Traceback" not in err
    r = json.loads((zeros.parent / "e.json").read_text())
    assert "undefined (reference has zero power) for" in r["sndr_note"]
    _check_rows([r, *r["baselines"].values()] if "baselines" in r else [r], N // 2)


def test_compare_on_zeros(zeros, cli):
    rc, out, err = cli("compare", "--data", zeros, "--float", FLOAT, "--qat", QAT, "--json", "c.json")
    assert rc == 0 and "Traceback" not in err
    rows = json.loads((zeros.parent / "c.json").read_text())
    rows = rows["rows"] if isinstance(rows, dict) else rows
    assert len(rows) == 2
    _check_rows(rows, N)


def test_a_few_zero_spikes_do_not_spoil_the_mean():
    from hwcae.metrics import sndr_channel_db, sndr_db, summarize

    x = waveforms(10).astype(np.float64)
    rec = x * 0.9  # 20 dB on every real spike
    x[3] = 0.0
    s = sndr_db(x, rec)
    assert np.isnan(s[3]) and np.allclose(np.delete(s, 3), 20.0)
    assert np.isnan(sndr_channel_db(x, rec)[3])
    row = summarize(x, rec, None, 112.0)
    assert math.isclose(row["sndr_db_mean"], 20.0) and math.isclose(row["sndr_db_median"], 20.0)
    assert row["sndr_note"] == "undefined (reference has zero power) for 1 of 10 spikes"
    assert "sndr_note" not in summarize(x[:3], rec[:3], x[:3], 112.0)  # nothing undefined: no note


def test_entropy_compression_ratio_is_floored_not_divided_by_zero():
    from hwcae.metrics import cr_entropy

    assert math.isclose(cr_entropy(0.0, 100, 112.0), 4096 / 1.12)  # one spike's fixed bits over 100 spikes
    assert math.isclose(cr_entropy(50.0, 100, 112.0), 4096 / 50.0)  # a real entropy: unchanged
    assert math.isclose(cr_entropy(0.0, 0, 112.0), 4096 / 112.0)


def test_zero_spikes_have_no_trough_to_realign(zeros, cli):
    """A flat spike has no trough: no 'troughs at sample 0 ... realigned' note (it was given for zeros)."""
    rc, out, err = cli("data", "info", zeros)
    assert rc == 0 and "realign" not in err and "troughs at sample 0" not in err + out
