import numpy as np
import pytest

from hwcae.errors import HwcaeError
from hwcae.spikes.spikeset import SpikeSet, load_spikes, save_spikes


def test_round_trip(tiny_set, tmp_path):
    p = save_spikes(tiny_set, tmp_path / "a.npz")
    back = load_spikes(p)
    np.testing.assert_array_equal(back.spikes, tiny_set.spikes)
    np.testing.assert_array_equal(back.clean, tiny_set.clean)
    np.testing.assert_array_equal(back.labels, tiny_set.labels)
    assert back.spikes.dtype == np.float32 and back.labels.dtype == np.int64


@pytest.mark.parametrize("arrays, message", [
    ({"spikes": np.zeros((3, 4, 32), np.float32)}, "shape"),
    ({"spikes": np.zeros((3, 64), np.float32)}, "shape"),
    ({"spikes": np.full((3, 4, 64), np.nan, np.float32)}, "NaN"),
    ({"spikes": np.zeros((3, 4, 64), np.int16)}, "floating"),
    ({"spikes": np.zeros((3, 4, 64), np.float32), "clean": np.zeros((2, 4, 64), np.float32)}, "2 spikes"),
    ({"spikes": np.zeros((3, 4, 64), np.float32), "labels": np.zeros(3, np.float32)}, "labels"),
    ({"spikes": np.zeros((3, 4, 64), np.float32), "fs": np.array(-1.0)}, "fs"),
    ({"clean": np.zeros((3, 4, 64), np.float32)}, "no 'spikes'"),
])
def test_bad_files_are_one_clear_line(tmp_path, arrays, message):
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)
    with pytest.raises(HwcaeError, match=message) as exc:
        load_spikes(p)
    assert "\n" not in str(exc.value)


def test_truncated_and_missing_files(tiny_npz, tmp_path):
    data = tiny_npz.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(HwcaeError):
        load_spikes(cut)
    with pytest.raises(HwcaeError, match="not found"):
        load_spikes(tmp_path / "nope.npz")


def test_save_is_atomic_and_keeps_old_file_on_failure(tiny_set, tmp_path, monkeypatch):
    p = save_spikes(tiny_set, tmp_path / "a.npz")
    before = p.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(RuntimeError):
        save_spikes(tiny_set, p)
    assert p.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["a.npz"]  # no temp file left


def test_subset_and_halves(tiny_set):
    a, b = tiny_set.halves()
    assert len(a) + len(b) == len(tiny_set)
    b = SpikeSet(b.spikes, b.clean, b.labels, 30000.0, b.recording)
    a = SpikeSet(a.spikes, a.clean, a.labels, 24000.0, a.recording)
    mixed = SpikeSet.concat([a, b]).fs
    assert isinstance(mixed, np.ndarray) and set(mixed) == {24000.0, 30000.0}
    assert SpikeSet.concat([a, a]).fs == 24000.0
