"""Every recording format the README names, read from a genuine file of that format (issue 27).

One generated ground-truth recording (the ``tiny`` scene, seed 5000, on the ``checker`` layout, which
is Neuropixels 1.0's staggered pattern: see ``formats.on_neuropixels``) is written as raw binary, a
SpikeGLX folder (NP1.0 .ap.bin + .ap.meta with its sync channel), an Open Ephys binary folder
(structure.oebin + continuous.dat, GUI 0.6 layout) and an NWB file (pynwb). Each is read the way a
user's is: ``open_recording`` with the format ``guess_format`` picks, then ``extract_from_recording``
(band-pass, detect, align, cut). Against the truth: detection recall and precision, and the SNDR of
the cut snippets vs the clean trace cut at the same frames and truth channels (band-passed alike)
both as cut (no model: only the noise separates them) and after the tiny test model encodes and
decodes them. Every format must match the raw-binary path within noise, take its geometry (SpikeGLX,
NWB) and its uV scale from the file, and end a bad file in one clear error line.
"""
import contextlib
import io
import sys

import numpy as np
import pytest

from hwcae.cli import main
from hwcae.errors import HwcaeError
from hwcae.spikes.readers import guess_format, open_recording, recording_positions
from hwcae.spikes.scene import draw_settings, scene
from hwcae.spikes.synth import generate_recording
from tests.spikes.formats import (NP1_ELECTRODES, on_neuropixels, score, write_binary, write_nwb, write_openephys,
                                  write_spikeglx)

SEED = 5000
EXIT_ERROR = 2  # hwcae.cli.main: a user-facing error (one line on stderr)
FORMATS = ("binary", "spikeglx", "openephys", "nwb")


@pytest.fixture(scope="module")
def gt():
    return on_neuropixels(generate_recording({**draw_settings(scene("tiny"), SEED), "probe": "checker"}))


