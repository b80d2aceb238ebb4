"""Built-in synthetic ground truth from SpikeInterface's generator (no downloads).

Each recording comes from ``spikeinterface.core.generate_ground_truth_recording`` with settings
drawn (by its seed) from a preset in ``presets.yaml``. The noise-free twin is the same sorting and
templates injected into silence, so ``clean`` and ``spikes`` differ by noise alone.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from hwcae.errors import HwcaeError
from hwcae.spikes.snippets import cut_snippets, inside, nearest_channels
from hwcae.spikes.spikeset import PEAK_SAMPLE, SpikeSet, load_spikes, save_spikes

PROBES = {  # layout name -> probeinterface generate_multi_columns_probe kwargs
    "two_column": dict(num_columns=2, xpitch=20, ypitch=20),
    "one_column": dict(num_columns=1, xpitch=20, ypitch=25),
    "four_column": dict(num_columns=4, xpitch=16, ypitch=20),
    "staggered": dict(num_columns=3, xpitch=18, ypitch=22, y_shift_per_column=[0, -11, 0]),
}
_KEYS = {"duration_s", "fs_hz", "probe", "channels", "units", "rate_hz", "noise_uv", "min_snr", "jitter", "seeds"}


@functools.lru_cache(maxsize=1)
def presets() -> dict:
    text = resources.files("hwcae.spikes").joinpath("presets.yaml").read_text()
    table = {k: v for k, v in yaml.safe_load(text).items() if k != "defaults"}
    for name, p in table.items():
        if set(p) != _KEYS:
            raise HwcaeError(f"preset {name!r}: keys must be {sorted(_KEYS)}")
    return table


def recording_settings(preset: dict, seed: int) -> dict:
    """The settings of one recording, drawn deterministically from its seed."""
    rng = np.random.default_rng(seed)
    lo, hi = preset["units"]
    return dict(
        seed=int(seed),
        duration_s=float(preset["duration_s"]),
        fs_hz=float(rng.choice(preset["fs_hz"])),
        probe=str(rng.choice(preset["probe"])),
        channels=int(rng.choice(preset["channels"])),
        units=int(rng.integers(lo, hi + 1)),
        rate_hz=[float(r) for r in rng.uniform(*preset["rate_hz"], size=hi)],
        noise_uv=float(rng.uniform(*preset["noise_uv"])),
        min_snr=float(preset["min_snr"]),
        jitter=int(preset["jitter"]),
    )


def generate_recording(settings: dict):
    """(noisy recording, clean recording, sorting) for one recording's settings."""
    import spikeinterface.core as sc
    from spikeinterface.core.generate import InjectTemplatesRecording

    probe_kwargs = dict(PROBES[settings["probe"]], contact_shapes="circle", contact_shape_params={"radius": 6})
    rec, sorting = sc.generate_ground_truth_recording(
        durations=[settings["duration_s"]],
        sampling_frequency=settings["fs_hz"],
        num_channels=settings["channels"],
        num_units=settings["units"],
        generate_probe_kwargs=probe_kwargs,
        ms_before=1.5,
        ms_after=3.0,
        upsample_factor=settings["jitter"] if settings["jitter"] > 1 else None,
        generate_sorting_kwargs=dict(firing_rates=settings["rate_hz"][: settings["units"]], refractory_period_ms=3.0),
        generate_templates_kwargs=dict(unit_params=dict(alpha=(150.0, 1200.0))),
        noise_kwargs=dict(noise_levels=settings["noise_uv"], strategy="on_the_fly"),
        seed=settings["seed"],
    )
    kw = rec._kwargs
    clean = InjectTemplatesRecording(
        sorting, np.asarray(kw["templates"]), nbefore=kw["nbefore"],
        num_samples=[rec.get_num_samples()], upsample_vector=kw.get("upsample_vector"),
    )
    return rec, clean, sorting


