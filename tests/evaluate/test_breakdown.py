import numpy as np
import pytest

from hwcae.errors import HwcaeError
from hwcae.evaluate.breakdown import by_recording, format_breakdown
from hwcae.metrics import sndr_db
from hwcae.spikes.spikeset import SpikeSet


def _two_recordings():
    """Recording 7 with 5 uV of noise at 30 kHz, recording 9 with 20 uV, the same clean spikes."""
    rng = np.random.default_rng(0)
    clean = np.repeat(-200 * np.exp(-((np.arange(64) - 24) / 3.0) ** 2)[None, None], 4, 1)
    clean = np.repeat(clean, 600, 0).astype(np.float32)
    sigma = np.r_[np.full(200, 5.0), np.full(400, 20.0)][:, None, None]
    noisy = (clean + rng.normal(0, 1, clean.shape) * sigma).astype(np.float32)
    rec_ids = np.r_[np.full(200, 7), np.full(400, 9)]
    return SpikeSet(noisy, clean, None, 30000.0, rec_ids)


def test_rows_per_recording_match_direct_computation():
    s = _two_recordings()
    halfway = 0.5 * (s.spikes + s.clean)  # a "codec" that removes half the noise: +6.02 dB
    rows = by_recording(s, {"cae": halfway})
    assert [r["recording"] for r in rows] == [7, 9] and [r["spikes"] for r in rows] == [200, 400]
    assert rows[0]["noise_uv"] == pytest.approx(5.0, rel=0.05) and rows[1]["noise_uv"] == pytest.approx(20.0, rel=0.05)
    assert rows[1]["fs_hz"] == 30000.0
    for r, m in zip(rows, (s.recording == 7, s.recording == 9)):
        assert r["cae"] == pytest.approx(sndr_db(s.clean[m], halfway[m]).mean())
        assert r["cae"] - r["input"] == pytest.approx(20 * np.log10(2), abs=1e-6)
    assert rows[0]["input"] - rows[1]["input"] == pytest.approx(20 * np.log10(4), abs=0.3)
    assert "cae" in format_breakdown(rows, vs_clean=True)


def test_without_clean_twins_scores_against_input():
    s = _two_recordings()
    s = SpikeSet(s.spikes, None, None, None, s.recording)
    rows = by_recording(s, {"pca": s.spikes * 0.9})
    assert "input" not in rows[0] and np.isnan(rows[0]["noise_uv"])
    assert rows[0]["pca"] == pytest.approx(20.0, abs=1e-4)  # 10% error everywhere: 20 dB


def test_needs_recording_ids():
    s = _two_recordings()
    with pytest.raises(HwcaeError, match="recording ids"):
        by_recording(SpikeSet(s.spikes, s.clean), {"cae": s.spikes})
