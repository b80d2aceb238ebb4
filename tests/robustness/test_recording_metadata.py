"""What a recording says about itself (issue 24): a raw binary file read with a channel count its
samples do not fit gets one warning line naming the count that fits (hwcae.spikes.interleave; never
on a true count); coincident contacts in a recording's own metadata (a SpikeGLX imroTbl, NWB
electrodes rel_x / rel_y, a saved SpikeInterface folder) are one line, as a --geometry file's are;
a Wave_Clus file's sampling rate (--fs or its samplingInterval) is range-checked like every verb's --fs."""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import scipy.io
from scipy import signal

from hwcae.spikes.recording_checks import check_binary
from hwcae.spikes.scene import draw_settings, scene
from hwcae.spikes.synth import generate_recording
from tests.robustness.conftest import snapshot
from tests.robustness.test_recordings import recording
from tests.spikes.formats import int16, on_neuropixels, spikeglx_meta, write_nwb, write_spikeglx

WARNING = re.compile(r"^hwcae: warning: .*: its samples look like (\d+) interleaved channels, not --channels (\d+) "
                     r"\(lag-1 autocorrelation [-\d.]+ vs [-\d.]+\); is --channels right\?$")


def generated(channels: int, seed: int = 5000, duration_s: float = 1.0):
    return generate_recording({**draw_settings(scene("tiny"), seed), "channels": channels, "duration_s": duration_s})


def band_limited(gt) -> np.ndarray:
    """The generator's noise is white up to Nyquist; a recorder's anti-alias filter (Intan: 7.5 kHz at
    30 kHz) passes a quarter of the sampling rate."""
    return signal.lfilter(*signal.butter(3, 0.5, "low"), gt.noisy, axis=0)


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """{name: (file, fs, true channel count)} of int16 raw binary files."""
    root, out = tmp_path_factory.mktemp("raw"), {}
    for ch in (16, 32):
        gt = generated(ch)
        t = np.arange(len(gt.noisy)) / gt.fs_hz
        for name, tr in [("asis", gt.noisy), ("aa", band_limited(gt)),
                         ("hum", band_limited(gt) + 300 * np.sin(2 * np.pi * 50 * t)[:, None])]:
            int16(tr, 0.5).tofile(root / f"{name}{ch}.bin")
            out[f"{name}{ch}"] = (root / f"{name}{ch}.bin", gt.fs_hz, ch)
    recording(channels=4).tofile(root / "fixture4.bin")  # tests/robustness/test_recordings.py's recording
    out["fixture4"] = (root / "fixture4.bin", 30000.0, 4)
    return out


def warnings_of(capsys, path, fs, channels) -> list[str]:
    check_binary(path, fs, channels, "int16", 0.5)
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["asis16", "aa16", "hum16", "asis32", "aa32", "hum32", "fixture4"])
def test_the_true_channel_count_is_never_questioned(name, raw, capsys):
    path, fs, ch = raw[name]
    assert warnings_of(capsys, path, fs, ch) == []


@pytest.mark.parametrize("name, told", [("aa16", 8), ("aa16", 32), ("aa16", 64), ("hum16", 8), ("hum16", 32),
                                        ("aa32", 16), ("aa32", 64), ("aa32", 128), ("hum32", 64)])
def test_a_wrong_channel_count_is_named(name, told, raw, capsys):
    path, fs, ch = raw[name]
    lines = warnings_of(capsys, path, fs, told)
    assert len(lines) == 1 and (m := WARNING.match(lines[0])), lines
    assert m.groups() == (str(ch), str(told))


def test_the_warning_through_the_command_line(raw, tmp_path, cli):
    path, fs, ch = raw["aa16"]
    rc, out, err = cli("data", "extract", path, "--fs", fs, "--channels", 32, "--gain-uv", 0.5, "--out", tmp_path / "o.npz")
    lines = [line for line in err.splitlines() if line.startswith("hwcae: warning:") and "interleaved" in line]
    assert len(lines) == 1 and "look like 16 interleaved channels, not --channels 32" in lines[0] and "Traceback" not in err


# -- coincident contacts in a recording's own metadata -----------------------------------------

@pytest.fixture(scope="module")
def np_gt():
    """16 channels on Neuropixels 1.0 electrodes 2..17 (tests/spikes/formats.py)."""
    return on_neuropixels(generate_recording({**draw_settings(scene("tiny"), 5000), "probe": "checker", "duration_s": 0.5}))


def imro_with(gt, channel: int, on: int) -> str:
    """The NP1.0 imroTbl with ``channel``'s entry put on electrode ``on`` (another channel's contact)."""
    head, *rows = re.findall(r"\([^()]*\)", spikeglx_meta(gt, 0)["~imroTbl"])
    rows[channel] = f"({on} 0 0 500 250 1)"
    return head + "".join(rows)


def coincident(gt, a: int, b: int):
    pos = gt.positions_um.copy()
    pos[b] = pos[a]
    return dataclasses.replace(gt, positions_um=pos)


