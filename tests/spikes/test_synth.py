import numpy as np

from hwcae.spikes.spikeset import PEAK_SAMPLE
from hwcae.spikes.synth import generate_spike_set, presets, recording_settings, snippets_from_recording


def test_generator_is_deterministic(tiny_set):
    again = generate_spike_set("tiny")
    np.testing.assert_array_equal(tiny_set.spikes, again.spikes)
    np.testing.assert_array_equal(tiny_set.labels, again.labels)


def test_clean_twin_differs_by_noise_only(tiny_set):
    settings = recording_settings(presets()["tiny"], presets()["tiny"]["seeds"][0])
    s = snippets_from_recording(settings)
    noise = s.spikes - s.clean
    # the residual is the generator's noise: its SD matches the recording's noise level
    assert abs(noise.std() - settings["noise_uv"]) < 0.15 * settings["noise_uv"]
    # and it is not correlated with the waveform
    assert abs(np.corrcoef(noise.ravel(), s.clean.ravel())[0, 1]) < 0.05


def test_snippets_are_aligned_on_best_channel(tiny_set):
    peak = tiny_set.clean[:, 0, :].argmin(axis=1)
    assert np.mean(peak == PEAK_SAMPLE) > 0.95  # the rest overlap a larger spike of another unit
    local = tiny_set.clean[:, 0, PEAK_SAMPLE - 3: PEAK_SAMPLE + 4].argmin(axis=1)
    assert np.mean(local == 3) > 0.99  # its own trough sits at PEAK_SAMPLE (but for a few overlaps)
    # channel 0 is the best channel: its trough is the deepest of the four
    # (near-equal neighbours and overlapping spikes make a few exceptions)
    assert np.mean(tiny_set.clean[:, 0].min(1) <= tiny_set.clean[:, 1:].min(2).min(1) + 1.0) > 0.9


def test_splits_use_disjoint_recordings():
    p = presets()
    spans = {name: set(range(*p[name]["seeds"])) for name in ("train", "val", "test", "unseen")}
    names = list(spans)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not spans[a] & spans[b], (a, b)
    assert set(p["unseen"]["fs_hz"]).isdisjoint(p["train"]["fs_hz"])
    assert set(p["unseen"]["probe"]).isdisjoint(p["train"]["probe"])
    assert min(p["unseen"]["noise_uv"]) >= max(p["train"]["noise_uv"])
