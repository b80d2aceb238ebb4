"""hwcae adapt: no clean waveform on the path, levels change only what they may, calibrated
designs stay bit-exact, and the recording round trip end to end."""
import numpy as np
import pytest
import torch

from hwcae.cli import main
from hwcae.model.checkpoint import load_checkpoint
from hwcae.spikes.spikeset import SpikeSet, save_spikes


@pytest.fixture(scope="module")
def calib_npz(tiny_set, tmp_path_factory):
    """The tiny set twice: with a garbage clean twin and with none (adapt must not tell them apart)."""
    d = tmp_path_factory.mktemp("adapt")
    garbage = np.random.default_rng(0).normal(0, 1e3, tiny_set.spikes.shape).astype(np.float32)
    a = save_spikes(SpikeSet(tiny_set.spikes, clean=garbage), d / "with_garbage_clean.npz")
    b = save_spikes(SpikeSet(tiny_set.spikes), d / "noisy_only.npz")
    return a, b


def _adapt(src, ckpt, out, *extra):
    assert main(["adapt", str(src), "--from", str(ckpt), "--out", str(out), "--epochs", "1", "--pairs", "3000", *extra]) == 0
    return load_checkpoint(out)


def test_no_clean_twin_is_read(calib_npz, tiny_qat, tmp_path, capsys):
    a = _adapt(calib_npz[0], tiny_qat, tmp_path / "a.pt", "--level", "all")
    assert "ignores it" in capsys.readouterr().err
    b = _adapt(calib_npz[1], tiny_qat, tmp_path / "b.pt", "--level", "all")
    assert a["content_hash"] == b["content_hash"] and a["kind"] == "qat"
    assert a["adapt"]["level"] == "all" and a["adapt"]["input_sha256"] == b["adapt"]["input_sha256"]


@pytest.mark.parametrize("which", ["tiny_checkpoint", "tiny_qat"])
def test_decoder_level_leaves_encoder_and_codebook_bit_identical(which, calib_npz, tmp_path, request):
    src = request.getfixturevalue(which)
    before = load_checkpoint(src)["state_dict"]
    after = _adapt(calib_npz[1], src, tmp_path / "d.pt")["state_dict"]
    chip = [k for k in before if not k.startswith("decoder.")]
    assert chip and all(torch.equal(before[k], after[k]) for k in chip)
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("decoder."))


def test_codebook_level_changes_only_the_codebook_on_chip(calib_npz, tiny_qat, tmp_path):
    before = load_checkpoint(tiny_qat)["state_dict"]
    after = _adapt(calib_npz[1], tiny_qat, tmp_path / "c.pt", "--level", "codebook")["state_dict"]
    changed = {k for k in before if not k.startswith("decoder.") and not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("encoder.score") for k in changed), changed


def test_bad_input_is_one_line(calib_npz, tiny_qat, tiny_set, tmp_path, capsys):
    few = save_spikes(tiny_set.subset(slice(0, 100)), tmp_path / "few.npz")
    assert main(["adapt", str(few), "--from", str(tiny_qat), "--out", str(tmp_path / "x.pt")]) == 2
    assert "at least 500 spikes" in capsys.readouterr().err
    (tmp_path / "x.pt").write_bytes(b"")
    assert main(["adapt", str(calib_npz[1]), "--from", str(tiny_qat), "--out", str(tmp_path / "x.pt")]) == 2
    assert "exists" in capsys.readouterr().err and (tmp_path / "x.pt").read_bytes() == b""


@pytest.mark.timeout(900)
def test_calibrated_design_is_bit_exact_in_c_simulation(calib_npz, tiny_qat, tiny_set, tmp_path):
    from hwcae.verify.design import all_exact, verify_design

    cal = tmp_path / "cal.pt"
    _adapt(calib_npz[1], tiny_qat, cal, "--level", "all")
    report = verify_design(cal, tiny_set.spikes[:200], out_root=tmp_path / "hls", qonnx_spikes=64,
                           progress=lambda *_: None)
    assert all_exact(report) and {"vitis", "catapult"} <= set(report)


