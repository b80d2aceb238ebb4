"""Readers for users' own data, each producing a validated :class:`SpikeSet`.

- ``.npz`` spike sets: :func:`hwcae.spikes.spikeset.load_spikes`.
- Wave_Clus / Leicester-style ``.mat``: :func:`read_waveclus_mat`. These hold one channel; the
  model's 4-channel input gets the same waveform on all four rows (a unit equidistant from four
  contacts), which keeps the input statistics close to what the model was trained on.
- Any recording SpikeInterface reads: :func:`extract_from_recording` (detect, align, 4 nearest
  channels from the probe geometry).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from hwcae.errors import HwcaeError
from hwcae.spikes.detect import detect_peaks
from hwcae.spikes.snippets import align_to_minimum, cut_snippets, inside, neighbour_table
from hwcae.spikes.spikeset import SpikeSet

FORMATS = ("binary", "spikeglx", "openephys", "nwb", "si")


def read_waveclus_mat(path: str | os.PathLike, *, uv_per_unit: float = 1.0, fs_hz: float | None = None) -> SpikeSet:
    """Wave_Clus / Leicester simulation file: ``data`` (1-D trace), ``spike_times`` (samples),
    optional ``spike_class`` (unit labels) and ``samplingInterval`` (ms).

    Spike times mark onsets; each is aligned to the trace's minimum within the next 1 ms.
    """
    import scipy.io

    path = Path(path)
    if not path.is_file():
        raise HwcaeError(f"file not found: {path}")
    try:
        m = scipy.io.loadmat(path, squeeze_me=True)
    except Exception as exc:  # scipy raises many types for bad files
        raise HwcaeError(f"{path} is not a readable .mat file ({exc.__class__.__name__})") from None
    for key in ("data", "spike_times"):
        if key not in m:
            raise HwcaeError(f"{path} has no '{key}' variable (Wave_Clus files have 'data' and 'spike_times')")
    data = np.asarray(m["data"], np.float64).reshape(-1) * uv_per_unit
    times = np.asarray(_first_cell(m["spike_times"]), np.float64).reshape(-1)
    if not np.all(np.isfinite(data)):
        raise HwcaeError(f"{path}: 'data' contains NaN or Inf")
    if fs_hz is None:
        fs_hz = 1000.0 / float(m["samplingInterval"]) if "samplingInterval" in m else 24000.0
    labels = np.asarray(_first_cell(m["spike_class"]), np.int64).reshape(-1) if "spike_class" in m else None
    if labels is not None and len(labels) != len(times):
        raise HwcaeError(f"{path}: spike_class has {len(labels)} entries, spike_times {len(times)}")
    frames = np.rint(times).astype(np.int64)
    peaks = align_to_minimum(data, frames, (0, max(2, int(fs_hz * 1e-3))))
    ok = inside(peaks, len(data))
    traces = data[:, None]
    snippets = cut_snippets(traces, peaks[ok], np.zeros((ok.sum(), 4), np.int64))
    return SpikeSet(snippets, None, None if labels is None else labels[ok], float(fs_hz))


def _first_cell(x):
    """Wave_Clus stores some variables as 1x1 cell arrays."""
    if isinstance(x, np.ndarray) and x.dtype == object:
        return x.flat[0] if x.size == 1 else x.astype(np.float64)
    return x


def open_recording(path: str | os.PathLike, fmt: str, *, fs_hz: float | None = None,
                   channels: int | None = None, dtype: str = "int16", gain_uv: float = 1.0):
    """A SpikeInterface recording for ``path`` in format ``fmt`` (see :data:`FORMATS`)."""
    import spikeinterface.extractors as se
    import spikeinterface.core as sc

    path = Path(path)
    if not path.exists():
        raise HwcaeError(f"recording not found: {path}")
    try:
        if fmt == "binary":
            if not fs_hz or not channels:
                raise HwcaeError("a raw binary recording needs --fs and --channels")
            rec = sc.read_binary(path, sampling_frequency=fs_hz, num_channels=channels, dtype=dtype,
                                 gain_to_uV=gain_uv, offset_to_uV=0.0)
        elif fmt == "spikeglx":
            rec = se.read_spikeglx(path, stream_id=None)
        elif fmt == "openephys":
            rec = se.read_openephys(path)
        elif fmt == "nwb":
            rec = se.read_nwb_recording(path)
        elif fmt == "si":
            rec = sc.load(path)
        else:
            raise HwcaeError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    except HwcaeError:
        raise
    except Exception as exc:
        raise HwcaeError(f"cannot read {path} as {fmt}: {str(exc).splitlines()[0][:160]}") from None
    return rec


def recording_positions(rec) -> np.ndarray:
    """Contact positions (um); a recording without a probe is taken as a line at 20 um pitch."""
    try:
        return np.asarray(rec.get_channel_locations(), np.float64)
    except Exception:
        n = rec.get_num_channels()
        return np.stack([np.zeros(n), 20.0 * np.arange(n)], axis=1)


def traces_uv(rec, start: int, end: int) -> np.ndarray:
    """(samples, channels) float32 in uV (applies the recording's gains when it has them)."""
    scaled = bool(rec.has_scaleable_traces()) if hasattr(rec, "has_scaleable_traces") else False
    return rec.get_traces(start_frame=start, end_frame=end, return_in_uV=scaled).astype(np.float32)


def extract_from_recording(rec, *, threshold: float = 5.0, bandpass: tuple[float, float] | None = (300.0, 6000.0),
                           chunk_s: float = 10.0, noise_window_s: float = 10.0, progress: bool = False) -> tuple[SpikeSet, np.ndarray, np.ndarray]:
    """Detect, align and cut spikes of a whole recording in chunks (with overlap).

    Returns (spike set, peak frames, best channels). Noise is estimated once, on the first
    ``noise_window_s`` seconds, so the result does not depend on the chunk size.
    """
    if bandpass is not None:
        import spikeinterface.preprocessing as spre

        rec = spre.bandpass_filter(rec, freq_min=bandpass[0], freq_max=min(bandpass[1], 0.45 * rec.sampling_frequency))
    fs = float(rec.sampling_frequency)
    positions = recording_positions(rec)
    table = neighbour_table(positions)
    n = rec.get_num_samples()
    step = max(int(chunk_s * fs), 1024)
    margin = 128
    from hwcae.spikes.detect import noise_levels_uv

    noise = noise_levels_uv(traces_uv(rec, 0, min(n, int(noise_window_s * fs))))
    chunks, frames_all, chans_all = [], [], []
    starts = range(0, n, step)
    if progress:
        from tqdm import tqdm
        starts = tqdm(starts, desc="detect", unit="chunk")
    for s in starts:
        lo, hi = max(0, s - margin), min(n, s + step + margin)
        tr = traces_uv(rec, lo, hi)
        f, c = detect_peaks(tr, fs, positions, threshold=threshold, noise_uv=noise)
        own = (f + lo >= s) & (f + lo < s + step) & inside(f, len(tr))  # each spike belongs to one chunk
        f, c = f[own], c[own]
        chunks.append(cut_snippets(tr, f, table[c]))
        frames_all.append(f + lo)
        chans_all.append(c)
    spikes = np.concatenate(chunks) if chunks else np.zeros((0, 4, 64), np.float32)
    return SpikeSet(spikes, fs=fs), np.concatenate(frames_all), np.concatenate(chans_all)