def saved_si(gt, folder):
    """A SpikeInterface folder whose probe (probegroup.json) puts contacts 2 and 5 at one place
    (SpikeInterface refuses to save one, so the file is edited, as a user's script might)."""
    import json

    from spikeinterface.core import NumpyRecording

    rec = NumpyRecording(gt.noisy, gt.fs_hz)
    rec.set_channel_locations(gt.positions_um)
    rec.save(folder=folder)
    probes = json.loads((folder / "probegroup.json").read_text())
    pos = probes["probes"][0]["contact_positions"]
    pos[5] = pos[2]
    (folder / "probegroup.json").write_text(json.dumps(probes))
    return folder


CONTACTS = {  # name: (writer(gt, folder) -> recording path, words of the one line)
    "spikeglx-imro": (lambda gt, d: write_spikeglx(gt, d / "sg", meta={"~imroTbl": imro_with(gt, 5, 4)}),
                      ["hwcae_g0_t0.imec0.ap.meta", "the imroTbl puts channels 4 and 5 on the same contact (e4)"]),
    "nwb-rel-xy": (lambda gt, d: write_nwb(coincident(gt, 2, 5), d / "rec.nwb"), ["rec.nwb", "(16"]),
    "si-folder": (lambda gt, d: saved_si(gt, d / "si"), ["si", "(16"]),
}


@pytest.mark.parametrize("name", sorted(CONTACTS))
def test_coincident_contacts_in_the_metadata_are_one_line(name, np_gt, tmp_path, monkeypatch, capsys, refused):
    write, words = CONTACTS[name]
    path = write(np_gt, tmp_path)
    capsys.readouterr()  # the writers' own progress bars
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    line = refused(["data", "extract", path, "--out", "o.npz"], *words)
    # ours, or probeinterface's own refusal (this version refuses coincident positions when it builds a probe)
    assert "same contact" in line or "both at" in line or "must be unique" in line
    assert snapshot(tmp_path) == before


def test_the_positions_a_reader_gives_are_checked_like_a_geometry_file(np_gt, tmp_path, monkeypatch):
    """Whatever reader version lets coincident positions through, open_recording refuses them itself."""
    import spikeinterface.core as sc
    from spikeinterface.core import NumpyRecording

    from hwcae.errors import HwcaeError
    from hwcae.spikes.readers import open_recording

    rec = NumpyRecording(np_gt.noisy, np_gt.fs_hz)
    rec.set_property("location", coincident(np_gt, 2, 5).positions_um)  # no probe: SpikeInterface does not look
    monkeypatch.setattr(sc, "load", lambda path: rec)
    (tmp_path / "si").mkdir()
    with pytest.raises(HwcaeError, match=r"si: contacts 2 and 5 are both at \(16, 40\) um; 2 contacts share a position"):
        open_recording(tmp_path / "si", "si")


def test_a_reader_failing_without_a_message_is_still_one_line(np_gt, tmp_path, monkeypatch, refused):
    """neo / probeinterface raise bare assertions; the line used to be built from the message's first
    line (an IndexError traceback when there was none)."""
    import spikeinterface.extractors as se

    def bare(*a, **k):
        raise AssertionError()

    folder = write_spikeglx(np_gt, tmp_path / "sg")
    monkeypatch.setattr(se, "read_spikeglx", bare)
    refused(["data", "extract", folder, "--out", tmp_path / "o.npz"], "cannot read", "as spikeglx: AssertionError")


# -- Wave_Clus sampling rates ------------------------------------------------------------------

@pytest.mark.parametrize("interval, words", [(0.0, "must be a finite number > 0"), (-1.0, "must be a finite number > 0"),
                                             (1e-5, "must be between 1000 and 1e+06 Hz"), (5.0, "must be between"),
                                             ("fast", "must be a finite number > 0"), ([0.04, 0.05], "> 0")])
def test_a_waveclus_sampling_interval_out_of_range_is_one_line(interval, words, tmp_path, refused):
    p = tmp_path / "w.mat"
    scipy.io.savemat(p, {"data": np.zeros(1000), "spike_times": np.array([100.0, 400.0]), "samplingInterval": interval})
    before = snapshot(tmp_path)
    refused(["data", "mat", p, "--out", tmp_path / "o.npz"], "w.mat: the sampling rate (1000 / samplingInterval in ms)", words)
    assert snapshot(tmp_path) == before


def test_waveclus_rate_checks_in_the_api_too(tmp_path):
    from hwcae.errors import HwcaeError
    from hwcae.spikes.readers import read_waveclus_mat

    p = tmp_path / "w.mat"
    scipy.io.savemat(p, {"data": np.zeros(1000), "spike_times": np.array([100.0, 400.0])})
    for fs in (0.0, 50.0, 2e6, float("nan"), float("inf")):
        with pytest.raises(HwcaeError, match="--fs must"):
            read_waveclus_mat(p, fs_hz=fs)
    assert read_waveclus_mat(p).fs == 24000.0 and read_waveclus_mat(p, fs_hz=30000.0).fs == 30000.0
