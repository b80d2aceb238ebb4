"""Numbers on the command line are checked by argparse types (hwcae.validate): each bad value is
one line naming the option, before any work, and nothing is written."""
from __future__ import annotations

import pytest

from tests.robustness.conftest import ROOT, snapshot, waveforms, write_npz

QAT = ROOT / "models/qat-w8a8.pt"
NUMBERS = [  # (verb and fixed arguments, option, bad values)
    (["train", "--config", "tiny"], "--epochs", ["0", "-1", "1.5", "nan", "1e9", "ten", "100000"]),
    (["train", "--config", "tiny"], "--threads", ["0", "-2", "inf"]),
    (["train", "--config", "tiny"], "--seed", ["-1", "4294967296", "0.5"]),
    (["qat", "--design", "w8a8"], "--epochs", ["-1", "-100", "nan", "2.5", "20000"]),
    (["qat", "--design", "w8a8"], "--max-train", ["0", "-5"]),
    (["eval"], "--bits-per-spike", ["1e9", "0", "0.5", "-8", "nan", "inf", "4097"]),
    (["cost", "--checkpoint", QAT], "--rate-hz", ["nan", "0", "-50", "inf"]),
    (["cost", "--checkpoint", QAT], "--clock-hz", ["0", "-20e6", "nan", "inf"]),
    (["cost", "--checkpoint", QAT], "--channels", ["0", "-1", "1.5"]),
    (["cost", "--checkpoint", QAT], "--reuse", ["0", "-4"]),
    (["cost", "--checkpoint", QAT], "--lanes", ["0", "-16"]),
    (["cost", "--checkpoint", QAT], "--instances", ["0", "-1"]),
    (["cost", "--checkpoint", QAT], "--power-budget-mw", ["0", "-10", "nan"]),
    (["cost", "--checkpoint", QAT], "--area-budget-mm2", ["0", "-4", "inf"]),
    (["cost", "--checkpoint", QAT], "--radio-pj-per-bit", ["-1", "nan"]),
    (["data", "mat", "x.mat", "--out", "o.npz"], "--uv-per-unit", ["0", "-1", "nan"]),
    (["data", "mat", "x.mat", "--out", "o.npz"], "--fs", ["0", "-24000", "inf", "100", "2e6", "nan"]),
]
CASES = [(argv, opt, v) for argv, opt, values in NUMBERS for v in values]


@pytest.mark.parametrize("argv, option, value", CASES, ids=[f"{a[0]}{o}={v}" for a, o, v in CASES])
def test_bad_number_is_one_line(argv, option, value, tmp_path, monkeypatch, refused):
    monkeypatch.chdir(tmp_path)
    line = refused([*argv, f"{option}={value}"], option, argv[0])
    assert "must" in line or "invalid" in line
    assert snapshot(tmp_path) == {}


def test_train_epochs_zero_no_longer_means_the_default(tmp_path):
    """The API too: epochs=0 was `epochs or config` (12 epochs for tiny); now it is refused."""
    from hwcae.errors import HwcaeError
    from hwcae.model.config import load_arch
    from hwcae.model.train import train
    from hwcae.spikes.spikeset import SpikeSet

    s = SpikeSet(waveforms(40))
    with pytest.raises(HwcaeError, match="epochs must be between 1 and 10000, got 0"):
        train(load_arch("tiny"), s, s, tmp_path / "m.pt", epochs=0, progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n, config, words", [(1, "tiny", "at least 2 spikes"), (1, "tiny-dense", "at least 2 spikes"),
                                              (4, "default", "at least 8 spikes")])
def test_train_on_too_few_spikes_fails_before_training(n, config, words, tmp_path, refused):
    data = write_npz(tmp_path / "few.npz", spikes=waveforms(n))
    out = tmp_path / "m.pt"
    refused(["train", "--config", config, "--data", data, "--val", data, "--out", out], words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["few.npz"]  # no checkpoint, card or .resume


def test_qat_on_one_spike_fails_before_training(tmp_path, refused):
    data = write_npz(tmp_path / "one.npz", spikes=waveforms(1))
    refused(["qat", "--design", "w8a8", "--data", data, "--val", data, "--out", tmp_path / "q.pt"], "at least 2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.npz"]


def test_good_numbers_still_work(tmp_path, cli):
    out = tmp_path / "c.json"
    rc, stdout, _ = cli("cost", "--checkpoint", QAT, "--rate-hz", "20", "--clock-hz", "2e7", "--radio-pj-per-bit", "0",
                        "--json", out)
    assert rc == 0 and out.is_file() and "power per channel" in stdout
