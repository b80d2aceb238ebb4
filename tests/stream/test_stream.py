"""Streaming compression of a raw recording: ground-truth detection, quality, chunk/worker invariance."""
import json

import numpy as np
import pytest

from hwcae.cli import main
from hwcae.stream.codec import Codec
from hwcae.model.checkpoint import load_checkpoint
from hwcae.metrics import sndr_db
from hwcae.spikes.snippets import cut_snippets, neighbour_table
from hwcae.spikes.scene import draw_settings, scene
from hwcae.spikes.synth import generate_recording, write_raw_recording

GAIN_UV = 0.5


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    gt = generate_recording({**draw_settings(scene("tiny"), 5001), "duration_s": 8.0})
    rec = gt.recording()
    path = write_raw_recording(rec, tmp_path_factory.mktemp("raw") / "rec.bin", gain_uv=GAIN_UV, chunk_s=1.0)
    np.savetxt(path.with_suffix(".csv"), rec.get_channel_locations(), delimiter=",")
    return path, rec, gt.recording("clean"), gt.truth, gt.settings


def _compress(raw, out, ckpt, *extra):
    path, rec = raw[0], raw[1]
    args = ["compress", str(path), str(out), "--checkpoint", str(ckpt), "--fs", str(rec.sampling_frequency),
            "--channels", str(rec.get_num_channels()), "--gain-uv", str(GAIN_UV), "--no-filter", "--geometry", str(path.with_suffix(".csv")), *extra]
    assert main(args) == 0
    return out.read_bytes()


def test_round_trip_finds_ground_truth_and_reconstructs(raw, tiny_qat, tmp_path, capsys):
    _, rec, clean, gt, settings = raw
    _compress(raw, tmp_path / "a.hwc", tiny_qat, "--chunk-s", "1.3", "--json", str(tmp_path / "a.json"))
    f = json.loads((tmp_path / "a.json").read_text())["footings"]  # against the recording's own raw stream
    n_bits = (tmp_path / "a.hwc").stat().st_size * 8
    assert f["cr_stream16"] == pytest.approx(rec.get_num_channels() * rec.get_num_samples() * 16 / n_bits, rel=1e-6)
    assert f["cr_stream10"] == pytest.approx(f["cr_stream16"] * 10 / 16)
    assert "vs the raw stream" in capsys.readouterr().out
    assert main(["decompress", str(tmp_path / "a.hwc"), "--checkpoint", str(tiny_qat),
                 "--out", str(tmp_path / "a.npz")]) == 0
    d = np.load(tmp_path / "a.npz")
    t, c = d["times"], d["channels"]
    assert float(d["fs"]) == rec.sampling_frequency  # the recording's rate travels in the .hwc header
    assert np.all(np.diff(t) >= 0)
    big = gt["frames"][gt["amplitude_uv"] > 8 * settings["noise_uv"]]
    recall = np.mean(np.abs(big[:, None] - t[None, :]).min(axis=1) <= 10)
    precision = np.mean(np.abs(t[:, None] - gt["frames"][None, :]).min(axis=1) <= 10)
    assert recall > 0.95 and precision > 0.95, (recall, precision)
    # the stream codes exactly what the offline codec codes for snippets cut from the same file
    table = neighbour_table(rec.get_channel_locations())
    traces = np.fromfile(raw[0], "<i2").reshape(-1, rec.get_num_channels()).astype(np.float32) * GAIN_UV
    codec = Codec(load_checkpoint(tiny_qat))
    assert np.array_equal(codec.encode(cut_snippets(traces, t, table[c])), d["indices"])
    # reconstruction vs the noise-free twin at the decoded times and channels
    ref = cut_snippets(clean.get_traces().astype(np.float32), t, table[c])
    got = float(np.mean(sndr_db(ref, d["spikes"])))
    assert got > 2.0, got  # tiny test model (3.3 dB measured; 0 dB = nothing); the default design: `make bench`