@pytest.fixture(scope="module")
def files(gt, tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    binary, geometry = write_binary(gt, root / "raw")
    return {"binary": binary, "geometry": geometry, "spikeglx": write_spikeglx(gt, root / "spikeglx"),
            "openephys": write_openephys(gt, root / "openephys"), "nwb": write_nwb(gt, root / "rec.nwb")}


def read(path, gt, geometry=None):
    """``open_recording`` as the CLI calls it with ``--format auto``; raw binary gets --fs --channels
    --gain-uv, and (like Open Ephys binary, which has no positions) the geometry file when given."""
    fmt = guess_format(path)
    kw = dict(fs_hz=gt.fs_hz, channels=gt.noisy.shape[1], gain_uv=0.5) if fmt == "binary" else {}
    return open_recording(path, fmt, geometry=geometry, **kw)


def read_and_score(path, gt, geometry=None, codec=None) -> dict:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rec = read(path, gt, geometry)
        out = score(rec, gt, codec)
        out["positions"] = recording_positions(rec)
    return {**out, "stderr": err.getvalue()}


@pytest.fixture(scope="module")
def scores(gt, files, tiny_checkpoint):
    from hwcae.api import load_model

    codec = load_model(tiny_checkpoint)
    geom = {"binary": files["geometry"], "openephys": files["geometry"]}
    out = {f: read_and_score(files[f], gt, geom.get(f), codec) for f in FORMATS}
    print("\nformat     detections  recall (of truth >= 5 SD)  precision  SNDR cut (dB)  SNDR decoded (dB)  scale",
          file=sys.__stderr__)
    for f, m in out.items():
        print(f"{f:10s} {m['detections']:10d}  {m['recall']:.3f} (of {m['truth_5sd']})         {m['precision']:.3f}"
              f"      {m['sndr_snippet_db']:6.2f}         {m['sndr_decoded_db']:6.2f}          {m['scale']:.4f}", file=sys.__stderr__)
    return out


def test_writers_make_the_formats_genuine(gt, files):
    """The SpikeGLX folder is what SpikeGLX names and the NP1000 probe it describes is where the truth is."""
    from probeinterface.neuropixels_tools import build_neuropixels_probe

    np.testing.assert_array_equal(build_neuropixels_probe("NP1000").contact_positions[NP1_ELECTRODES], gt.positions_um)
    assert sorted(p.name for p in files["spikeglx"].iterdir()) == ["hwcae_g0_t0.imec0.ap.bin", "hwcae_g0_t0.imec0.ap.meta"]
    rec = files["openephys"] / "Record Node 101" / "experiment1" / "recording1"
    assert (rec / "structure.oebin").is_file() and (rec / "continuous" / "Acquisition_Board-100.Rhythm Data" / "sample_numbers.npy").is_file()


@pytest.mark.parametrize("fmt", FORMATS)
def test_auto_detects_the_format(files, fmt):
    assert guess_format(files[fmt]) == fmt


def test_raw_binary_finds_the_truth(scores):
    m = scores["binary"]
    assert m["recall"] > 0.9 and m["precision"] > 0.95 and m["sndr_snippet_db"] > 12 and abs(m["scale"] - 1) < 0.01, m


def _differences(m: dict, ref: dict) -> list[str]:
    """How a format's figures differ from the raw-binary path's beyond noise (quantisation steps of the
    formats differ: 0.195 to 2.34 uV per bit against 8.9 uV of noise)."""
    bad = [k for k in ("recall", "precision") if abs(m[k] - ref[k]) > 0.02]
    bad += [k for k in ("sndr_snippet_db", "sndr_decoded_db") if k in m and abs(m[k] - ref[k]) > 0.3]
    return bad + (["scale"] if abs(m["scale"] - 1.0) > 0.01 else [])


@pytest.mark.parametrize("fmt", ["spikeglx", "openephys", "nwb"])
def test_each_format_reads_as_raw_binary_does(scores, fmt):
    assert not _differences(scores[fmt], scores["binary"]), (scores[fmt], scores["binary"])


@pytest.mark.parametrize("fmt", ["spikeglx", "nwb"])
def test_geometry_comes_from_the_file(scores, gt, fmt):
    assert "no probe geometry" not in scores[fmt]["stderr"]
    np.testing.assert_array_equal(scores[fmt]["positions"], gt.positions_um)


@pytest.mark.parametrize("fmt", ["spikeglx", "openephys", "nwb"])
def test_data_extract_reads_each_format(scores, files, tmp_path, capsys, fmt):
    """The command line, --format auto: the same spikes the API path found."""
    extra = ["--geometry", str(files["geometry"])] if fmt == "openephys" else []
    assert main(["data", "extract", str(files[fmt]), "--out", str(tmp_path / "s.npz"), "--chunk-s", "1", *extra]) == 0
    with np.load(tmp_path / "s.npz") as z:
        assert len(z["spikes"]) == scores[fmt]["detections"]
    assert "no probe geometry" not in capsys.readouterr().err


def test_a_file_without_positions_says_so(gt, tmp_path):
    m = read_and_score(write_nwb(gt, tmp_path / "flat.nwb", geometry=False), gt)
    assert "no probe geometry" in m["stderr"]


WRONG_GAIN = {  # the samples keep their true scale; the metadata claims half the uV per bit
    "spikeglx": lambda gt, p: write_spikeglx(gt, p, meta={"~imroTbl": "(0,384)" + "".join(f"({c} 0 0 1000 250 1)" for c in range(384))}),
    "openephys": lambda gt, p: write_openephys(gt, p, bit_volts=0.195 / 2),
    "nwb": lambda gt, p: write_nwb(gt, p.with_suffix(".nwb"), conversion=0.25e-6),
}


@pytest.mark.parametrize("fmt", sorted(WRONG_GAIN))
def test_a_wrong_gain_in_the_metadata_is_caught(scores, gt, files, tmp_path, fmt):
    """Detection is scale-free (thresholds in noise SDs), so a wrong gain passes it unnoticed (the
    commonest silent error); the uV comparison with the clean trace is what catches it."""
    m = read_and_score(WRONG_GAIN[fmt](gt, tmp_path / fmt), gt, files["geometry"] if fmt == "openephys" else None)
    assert abs(m["recall"] - scores[fmt]["recall"]) < 0.02  # detection alone would not see it
    assert abs(m["scale"] - 0.5) < 0.01 and m["sndr_snippet_db"] < 8.0, m
    assert "scale" in _differences(m, scores["binary"])


IMRO_ZERO = "(0,384)" + "".join(f"({c} 0 0 0 250 1)" for c in range(384))
BAD = {  # name: (format, writer, what the one line must say)
    "spikeglx-truncated": ("spikeglx", lambda gt, p: write_spikeglx(gt, p, truncate=34 * 1000), "not the 3,264,000 its metadata says"),
    "spikeglx-half-frame": ("spikeglx", lambda gt, p: write_spikeglx(gt, p, truncate=7, meta={"fileSizeBytes": None}),
                            "not a whole number of frames"),
    "spikeglx-no-imroTbl": ("spikeglx", lambda gt, p: write_spikeglx(gt, p, meta={"~imroTbl": None}), r"ap\.meta: no 'imroTbl' entry"),
    "spikeglx-no-imAiRangeMax": ("spikeglx", lambda gt, p: write_spikeglx(gt, p, meta={"imAiRangeMax": None}), "no 'imAiRangeMax' entry"),
    "spikeglx-no-imSampRate": ("spikeglx", lambda gt, p: write_spikeglx(gt, p, meta={"imSampRate": None}), "no 'imSampRate' entry"),
    "spikeglx-no-nSavedChans": ("spikeglx", lambda gt, p: write_spikeglx(gt, p, meta={"nSavedChans": None}), "no 'nSavedChans' entry"),
    "spikeglx-zero-ap-gain": ("spikeglx", lambda gt, p: write_spikeglx(gt, p, meta={"~imroTbl": IMRO_ZERO}), r"ap\.meta: a gain of zero in the imroTbl"),
    "spikeglx-zero-range": ("spikeglx", lambda gt, p: write_spikeglx(gt, p, meta={"imAiRangeMax": "0"}), r"ap\.meta: a gain of zero or NaN .* 16 of 16"),
    "openephys-truncated": ("openephys", lambda gt, p: write_openephys(gt, p, truncate=32 * 100), "continuous.dat: 3,068,800 bytes is not the 3,072,000"),
    "openephys-no-bit_volts": ("openephys", lambda gt, p: write_openephys(gt, p, drop_key="bit_volts"), r"structure\.oebin: no 'bit_volts' entry"),
    "openephys-zero-bit_volts": ("openephys", lambda gt, p: write_openephys(gt, p, bit_volts=0.0), r"structure\.oebin: a gain of zero .*bit_volts"),
    "nwb-truncated": ("nwb", lambda gt, p: _truncated(write_nwb(gt, p.with_suffix(".nwb"))), r"cannot read .* as nwb: .*truncated file"),
    "nwb-no-series": ("nwb", lambda gt, p: write_nwb(gt, p.with_suffix(".nwb"), series=False), "it has no ElectricalSeries"),
    "nwb-no-conversion": ("nwb", lambda gt, p: _drop_conversion(write_nwb(gt, p.with_suffix(".nwb"))), r"\.nwb: no 'conversion' entry"),
    "nwb-zero-conversion": ("nwb", lambda gt, p: write_nwb(gt, p.with_suffix(".nwb"), conversion=0.0), r"\.nwb: a gain of zero .* 16 of 16"),
    "nwb-zero-channel_conversion": ("nwb", lambda gt, p: write_nwb(gt, p.with_suffix(".nwb"), channel_conversion=np.r_[np.ones(15), 0.0]),
                                    r"\.nwb: a gain of zero or NaN \(conversion x channel_conversion\) on 1 of 16"),
}


def _truncated(path):
    b = path.read_bytes()
    path.write_bytes(b[: len(b) // 2])
    return path


def _drop_conversion(path):
    import h5py

    with h5py.File(path, "r+") as f:
        del f["acquisition/ElectricalSeries/data"].attrs["conversion"]
    return path


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_file_ends_in_one_clear_line(gt, tmp_path, capsys, case):
    fmt, write, expect = BAD[case]
    path = write(gt, tmp_path / "bad")
    with pytest.raises(HwcaeError, match=expect):
        open_recording(path, fmt)
    capsys.readouterr()
    assert main(["data", "extract", str(path), "--out", str(tmp_path / "s.npz")]) == EXIT_ERROR  # --format auto
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hwcae: error: ") and not (tmp_path / "s.npz").exists(), err


def test_a_reader_that_cannot_load_names_the_missing_package(files, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)  # as if h5py were not installed
    with pytest.raises(HwcaeError, match="reading nwb needs the Python package h5py"):
        open_recording(files["nwb"], "nwb")


def test_two_probes_in_one_spikeglx_folder_is_one_line(gt, tmp_path):
    write_spikeglx(gt, tmp_path)
    for p in tmp_path.iterdir():  # the same data again as a second probe
        (tmp_path / p.name.replace("imec0", "imec1")).write_bytes(p.read_bytes())
    meta = tmp_path / "hwcae_g0_t0.imec1.ap.meta"
    meta.write_text(meta.read_text().replace("imec0", "imec1"))
    with pytest.raises(HwcaeError, match="2 neural streams among .*imec0.ap.*imec1.ap"):
        open_recording(tmp_path, "spikeglx")


# -- decompress --format nwb -------------------------------------------------------------------

SUBJECT = ["subject_id=m1", "species=Mus musculus", "sex=M", "age=P90D"]


def test_decompress_to_nwb_round_trips_and_passes_nwbinspector(gt, files, tiny_checkpoint, scores, tmp_path):
    """Spikes cut from the NWB recording are compressed, decompressed to NWB, read back with pynwb:
    the same times, channels and waveforms as the API's decode, the model hash and compression ratio
    in the file, each spike's 4 electrodes named from the geometry, and no CRITICAL (or worse)
    nwbinspector finding (default checks and DANDI's)."""
    import pynwb
    from nwbinspector import Importance, inspect_nwbfile, load_config

    from hwcae.api import compress, load_model
    from hwcae.codec.bitstream import cr_bytes
    from hwcae.spikes.readers import extract_from_recording
    from hwcae.spikes.snippets import neighbour_table
    from hwcae.stream.nwb_out import read_decoded_nwb

    codec = load_model(tiny_checkpoint)
    s, frames, chans = extract_from_recording(read(files["nwb"], gt), chunk_s=1.0)
    size = compress(codec, s.spikes, tmp_path / "r.hwc", times=frames, channels=chans)
    out = tmp_path / "r.nwb"
    args = ["decompress", str(tmp_path / "r.hwc"), "--checkpoint", str(tiny_checkpoint), "--out", str(out)]
    assert main(args) == EXIT_ERROR and not out.exists()  # no --fs: times cannot become seconds
    assert main(args + ["--fs", str(gt.fs_hz), "--geometry", str(files["geometry"]), "--subject", *SUBJECT]) == 0
    r = read_decoded_nwb(out)
    np.testing.assert_allclose(r["spikes"], codec.decode(codec.encode(s.spikes)), atol=1e-3)
    np.testing.assert_array_equal(np.rint(r["times_s"] * gt.fs_hz).astype(np.int64), frames)
    np.testing.assert_array_equal(r["channels"], chans)
    np.testing.assert_array_equal(r["electrodes"], neighbour_table(gt.positions_um)[chans])
    assert r["meta"]["model_hash"] == codec.hash and r["meta"]["compression_ratio"] == pytest.approx(cr_bytes(len(s), size), abs=1e-3)
    with pynwb.NWBHDF5IO(str(out), "r") as io_:
        nwb = io_.read()
        np.testing.assert_array_equal(nwb.electrodes["rel_y"].data[:], gt.positions_um[:, 1])
        assert nwb.subject.subject_id == "m1"
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]  # written atomically, nothing left behind
    for config in (None, load_config("dandi")):
        found = [m for m in inspect_nwbfile(nwbfile_path=str(out), config=config) if m.importance.value >= Importance.CRITICAL.value]
        assert not found, [(m.importance.name, m.check_function_name, m.message) for m in found]


def test_decompress_to_nwb_without_pynwb_is_one_line(files, gt, tiny_checkpoint, tmp_path, monkeypatch, capsys):
    from hwcae.api import compress, load_model

    compress(load_model(tiny_checkpoint), np.zeros((3, 4, 64), np.float32), tmp_path / "z.hwc")
    monkeypatch.setitem(sys.modules, "pynwb", None)
    args = ["decompress", str(tmp_path / "z.hwc"), "--checkpoint", str(tiny_checkpoint), "--out", str(tmp_path / "z.nwb"),
            "--fs", "24000"]
    assert main(args) == EXIT_ERROR
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs the Python package pynwb" in err[0], err
    assert not (tmp_path / "z.nwb").exists()
