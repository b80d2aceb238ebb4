"""Alignment conventions: sets cut with the trough elsewhere than sample 24 are found and realigned."""
import numpy as np
import pytest

from hwcae.cli import main
from hwcae.spikes.align import align_spike_set, measure, realign
from hwcae.spikes.detect import detect_peaks
from hwcae.spikes.scene import draw_settings, scene
from hwcae.spikes.snippets import cut_snippets, inside, neighbour_table
from hwcae.spikes.spikeset import PEAK_SAMPLE, SpikeSet, save_spikes
from hwcae.spikes.synth import generate_recording


@pytest.fixture(scope="module")
def cuts():
    """The same detected spikes cut with the trough at sample 24 and at sample 20 (Wave_Clus' convention)."""
    gt = generate_recording(draw_settings(scene("tiny"), 5000))
    f, c = detect_peaks(gt.noisy, gt.fs_hz, gt.positions_um)
    ok = inside(f - 8, len(gt.noisy)) & inside(f + 8, len(gt.noisy))
    f, ch = f[ok], neighbour_table(gt.positions_um)[c[ok]]

    def cut(at):
        return SpikeSet(cut_snippets(gt.noisy, f + PEAK_SAMPLE - at, ch), cut_snippets(gt.clean, f + PEAK_SAMPLE - at, ch))

    return cut(24), cut(20)


def test_a_set_at_24_is_left_exactly_as_it_is(cuts, tiny_set):
    at24, _ = cuts
    for s in (at24, tiny_set):
        assert measure(s.spikes).aligned
        assert align_spike_set(s) is s


def test_a_set_at_20_is_found_and_realigned(cuts):
    at24, at20 = cuts
    m = measure(at20.spikes)
    assert m.median == 20 and not m.aligned
    lines = []
    out = align_spike_set(at20, note=lines.append)
    assert len(lines) == 1 and "sample 20" in lines[0] and "--no-align" in lines[0]
    assert np.mean(out.spikes[:, 0].argmin(1) == PEAK_SAMPLE) > 0.97
    # the realigned spikes are the 24-cut ones but for the first 4 samples (the edge value repeated)
    same = out.spikes[:, 0].argmin(1) == PEAK_SAMPLE
    np.testing.assert_array_equal(out.spikes[same, :, 4:], at24.spikes[same, :, 4:])
    np.testing.assert_array_equal(out.clean[same, :, 4:], at24.clean[same, :, 4:])
    assert np.all(out.spikes[same, :, :4] == out.spikes[same, :, 4:5])
    assert align_spike_set(at20, enabled=False) is at20


def test_mixed_offsets_are_realigned_per_spike(cuts):
    at24, at20 = cuts
    n = len(at24) // 2
    mixed = SpikeSet(np.concatenate([at24.spikes[:n], at20.spikes[n:]]))
    assert not measure(mixed.spikes).aligned
    out, shifts = realign(mixed)
    assert np.mean(shifts[:n] == 0) > 0.95 and np.mean(shifts[n:] == 4) > 0.95
    assert np.mean(out.spikes[:, 0].argmin(1) == PEAK_SAMPLE) > 0.97


def test_eval_scores_both_cuts_alike(cuts, tiny_checkpoint, tmp_path, capsys):
    """Through the CLI, a set cut at 20 is realigned on load and scores within 0.3 dB of the 24 cut."""
    import json

    at24, at20 = cuts
    res = {}
    for name, s in (("a24", at24), ("a20", at20)):
        save_spikes(s, tmp_path / f"{name}.npz")
        assert main(["eval", "--data", str(tmp_path / f"{name}.npz"), "--checkpoint", str(tiny_checkpoint),
                     "--json", str(tmp_path / f"{name}.json")]) == 0
        res[name] = json.loads((tmp_path / f"{name}.json").read_text())["sndr_clean_db_mean"]
    err = capsys.readouterr().err
    assert err.count("realigned") == 1
    assert abs(res["a24"] - res["a20"]) < 0.3, res
    assert main(["eval", "--data", str(tmp_path / "a20.npz"), "--checkpoint", str(tiny_checkpoint), "--no-align",
                 "--json", str(tmp_path / "raw.json")]) == 0
    kept = json.loads((tmp_path / "raw.json").read_text())["sndr_clean_db_mean"]
    assert "kept as they are" in capsys.readouterr().err
    assert kept < res["a24"] - 0.3  # the misaligned set, left as it is, scores worse