def test_recording_end_to_end(tiny_qat, tmp_path):
    """adapt on a generated recording's first half, compress it all, score the second half's spikes
    against the ground truth: detection, bits per spike, SNDR vs clean beside the generic design."""
    from hwcae.metrics import sndr_db
    from hwcae.spikes.scene import draw_settings, scene
    from hwcae.spikes.snippets import cut_snippets, neighbour_table
    from hwcae.spikes.synth import generate_recording, write_raw_recording

    gt = generate_recording({**draw_settings(scene("tiny"), 5003), "duration_s": 30.0})
    rec = gt.recording()
    path = write_raw_recording(rec, tmp_path / "rec.bin", gain_uv=0.5, chunk_s=5.0)
    np.savetxt(tmp_path / "geom.csv", rec.get_channel_locations(), delimiter=",")
    fmt = ["--fs", str(rec.sampling_frequency), "--channels", str(rec.get_num_channels()), "--gain-uv", "0.5",
           "--geometry", str(tmp_path / "geom.csv"), "--no-filter"]
    half_s = 15.0
    cal = _adapt(path, tiny_qat, tmp_path / "cal.pt", "--seconds", str(half_s), *fmt)
    assert cal["adapt"]["seconds_used"] == pytest.approx(half_s, abs=0.01) and cal["adapt"]["spikes"] >= 500
    table = neighbour_table(rec.get_channel_locations())
    clean = gt.recording("clean").get_traces().astype(np.float32)
    frames = gt.truth["frames"][gt.truth["frames"] >= half_s * rec.sampling_frequency]
    out = {}
    for name, ckpt in (("generic", tiny_qat), ("calibrated", tmp_path / "cal.pt")):
        assert main(["compress", str(path), str(tmp_path / f"{name}.hwc"), "--checkpoint", str(ckpt), *fmt]) == 0
        assert main(["decompress", str(tmp_path / f"{name}.hwc"), "--checkpoint", str(ckpt),
                     "--out", str(tmp_path / f"{name}.npz")]) == 0
        d = np.load(tmp_path / f"{name}.npz")
        late = d["times"] >= half_s * rec.sampling_frequency
        t, c = d["times"][late], d["channels"][late]
        precision = np.mean(np.abs(t[:, None] - gt.truth["frames"][None, :]).min(axis=1) <= 10)
        big = frames[gt.truth["amplitude_uv"][gt.truth["frames"] >= half_s * rec.sampling_frequency]
                     > 8 * gt.settings["noise_uv"]]
        recall = np.mean(np.abs(big[:, None] - t[None, :]).min(axis=1) <= 10)
        sndr = float(np.mean(sndr_db(cut_snippets(clean, t, table[c]), d["spikes"][late])))
        bits = (tmp_path / f"{name}.hwc").stat().st_size * 8 / len(d["times"])
        out[name] = (recall, precision, sndr, bits)
    assert out["calibrated"][0] > 0.95 and out["calibrated"][1] > 0.95, out
    assert out["calibrated"][2] > out["generic"][2] - 0.5, out  # tiny model, 1 epoch: no worse than generic
    assert out["calibrated"][3] < 4096 / 8, out  # compresses more than 8x, every byte counted


@pytest.mark.parametrize("level, calls", [("decoder", 0), ("codebook", 1), ("all", 3)])
def test_the_codebook_follows_the_encoder_only_at_level_all(level, calls, tiny_set, tiny_checkpoint, monkeypatch):
    """Level ``all``: one Lloyd refit at the start, then LLOYD_PER_EPOCH iterations before each epoch
    (the encoder moves; eval mode freezes the EMA codebook); ``codebook``: the start only."""
    import hwcae.adapt.calibrate as cal

    seen, real = [], cal.refit_codebook
    monkeypatch.setattr(cal, "refit_codebook", lambda m, x, iters=10: (seen.append(iters), real(m, x, iters))[1])
    cal.adapt(load_checkpoint(tiny_checkpoint), tiny_set.spikes, level=level, epochs=2, n_pairs=2000, progress=False)
    assert len(seen) == calls and seen[1:] == [cal.LLOYD_PER_EPOCH] * (calls - 1)
