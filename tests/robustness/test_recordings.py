"""Raw recordings given to compress, data extract and adapt: every bad setting (sample type,
sampling rate, channel count, threshold, gain, chunk length, jobs) and every bad file (empty, too
short, not whole frames, coincident contacts) is one line before any work, and nothing is written.
``--dtype O`` used to read the samples as object pointers and die of SIGBUS."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.robustness.conftest import ROOT, snapshot

QAT = ROOT / "models/qat-w8a8.pt"
FS = 30000


def recording(n_frames: int = FS, channels: int = 4, seed: int = 0, dtype="<i2") -> np.ndarray:
    """Noise (SD 10 units) with a big spike every 20 ms on channel 1 (and smaller on its neighbours)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 10, (n_frames, channels))
    t = np.arange(64)
    shape = -180 * np.exp(-0.5 * ((t - 24) / 2.0) ** 2) + 45 * np.exp(-0.5 * ((t - 32) / 4.0) ** 2)
    for start in range(100, n_frames - 100, FS // 50):
        for c, w in zip(range(channels), (0.6, 1.0, 0.6, 0.3)):
            x[start:start + 64, c] += w * shape
    return x.astype(dtype)


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recording().tofile(tmp_path / "rec.bin")
    (tmp_path / "f.pt").write_bytes((ROOT / "models/float.pt").read_bytes())
    return tmp_path


def verbs():
    """Each verb reading rec.bin as a 4-channel raw recording at 30 kHz."""
    raw = ["rec.bin", "--fs", str(FS), "--channels", "4"]
    return {"compress": ["compress", *raw[:1], "o.hwc", "--checkpoint", QAT, *raw[1:]],
            "extract": ["data", "extract", *raw, "--out", "o.npz"],
            "adapt": ["adapt", *raw, "--from", "f.pt", "--out", "o.pt"]}


BAD = [("--dtype", v) for v in ("O", "object", "S4", "U2", "complex64", "bool", "V8", "i2,i2", "M8", "int128")] + \
      [("--fs", v) for v in ("100", "0", "-30000", "2e6", "inf", "nan", "fast")] + \
      [("--channels", v) for v in ("0", "-4", "1.5", "100000")] + \
      [("--threshold", v) for v in ("0", "-5", "nan", "inf")] + \
      [("--gain-uv", v) for v in ("0", "-0.195", "nan", "inf")] + \
      [("--chunk-s", v) for v in ("0", "-1", "nan", "inf", "1e305")]
CASES = [(verb, opt, v) for verb in ("compress", "extract", "adapt") for opt, v in BAD] + \
        [("compress", "--jobs", v) for v in ("0", "-2", "1.5")] + \
        [("adapt", opt, v) for opt, values in [("--seconds", ("0", "-1", "nan", "inf", "1e305")),
                                               ("--epochs", ("-1", "1.5", "1e9")), ("--pairs", ("99", "0", "nan")),
                                               ("--seed", ("-1", "4294967296"))] for v in values]


@pytest.mark.parametrize("verb, option, value", CASES, ids=[f"{v}{o}={x}" for v, o, x in CASES])
def test_bad_recording_setting_is_one_line(verb, option, value, work, refused):
    before = snapshot(work)
    line = refused([*verbs()[verb], f"{option}={value}"], option)
    assert "must" in line or "invalid" in line
    assert snapshot(work) == before


def _files(work):
    (work / "empty.bin").write_bytes(b"")
    recording(40).tofile(work / "short.bin")
    (work / "odd.bin").write_bytes(recording(1000).tobytes()[:-3])
    (work / "folder.bin").mkdir()
    np.savetxt(work / "same.csv", [[0, 0], [0, 20], [0, 40], [0, 20]], delimiter=",")
    np.savetxt(work / "three.csv", [[0, 0], [0, 20], [0, 40]], delimiter=",")
    import probeinterface

    probe = probeinterface.Probe(ndim=2, si_units="um")
    probe.set_contacts(positions=[[0, 0], [0, 20], [0, 40], [0, 60]], shapes="circle", shape_params={"radius": 5})
    probe.set_device_channel_indices([0, 1, 2, 3])
    probeinterface.write_probeinterface(work / "same.json", probe)
    text = json.loads((work / "same.json").read_text())
    text["probes"][0]["contact_positions"][1] = [0.0, 0.0]  # probeinterface would not write coincident contacts
    (work / "same.json").write_text(json.dumps(text))


FILES = [("empty.bin", [], "is empty (0 bytes)"), ("short.bin", [], "holds 40 frames"),
         ("odd.bin", [], "not a whole number of 4-channel int16 frames"), ("folder.bin", ["--format", "binary"], "is a folder"),
         ("rec.bin", ["--geometry", "same.csv"], "contacts 1 and 3 are both at (0, 20) um"),
         ("rec.bin", ["--geometry", "same.json"], "same.json"),  # probeinterface refuses it itself
         ("rec.bin", ["--geometry", "three.csv"], "expected 4 rows")]


@pytest.mark.parametrize("verb", ["compress", "extract", "adapt"])
@pytest.mark.parametrize("name, extra, words", FILES, ids=[f"{n}{''.join(e)}" for n, e, _ in FILES])
def test_bad_recording_file_is_one_line(verb, name, extra, words, work, refused):
    _files(work)
    before = snapshot(work)
    argv = [name if a == "rec.bin" else a for a in verbs()[verb]]
    refused([*argv, *extra], words)
    assert snapshot(work) == before


def test_the_library_refuses_object_samples_too(work):
    """open_recording (the API under every verb) checks the settings itself: no pointer is ever read."""
    from hwcae.errors import HwcaeError
    from hwcae.spikes.readers import open_recording

    for kw, words in [({"dtype": "O"}, "--dtype"), ({"dtype": np.dtype("O")}, "--dtype"), ({"fs_hz": float("inf")}, "--fs"),
                      ({"fs_hz": -1.0}, "--fs"), ({"channels": 0}, "--fs and --channels"), ({"channels": True}, "--channels"),
                      ({"gain_uv": -1.0}, "--gain-uv"), ({"gain_uv": float("nan")}, "--gain-uv")]:
        args = {"fs_hz": float(FS), "channels": 4, "dtype": "int16", "gain_uv": 1.0, **kw}
        with pytest.raises(HwcaeError, match=words):
            open_recording(work / "rec.bin", "binary", **args)


@pytest.mark.parametrize("dtype, arg", [("<f4", "float32"), (">i2", ">i2"), ("<u2", "uint16"), ("<i4", "int32")])
def test_every_allowed_sample_type_still_reads(dtype, arg, work, cli):
    x = recording(dtype="<f8")
    if dtype == "<u2":
        x = x + 32768
    np.asarray(x, dtype).tofile(work / "t.bin")
    rc, out, err = cli("data", "extract", "t.bin", "--fs", FS, "--channels", 4, "--dtype", arg, "--out", "t.npz")
    assert rc == 0, err
    with np.load(work / "t.npz") as z:
        assert len(z["spikes"]) >= 45  # the 49 spikes put in


def test_decompress_nwb_numbers_are_one_line(work, refused):
    (work / "x.hwc").write_bytes(b"HWC1")
    refused(["decompress", "x.hwc", "--checkpoint", "f.pt", "--out", "x.nwb", "--fs", "0"], "--fs")
    refused(["decompress", "x.hwc", "--checkpoint", "f.pt", "--out", "x.nwb", "--fs", "3e4", "--channels", "0"], "--channels")
