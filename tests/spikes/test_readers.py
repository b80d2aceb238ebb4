import numpy as np
import pytest
import scipy.io

from hwcae.errors import HwcaeError
from hwcae.spikes.detect import detect_peaks
from hwcae.spikes.readers import extract_from_recording, open_recording, read_waveclus_mat
from hwcae.spikes.spikeset import PEAK_SAMPLE
from hwcae.spikes.scene import draw_settings, scene
from hwcae.spikes.synth import generate_recording


def _waveclus(tmp_path, n=40, fs=24000.0):
    rng = np.random.default_rng(0)
    data = rng.normal(0, 0.05, 200_000)
    times = np.sort(rng.choice(np.arange(100, 199_000, 300), n, replace=False))
    shape = -np.exp(-0.5 * ((np.arange(30) - 8) / 2.0) ** 2)
    for t in times:
        data[t + 2: t + 32] += shape  # spike minimum 10 samples after the onset time
    p = tmp_path / "sim.mat"
    cell_t, cell_c = np.empty((1, 1), object), np.empty((1, 1), object)  # 1x1 cells, as Wave_Clus stores them
    cell_t[0, 0], cell_c[0, 0] = times.astype(float), (np.arange(n) % 3 + 1).astype(float)
    scipy.io.savemat(p, {"data": data, "spike_times": cell_t, "spike_class": cell_c,
                         "samplingInterval": 1000.0 / fs})
    return p, times


def test_waveclus_mat(tmp_path):
    p, times = _waveclus(tmp_path)
    s = read_waveclus_mat(p, uv_per_unit=100.0)
    assert len(s) == len(times) and s.fs == 24000.0
    assert np.mean(s.spikes[:, 0].argmin(1) == PEAK_SAMPLE) == 1.0
    np.testing.assert_array_equal(s.spikes[:, 0], s.spikes[:, 3])  # one channel fills all four rows
    assert s.spikes[:, 0, PEAK_SAMPLE].mean() < -90  # scaled to uV
    assert list(s.labels[:3]) == [1, 2, 3]


def test_waveclus_mat_bad(tmp_path):
    p = tmp_path / "x.mat"
    scipy.io.savemat(p, {"data": np.zeros(100)})
    with pytest.raises(HwcaeError, match="spike_times"):
        read_waveclus_mat(p)
    p.write_bytes(b"not a mat file")
    with pytest.raises(HwcaeError, match="not a readable"):
        read_waveclus_mat(p)


@pytest.fixture(scope="module")
def gt_recording():
    gt = generate_recording(draw_settings(scene("tiny"), 5000))
    return gt.recording(), gt


def test_detection_finds_ground_truth(gt_recording):
    rec, gt = gt_recording
    frames, chans = detect_peaks(rec.get_traces(), rec.sampling_frequency, rec.get_channel_locations())
    big = gt.truth["frames"][gt.truth["amplitude_uv"] > 8 * gt.settings["noise_uv"]]
    hit = np.abs(big[:, None] - frames[None, :]).min(axis=1) <= 3
    assert len(big) > 50 and hit.mean() > 0.95, hit.mean()  # recall on clearly detectable spikes


def test_extract_from_binary_file(gt_recording, tmp_path):
    rec, _ = gt_recording
    raw = np.clip(np.rint(rec.get_traces() / 0.5), -32768, 32767).astype(np.int16)
    p = tmp_path / "rec.bin"
    raw.tofile(p)
    r = open_recording(p, "binary", fs_hz=rec.sampling_frequency, channels=rec.get_num_channels(), gain_uv=0.5)
    s, frames, chans = extract_from_recording(r, bandpass=None, chunk_s=1.0)
    assert len(s) > 50
    assert np.all(np.diff(frames) >= 0) and len(np.unique(frames * 1000 + chans)) == len(frames)
    assert np.mean(s.spikes[:, 0].argmin(1) == PEAK_SAMPLE) > 0.95


def test_extract_chunking_loses_and_doubles_nothing(gt_recording):
    rec, _ = gt_recording
    _, f1, c1 = extract_from_recording(rec, bandpass=None, chunk_s=100.0)
    _, f2, c2 = extract_from_recording(rec, bandpass=None, chunk_s=0.37)
    assert set(zip(f1, c1)) == set(zip(f2, c2))


def test_extract_from_spikeinterface_folder(gt_recording, tmp_path):
    rec, _ = gt_recording
    rec.save(folder=tmp_path / "si", verbose=False)
    s, _, _ = extract_from_recording(open_recording(tmp_path / "si", "si"), bandpass=(300, 6000))
    assert len(s) > 50


def test_open_recording_errors(tmp_path):
    with pytest.raises(HwcaeError, match="not found"):
        open_recording(tmp_path / "none", "binary")
    (tmp_path / "x.bin").write_bytes(b"\0" * 10)
    with pytest.raises(HwcaeError, match="--fs"):
        open_recording(tmp_path / "x.bin", "binary")
    with pytest.raises(HwcaeError, match="unknown format"):
        open_recording(tmp_path / "x.bin", "plexon")