def snippets_from_recording(settings: dict, recording_id: int = 0) -> SpikeSet:
    """Cut aligned noisy/clean snippet pairs at the ground-truth spike times of one recording."""
    rec, clean_rec, sorting = generate_recording(settings)
    noisy = rec.get_traces().astype(np.float32)
    clean = clean_rec.get_traces().astype(np.float32)
    templates = np.asarray(rec._kwargs["templates"])
    if templates.ndim == 4:
        templates = templates.mean(axis=3)
    nbefore = int(rec._kwargs["nbefore"])
    positions = rec.get_channel_locations()
    spikes = sorting.to_spike_vector()
    out = []
    for u in range(len(sorting.unit_ids)):
        t = templates[u]  # (samples, channels)
        best = int(np.argmin(t.min(axis=0)))
        if -t[:, best].min() < settings["min_snr"] * settings["noise_uv"]:
            continue  # undetectable unit: a recorder would never see it
        frames = spikes["sample_index"][spikes["unit_index"] == u].astype(np.int64)
        peaks = frames - nbefore + int(np.argmin(t[:, best]))
        peaks = peaks[inside(peaks, len(noisy))]
        chans = np.broadcast_to(nearest_channels(positions, best), (len(peaks), 4))
        # per-spike alignment on the clean best channel (sub-sample jitter moves the true peak)
        local = np.argmin(cut_snippets(clean, peaks, chans)[:, 0, PEAK_SAMPLE - 2: PEAK_SAMPLE + 3], axis=1) - 2
        peaks = peaks + local
        keep = inside(peaks, len(noisy))
        peaks, chans = peaks[keep], chans[keep]
        if len(peaks) == 0:
            continue
        out.append(SpikeSet(
            cut_snippets(noisy, peaks, chans), cut_snippets(clean, peaks, chans),
            np.full(len(peaks), recording_id * 1000 + u, np.int64), settings["fs_hz"],
            np.full(len(peaks), recording_id, np.int64),
        ))
    if not out:
        raise HwcaeError(f"recording seed {settings['seed']} produced no detectable spikes")
    return SpikeSet.concat(out)


def ground_truth_peaks(rec, sorting) -> dict:
    """Per ground-truth spike: peak frame on its unit's best channel, unit, best channel and the
    template's peak amplitude (uV, positive), for scoring detection on a generated recording."""
    templates = np.asarray(rec._kwargs["templates"])
    if templates.ndim == 4:
        templates = templates.mean(axis=3)
    nbefore = int(rec._kwargs["nbefore"])
    best = np.argmin(templates.min(axis=1), axis=1)  # (units,)
    offset = np.array([int(np.argmin(templates[u, :, best[u]])) for u in range(len(best))])
    sv = sorting.to_spike_vector()
    u = sv["unit_index"].astype(np.int64)
    order = np.argsort(sv["sample_index"] - nbefore + offset[u], kind="stable")
    u = u[order]
    return {"frames": (sv["sample_index"][order] - nbefore + offset[u]).astype(np.int64), "units": u,
            "best_channels": best[u].astype(np.int64), "amplitude_uv": -templates.min(axis=(1, 2))[u]}


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


def generate_spike_set(preset: str | dict, *, progress: bool = False) -> SpikeSet:
    """All recordings of a preset, concatenated in seed order (recording id = seed)."""
    if isinstance(preset, str):
        if preset not in presets():
            raise HwcaeError(f"unknown preset {preset!r}; choose from {', '.join(presets())}")
        preset = presets()[preset]
    seeds = range(*preset["seeds"])
    if progress:
        from tqdm import tqdm
        seeds = tqdm(seeds, desc="synth recordings", unit="rec")
    return SpikeSet.concat([snippets_from_recording(recording_settings(preset, s), s) for s in seeds])


def cache_dir() -> Path:
    return Path(os.environ.get("HWCAE_CACHE", Path.home() / ".cache" / "hwcae"))


def cached_spike_set(name: str, *, progress: bool = True) -> SpikeSet:
    """A built-in split, generated once and cached (the key hashes the preset's settings)."""
    if name not in presets():
        raise HwcaeError(f"unknown preset {name!r}; choose from {', '.join(presets())}")
    key = hashlib.sha256(json.dumps(presets()[name], sort_keys=True).encode()).hexdigest()[:12]
    path = cache_dir() / f"synth-{name}-{key}.npz"
    if path.is_file():
        try:
            return load_spikes(path)
        except HwcaeError:
            pass  # a damaged cache entry is simply regenerated
    s = generate_spike_set(name, progress=progress)
    save_spikes(s, path)
    return s