def test_nwb_takes_the_sampling_rate_from_the_file(raw, tiny_qat, tmp_path, capsys):
    """No --fs: a recording's .hwc holds its rate, so NWB times in seconds come out right; inspect shows it."""
    from hwcae.stream.nwb_out import read_decoded_nwb

    _compress(raw, tmp_path / "a.hwc", tiny_qat)
    fs = raw[1].sampling_frequency
    assert main(["inspect", str(tmp_path / "a.hwc")]) == 0
    assert f"sampling rate {fs:g} Hz" in capsys.readouterr().out
    base = ["decompress", str(tmp_path / "a.hwc"), "--checkpoint", str(tiny_qat)]
    assert main(base + ["--out", str(tmp_path / "a.nwb")]) == 0
    assert main(base + ["--out", str(tmp_path / "a.npz")]) == 0
    r, d = read_decoded_nwb(tmp_path / "a.nwb"), np.load(tmp_path / "a.npz")
    assert r["meta"]["fs_hz"] == fs and len(r["times_s"]) == len(d["times"]) > 0
    np.testing.assert_array_equal(np.rint(r["times_s"] * fs).astype(np.int64), d["times"])


def test_chunking_and_workers_do_not_change_the_file(raw, tiny_qat, tmp_path):
    a = _compress(raw, tmp_path / "a.hwc", tiny_qat, "--chunk-s", "0.7")
    b = _compress(raw, tmp_path / "b.hwc", tiny_qat, "--chunk-s", "3", "--jobs", "2")
    assert a == b and len(a) > 1000


def test_dask_cluster_gives_the_same_file(raw, tiny_qat, tmp_path):
    from distributed import LocalCluster

    a = _compress(raw, tmp_path / "a.hwc", tiny_qat, "--chunk-s", "2")
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp://",
                      dashboard_address=None) as cluster:
        b = _compress(raw, tmp_path / "b.hwc", tiny_qat, "--chunk-s", "2", "--scheduler", cluster.scheduler_address)
    assert a == b


def test_recording_needs_a_fixed_point_checkpoint(raw, tiny_checkpoint, tmp_path, capsys):
    path, rec = raw[0], raw[1]
    assert main(["compress", str(path), str(tmp_path / "x.hwc"), "--checkpoint", str(tiny_checkpoint),
                 "--fs", str(rec.sampling_frequency), "--channels", str(rec.get_num_channels())]) == 2
    assert "QAT checkpoint" in capsys.readouterr().err and not (tmp_path / "x.hwc").exists()


def test_bad_scheduler_and_raw_without_fs(raw, tiny_qat, tmp_path, capsys):
    path = raw[0]
    assert main(["compress", str(path), str(tmp_path / "x.hwc"), "--checkpoint", str(tiny_qat)]) == 2
    assert "--fs" in capsys.readouterr().err
    assert main(["compress", str(path), str(tmp_path / "x.hwc"), "--checkpoint", str(tiny_qat), "--fs", "30000",
                 "--channels", "16", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "Dask scheduler" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.hwc")) and not list(tmp_path.glob(".x*"))  # nothing half-written


def test_bad_recordings_give_one_line_and_no_file(tiny_qat, tmp_path, capsys):
    x = np.random.default_rng(0).normal(0, 10, (400_000, 4)).astype(np.float32)
    x[350_000, 2] = np.nan  # beyond the 10 s noise window: found by the chunk that reads it
    x.tofile(tmp_path / "nan.bin")
    args = ["--checkpoint", str(tiny_qat), "--fs", "30000", "--channels", "4", "--no-filter"]
    assert main(["compress", str(tmp_path / "nan.bin"), str(tmp_path / "a.hwc"), "--dtype", "float32", *args]) == 2
    assert "NaN or Inf samples between 10.996 s and 12.004 s" in capsys.readouterr().err
    (tmp_path / "short.bin").write_bytes(b"\0" * 1001)
    assert main(["compress", str(tmp_path / "short.bin"), str(tmp_path / "b.hwc"), *args]) == 2
    assert "not a whole number" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.hwc")) and not list(tmp_path.glob(".*"))
