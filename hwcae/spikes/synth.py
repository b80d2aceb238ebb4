"""Built-in synthetic ground truth (no downloads): recordings generated from a scene, spikes cut the
way a recorder cuts them.

One recording: contact positions from the scene's probe layout; unit locations and templates from
SpikeInterface's generator (``generate_unit_locations``, ``generate_templates``) or from the
biophysical simulator (:mod:`hwcae.spikes.biophys`); spike trains with bursts
(:mod:`hwcae.spikes.trains`), or as several current sources each (:mod:`hwcae.spikes.multisource`); drift as a unit's template moving along the probe in steps; the clean
trace is the templates injected into silence (``InjectTemplatesRecording``) and the noisy trace
adds white or coloured, channel-correlated noise (:mod:`hwcae.spikes.noise`).

Spikes are cut as a chip would cut them: threshold detection on the *noisy* trace (the same
detector as ``hwcae data extract``), aligned on the noisy trough, the 4 nearest contacts. Each
detection is matched to the ground-truth spike that explains it; the clean twin is the clean trace
cut at the same place (for scoring only: the cutting never looks at it). Detections of noise alone
are dropped (counted in the statistics); spikes the detector misses are not there, as on a chip.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import numpy as np

from hwcae.errors import HwcaeError
from hwcae.spikes.detect import detect_peaks, noise_levels_uv
from hwcae.spikes.noise import generate_noise
from hwcae.spikes.scene import MS_AFTER, MS_BEFORE, Scene, draw_settings, presets, probe_positions, scene, suite_scene
from hwcae.spikes.snippets import cut_snippets, inside, neighbour_table
from hwcae.spikes.spikeset import SpikeSet, load_spikes, save_spikes
from hwcae.spikes.trains import generate_trains

#: Bump when the generator's output changes for the same settings (invalidates caches).
GENERATOR_VERSION = 4
DRIFT_STEPS = 8  # a drifting unit's template moves in this many steps
#: SpikeInterface template parameter ranges used where a scene does not set them.
DEFAULT_TEMPLATE_PARAMS = dict(
    alpha=(150.0, 1200.0), depolarization_ms=(0.09, 0.14), repolarization_ms=(0.5, 0.8), recovery_ms=(1.0, 1.5),
    positive_amplitude=(0.1, 0.25), smooth_ms=(0.03, 0.07), spatial_decay=(10.0, 45.0),
    propagation_speed=(250.0, 350.0), ellipse_shrink=(0.4, 1.0), ellipse_angle=(0.0, 2 * np.pi),
    spatial_power=(1.5, 2.5))


@dataclasses.dataclass
class GroundTruthRecording:
    """A generated recording: noisy and clean traces (frames, channels) in uV and the truth per spike
    (``frames`` of the trough on the unit's best channel, ``units``, ``best_channels``, ``amplitude_uv``)."""

    noisy: np.ndarray
    clean: np.ndarray
    positions_um: np.ndarray
    fs_hz: float
    truth: dict
    settings: dict
    channel_amplitude_uv: np.ndarray  # (truth spikes, channels): each spike's trough depth per channel

    def recording(self, which: str = "noisy"):
        """The noisy (or clean) trace as a SpikeInterface recording with the probe's positions."""
        from spikeinterface.core import NumpyRecording

        rec = NumpyRecording(getattr(self, which), self.fs_hz)
        rec.set_dummy_probe_from_locations(self.positions_um)
        return rec


def _templates(s: dict, positions: np.ndarray, locations: np.ndarray, cell_ids: np.ndarray, rng) -> np.ndarray:
    """(sub-units, samples, channels, jitter) templates in uV."""
    if s["templates"] == "biophysical":
        from hwcae.spikes.biophys import biophysical_templates

        t = biophysical_templates(positions, locations, s["fs_hz"], ms_before=MS_BEFORE, ms_after=MS_AFTER,
                                  upsample=s["jitter"], seed=s["seed"], cell_ids=cell_ids)
    else:
        ranges = {**DEFAULT_TEMPLATE_PARAMS, **{k: tuple(v) for k, v in s["template_params"].items()}}
        per_unit = {k: rng.uniform(lo, hi, s["units"]) for k, (lo, hi) in sorted(ranges.items())}
        if s["templates"] == "multisource":
            from hwcae.spikes.multisource import multisource_templates

            t = multisource_templates(positions, locations, s["fs_hz"], per_unit, ranges, ms_before=MS_BEFORE,
                                      ms_after=MS_AFTER, upsample=s["jitter"], rng=rng, cell_ids=cell_ids)
        else:
            from spikeinterface.core.generate import generate_templates

            params = {k: v[cell_ids] for k, v in per_unit.items()}
            t = generate_templates(positions, locations, s["fs_hz"], MS_BEFORE, MS_AFTER, seed=s["seed"],
                                   upsample_factor=s["jitter"], unit_params=params,
                                   spatial_profile=s["spatial_profile"])
    return (np.asarray(t, np.float32) * s["amplitude_scale"]).reshape(*t.shape[:3], -1)


def generate_recording(settings: dict) -> GroundTruthRecording:
    """One recording from its concrete settings (see :func:`hwcae.spikes.scene.draw_settings`)."""
    from spikeinterface.core import NumpySorting
    from spikeinterface.core.generate import InjectTemplatesRecording, generate_unit_locations

    s = settings
    rng = np.random.default_rng([s["seed"], 1])
    fs, n = s["fs_hz"], int(round(s["duration_s"] * s["fs_hz"]))
    positions = probe_positions(s["probe"], s["channels"], s["pitch_scale"])
    depth = s["unit_depth_um"]
    locs = generate_unit_locations(s["units"], positions, margin_um=20.0, minimum_z=depth[0], maximum_z=depth[1],
                                   minimum_distance=20.0, seed=s["seed"]).astype(np.float64)
    steps = DRIFT_STEPS if s["drift_um"] > 0 else 1
    offsets = (np.arange(steps) + 0.5) / steps * s["drift_um"] - s["drift_um"] / 2
    cell_ids = np.repeat(np.arange(s["units"]), steps)
    sub_locs = locs[cell_ids] + np.stack([np.zeros(len(cell_ids)), np.tile(offsets, s["units"]),
                                          np.zeros(len(cell_ids))], axis=1)
    templates = _templates(s, positions, sub_locs, cell_ids, rng)
    nbefore = int(round(MS_BEFORE * fs / 1000))
    trains = generate_trains(rng, n, fs, np.asarray(s["rate_hz"]), np.asarray(s["bursting"]))
    ok = (trains.frames >= nbefore) & (trains.frames < n - templates.shape[1])
    frames, units, amps = trains.frames[ok], trains.units[ok], trains.amplitudes[ok]
    sub = units * steps + np.minimum(steps - 1, frames * steps // n)
    jit = rng.integers(0, templates.shape[3], len(frames))
    sorting = NumpySorting.from_samples_and_labels([frames], [sub], fs, unit_ids=np.arange(len(cell_ids)))
    assert np.array_equal(sorting.to_spike_vector()["sample_index"], frames)
    clean = InjectTemplatesRecording(sorting, templates, nbefore=nbefore, amplitude_factor=amps, num_samples=[n],
                                     upsample_vector=jit).get_traces().astype(np.float32)
    chan_gain = rng.uniform(0.9, 1.1, len(positions))
    noise = generate_noise(n, positions, fs, s["noise_uv"] * chan_gain, color=s["noise_color"],
                           correlation=s["noise_correlation"], rng=rng)
    depth_uv = -templates[:, :, :, 0].min(axis=1)  # (sub-units, channels)
    best = np.argmax(depth_uv, axis=1)
    trough = np.array([np.argmin(templates[k, :, best[k], 0]) for k in range(len(best))]) - nbefore
    peaks = frames + trough[sub]
    order = np.argsort(peaks, kind="stable")
    truth = {"frames": peaks[order], "units": units[order], "best_channels": best[sub][order],
             "amplitude_uv": (depth_uv[sub, best[sub]] * amps)[order]}
    return GroundTruthRecording(clean + noise, clean, positions, fs, truth, dict(s),
                                (depth_uv[sub] * amps[:, None])[order])


def match_detections(gt: GroundTruthRecording, frames: np.ndarray, channels: np.ndarray, noise_uv: np.ndarray,
                     tol_ms: float = 1.0) -> np.ndarray:
    """Index of the truth spike explaining each detection (-1 for noise): among truth spikes within
    ``tol_ms`` (a trough away from the unit's best channel can come later), the one deepest on the
    detection's channel, if at least one noise SD deep there."""
    tf = gt.truth["frames"]
    tol = max(1, int(round(tol_ms * gt.fs_hz / 1000)))
    lo, hi = np.searchsorted(tf, frames - tol), np.searchsorted(tf, frames + tol, side="right")
    out = np.full(len(frames), -1, np.int64)
    for i, (a, b, c) in enumerate(zip(lo, hi, channels)):
        if b > a:
            depth = gt.channel_amplitude_uv[a:b, c]
            k = int(np.argmax(depth))
            if depth[k] >= noise_uv[c]:
                out[i] = a + k
    return out


def cut_detected(gt: GroundTruthRecording, recording_id: int = 0) -> tuple[SpikeSet, dict]:
    """Detect on the noisy trace, cut noisy and clean snippets at the detections that are spikes.
    Returns the spike set and detection statistics."""
    noise = noise_levels_uv(gt.noisy)
    frames, chans = detect_peaks(gt.noisy, gt.fs_hz, gt.positions_um, threshold=gt.settings["threshold"],
                                 noise_uv=noise)
    keep = inside(frames, len(gt.noisy))
    frames, chans = frames[keep], chans[keep]
    match = match_detections(gt, frames, chans, noise)
    real = match >= 0
    table = neighbour_table(gt.positions_um)[chans[real]]
    units = gt.truth["units"][match[real]]
    stats = {"truth_spikes": int(len(gt.truth["frames"])), "detections": int(len(frames)),
             "matched": int(real.sum()), "noise_detections": int((~real).sum()),
             "units": int(gt.settings["units"]), "units_seen": int(len(np.unique(units)))}
    if not real.any():
        raise HwcaeError(f"recording seed {gt.settings['seed']}: the detector found no spikes")
    f = frames[real]
    s = SpikeSet(cut_snippets(gt.noisy, f, table), cut_snippets(gt.clean, f, table),
                 recording_id * 1000 + units, gt.fs_hz, np.full(len(f), recording_id, np.int64))
    return s, stats


def _one(sc: Scene, seed: int) -> tuple[SpikeSet, dict]:
    return cut_detected(generate_recording(draw_settings(sc, seed)), seed)


def generate_spike_set(preset: str | Scene, *, progress: bool = False, jobs: int = 1,
                       stats: list | None = None) -> SpikeSet:
    """All recordings of a scene, concatenated in seed order (recording id = seed). ``stats`` (if
    given) receives each recording's detection statistics."""
    sc = scene(preset) if isinstance(preset, str) else preset
    seeds = list(range(*sc.seeds))
    if jobs > 1 and len(seeds) > 1:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=min(jobs, len(seeds)))(delayed(_one)(sc, s) for s in seeds)
    else:
        if progress:
            from tqdm import tqdm
            seeds = tqdm(seeds, desc="synth recordings", unit="rec")
        parts = [_one(sc, s) for s in seeds]
    if stats is not None:
        stats.extend({"seed": s, **st} for s, (_, st) in zip(range(*sc.seeds), parts))
    return SpikeSet.concat([p for p, _ in parts])


def write_raw_recording(rec, path: str | os.PathLike, *, gain_uv: float = 0.5, chunk_s: float = 5.0,
                        progress: bool = False) -> Path:
    """Write ``rec`` as a raw interleaved int16 file (uV / ``gain_uv``), chunk by chunk, the way a
    probe's data file looks; memory holds one chunk. Returns the path."""
    from hwcae.fileio import atomic_path

    n, fs = rec.get_num_samples(), rec.sampling_frequency
    step = max(1, int(chunk_s * fs))
    starts = range(0, n, step)
    if progress:
        from tqdm import tqdm
        starts = tqdm(starts, desc="write raw", unit="chunk")
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        for s0 in starts:
            tr = rec.get_traces(start_frame=s0, end_frame=min(n, s0 + step))
            np.clip(np.rint(tr / gain_uv), -32768, 32767).astype("<i2").tofile(fh)
    return Path(path)


def cache_dir() -> Path:
    return Path(os.environ.get("HWCAE_CACHE", Path.home() / ".cache" / "hwcae"))


def cached_scene_set(name: str, sc: Scene, *, progress: bool = True, jobs: int | None = None) -> SpikeSet:
    """A scene's spike set, generated once and cached (the key hashes the scene's settings, not its
    description, and the generator version)."""
    key = hashlib.sha256(f"{GENERATOR_VERSION}:{sc.model_dump_json(exclude={'description'})}".encode()).hexdigest()[:12]
    path = cache_dir() / f"synth-{name}-{key}.npz"
    if path.is_file():
        try:
            return load_spikes(path)
        except HwcaeError:
            pass  # a damaged cache entry is simply regenerated
    s = generate_spike_set(sc, progress=progress, jobs=jobs or os.cpu_count() or 1)
    save_spikes(s, path)
    return s


def cached_spike_set(name: str, *, progress: bool = True) -> SpikeSet:
    """A built-in split (``presets.yaml``), generated once and cached."""
    return cached_scene_set(name, scene(name), progress=progress)


def suite_set(name: str, split: str = "final", *, progress: bool = True) -> SpikeSet:
    """One set of the external suite (``suite.yaml``), generated once and cached."""
    return cached_scene_set(f"suite-{split}-{name}", suite_scene(name, split), progress=progress)


__all__ = ["GroundTruthRecording", "generate_recording", "cut_detected", "generate_spike_set", "cached_spike_set",
           "cached_scene_set", "suite_set", "write_raw_recording", "presets", "draw_settings"]
