"""The CLI's contract: exit codes, one-line errors, JSON keys, nothing half-written."""
import json
import subprocess
import sys

import pytest

from hwcae.cli import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "hwcae", *map(str, args)], capture_output=True, text=True)


def test_help_lists_verbs():
    r = run_cli("--help")
    assert r.returncode == 0
    for verb in ("data", "train", "eval"):
        assert verb in r.stdout


def test_decompress_help_describes_decompress(capsys):
    """Its own description (not compress's INPUT): what it reads and writes, the .npz keys, exit status."""
    with pytest.raises(SystemExit):
        main(["decompress", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "INPUT is" not in out and "hwcae decompress: an .hwc container" in out
    for words in ("spikes float32 (N, 4, 64) reconstructed waveforms in microvolts (uV)", "times int64 (N,)",
                  "channels int64 (N,)", "fs float64 ()", "SpikeEventSeries", "Exit status 2", "--partial"):
        assert words in out, words


@pytest.mark.parametrize("args, message", [
    (["eval", "--data", "missing.npz"], "spike file not found"),
    (["data", "info", "missing.npz"], "spike file not found"),
    (["eval", "--data", "synth:nope"], "unknown preset"),
    (["train", "--config", "nope"], "unknown name 'nope'"),
    (["train", "--threads", "0"], "--threads must be at least 1"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hwcae: error:") and message in err and "\n" not in err


def test_bad_arguments_exit_nonzero():
    r = run_cli("eval", "--bits-per-spike", "many")
    assert r.returncode == 2 and "invalid float" in r.stderr


def test_eval_json_on_npz(tiny_npz, tmp_path, capsys):
    out = tmp_path / "e.json"
    assert main(["eval", "--data", str(tiny_npz), "--bits-per-spike", "64", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert set(r["baselines"]) == {"pca", "dwt"}
    for row in r["baselines"].values():
        assert row["bits_per_spike"] <= 64
        for k in ("cr_fixed", "cr_entropy", "sndr_db_mean", "sndr_clean_db_mean", "sndr_clean_db_median",
                  "sndr_channel_db_mean"):
            assert k in row
    assert "pca (8-bit)" in capsys.readouterr().out


def test_eval_bounds(tiny_npz, tmp_path, capsys):
    out = tmp_path / "b.json"
    assert main(["eval", "--data", str(tiny_npz), "--bounds", "--json", str(out)]) == 0
    b = json.loads(out.read_text())["bounds"]
    assert b["linear_mmse"] > b["noisy_input"]  # a fitted denoiser beats the raw noisy spikes
    assert "best linear denoiser" in capsys.readouterr().out


def test_data_synth_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "s.npz"
    out.write_bytes(b"precious")
    assert main(["data", "synth", "--preset", "tiny", "--out", str(out)]) == 2
    assert out.read_bytes() == b"precious"


def test_bad_yaml_config(tmp_path, capsys):
    p = tmp_path / "a.yaml"
    p.write_text("name: x\nencoder: {channels: 8, blocks: [], colour: red}\n")
    assert main(["train", "--config", str(p), "--data", "synth:tiny", "--val", "synth:tiny"]) == 2
    assert "colour" in capsys.readouterr().err
    p.write_text("name: [unclosed\n")
    assert main(["train", "--config", str(p)]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_eval_by_recording(tiny_npz, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["eval", "--data", str(tiny_npz), "--by-recording", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    rows = r["by_recording"]
    assert sum(row["spikes"] for row in rows) == r["scored_spikes"]
    for name in ("pca", "dwt"):  # per-recording means, weighted by spikes, give the table's mean
        pooled = sum(row[name] * row["spikes"] for row in rows) / r["scored_spikes"]
        assert abs(pooled - r["baselines"][name]["sndr_clean_db_mean"]) < 1e-6
    assert "by recording" in capsys.readouterr().out
