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
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwcae.errors import HwcaeError
from hwcae.spikes import RECORDING_FORMATS as FORMATS
from hwcae.spikes.detect import detect_peaks, noise_levels_uv
from hwcae.spikes.recording_checks import check_binary, check_contacts, check_data, check_recording, mat_rate
from hwcae.spikes.snippets import align_to_minimum, cut_snippets, inside, neighbour_table
from hwcae.spikes.spikeset import SpikeSet


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
    fs_hz = mat_rate(m, fs_hz, path)
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


def guess_format(path: str | os.PathLike) -> str:
    """Recording format from the path: a folder with SpikeGLX ``.meta`` files -> ``spikeglx``, with an
    Open Ephys ``structure.oebin`` / ``settings.xml`` -> ``openephys``, any other folder -> ``si`` (saved
    by SpikeInterface); ``.nwb`` -> ``nwb``; any other file -> ``binary`` (raw samples)."""
    p = Path(path)
    if p.is_dir():
        if any(p.glob("*.meta")):
            return "spikeglx"
        if any(p.glob("**/structure.oebin")) or any(p.glob("**/settings.xml")):
            return "openephys"
        return "si"
    return "nwb" if p.suffix == ".nwb" else "binary"


#: Where each format keeps the gains that scale its samples to uV (named when one is zero or missing).
GAIN_KEYS = {"binary": "--gain-uv", "si": "the saved gain_to_uV", "openephys": "bit_volts of each channel",
             "spikeglx": "the imroTbl AP gain, imAiRangeMax, imMaxInt", "nwb": "conversion x channel_conversion"}


def open_recording(path: str | os.PathLike, fmt: str, *, fs_hz: float | None = None,
                   channels: int | None = None, dtype: str = "int16", gain_uv: float = 1.0,
                   geometry: str | os.PathLike | None = None):
    """A SpikeInterface recording for ``path`` in format ``fmt`` (see :data:`FORMATS`).

    ``geometry`` (see :func:`read_geometry`) sets the contact positions, which pick each spike's 4
    nearest channels; a raw binary file has none, and without it channels are taken as a line. Files
    SpikeInterface / neo would misread or crash on (short data, zero gains, missing keys) end in one line.
    """
    import spikeinterface.extractors as se
    import spikeinterface.core as sc

    path = Path(path)
    if not path.exists():
        raise HwcaeError(f"recording not found: {path}")
    try:
        if fmt == "binary":
            dtype = check_binary(path, fs_hz, channels, dtype, gain_uv)
            rec = sc.read_binary(path, sampling_frequency=fs_hz, num_channels=channels, dtype=dtype,
                                 gain_to_uV=gain_uv, offset_to_uV=0.0)
        elif fmt in ("spikeglx", "openephys"):
            check_data(path, fmt)
            read = se.read_spikeglx if fmt == "spikeglx" else se.read_openephys
            rec = read(path, stream_id=_neural_stream(fmt, path))
        elif fmt == "nwb":
            rec = se.read_nwb_recording(path)
        elif fmt == "si":
            rec = sc.load(path)
        else:
            raise HwcaeError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    except HwcaeError:
        raise
    except ImportError as exc:
        raise HwcaeError(f"reading {fmt} needs the Python package {exc.name} (pip install {exc.name})") from None
    except (KeyError, ZeroDivisionError) as exc:  # h5py's KeyError is a sentence ending in the key, quoted
        what = "no '%s' entry" % ([str(exc)] + str(exc).split("'"))[-2] if isinstance(exc, KeyError) else f"a gain of zero in {GAIN_KEYS[fmt]}"
        raise HwcaeError(f"{_meta_file(path, fmt)}: {what} (not a complete {fmt} recording)") from None
    except Exception as exc:  # SpikeInterface reads an NWB file without an ElectricalSeries as "Multiple ... options are: []"
        msg = "it has no ElectricalSeries" if "options are: []" in str(exc) else \
            (str(exc).splitlines() or [exc.__class__.__name__])[0][:160]
        raise HwcaeError(f"cannot read {path} as {fmt}: {msg}") from None
    check_recording(rec, path)
    g = np.asarray(rec.get_channel_gains() if rec.has_scaleable_traces() else [1.0], np.float64)
    if bad := int(np.sum(~np.isfinite(g) | (g == 0))):
        raise HwcaeError(f"{_meta_file(path, fmt)}: a gain of zero or NaN ({GAIN_KEYS[fmt]}) on {bad} of {len(g)} channels")
    if geometry is not None:
        rec.set_dummy_probe_from_locations(read_geometry(geometry, rec.get_num_channels()))
    elif rec.get_property("location") is not None:  # positions from the file's own metadata: as strict as --geometry
        check_contacts(np.asarray(rec.get_property("location"), np.float64), _meta_file(path, fmt))
    return rec


def _neural_stream(fmt: str, path: Path) -> str | None:
    """The one neural stream of a SpikeGLX / Open Ephys binary folder (not sync, LF, ADC or NI-DAQ)."""
    from spikeinterface.extractors import get_neo_streams
    if fmt == "openephys" and not any(path.rglob("structure.oebin")):
        return None  # the legacy format (.continuous files): one stream
    names, ids = get_neo_streams("spikeglx" if fmt == "spikeglx" else "openephysbinary", path)
    keep = [i for n, i in zip(names, ids) if not any(t in n for t in ("SYNC", "ADC", ".lf", "nidq", "obx"))]
    if len(keep) != 1:
        raise HwcaeError(f"{path}: {len(keep)} neural streams among {', '.join(names)}; hwcae reads one probe")
    return keep[0]


def _meta_file(path: Path, fmt: str) -> Path:  # the file holding a recording's metadata (named in errors)
    pattern = {"spikeglx": "*.ap.meta", "openephys": "structure.oebin"}.get(fmt)
    return next(iter(sorted(path.rglob(pattern))), path) if pattern and path.is_dir() else path


def read_geometry(path: str | os.PathLike, n_channels: int | None) -> np.ndarray:
    """Contact positions (um, one row per channel; ``n_channels`` of them unless None) from a
    probeinterface ``.json`` or a text file of ``x y`` rows (comma or space separated)."""
    path = Path(path)
    if not path.is_file():
        raise HwcaeError(f"geometry file not found: {path}")
    try:
        if path.suffix == ".json":
            import probeinterface

            probe = probeinterface.read_probeinterface(path).probes[0]
            pos = np.asarray(probe.contact_positions, np.float64)
            dev = probe.device_channel_indices
            if dev is not None and np.all(np.asarray(dev) >= 0):
                pos = pos[np.argsort(dev)]
        else:
            text = path.read_text().replace(",", " ")
            pos = np.loadtxt(text.splitlines(), ndmin=2)
    except HwcaeError:
        raise
    except Exception as exc:
        raise HwcaeError(f"cannot read probe geometry {path}: {str(exc).splitlines()[0][:120]}") from None
    if pos.shape != (n_channels or len(pos), 2) or not np.all(np.isfinite(pos)):
        raise HwcaeError(f"{path}: expected {n_channels or 'some'} rows of finite 'x y' positions, got shape {pos.shape}")
    return check_contacts(pos, path)


def recording_positions(rec) -> np.ndarray:
    """Contact positions (um); a recording without a probe is taken as a line at 20 um pitch, with a
    warning: the 4 channels cut per spike are then only right if the file's channel order is spatial."""
    try:
        return np.asarray(rec.get_channel_locations(), np.float64)
    except Exception:
        print("hwcae: warning: the recording has no probe geometry; channels are taken as a line at 20 um "
              "(give --geometry for the real layout)", file=sys.stderr)
        n = rec.get_num_channels()
        return np.stack([np.zeros(n), 20.0 * np.arange(n)], axis=1)


def traces_uv(rec, start: int, end: int, channel_ids=None) -> np.ndarray:
    """(samples, channels) float32 in uV (applies the recording's gains when it has them)."""
    scaled = bool(rec.has_scaleable_traces()) if hasattr(rec, "has_scaleable_traces") else False
    return rec.get_traces(start_frame=start, end_frame=end, channel_ids=channel_ids,
                          return_in_uV=scaled).astype(np.float32, copy=False)


@dataclass
class ChunkPlan:
    """How a recording is cut into chunks for detection: everything a worker process needs.

    Each chunk ``[start, start + step)`` is read with ``margin`` samples either side, so a spike
    near an edge is detected and cut whole; it belongs to the one chunk holding its peak frame (no
    spike is lost or doubled). Noise is estimated once, on the first ``noise_window_s`` seconds, so
    the result does not depend on the chunk size. Picklable (SpikeInterface recordings are).
    """

    rec: object  # SpikeInterface recording, band-pass filtered when asked
    fs_hz: float
    n_frames: int
    step: int
    noise_uv: np.ndarray
    positions_um: np.ndarray
    table: np.ndarray  # (C, 4) nearest channels of each channel
    threshold: float
    margin: int = 128

    @property
    def starts(self) -> range:
        return range(0, self.n_frames, self.step)

    def spikes(self, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(snippets (N, 4, 64) uV, peak frames, best channels) of the chunk at ``start``."""
        lo, hi = max(0, start - self.margin), min(self.n_frames, start + self.step + self.margin)
        tr = traces_uv(self.rec, lo, hi)
        if not np.all(np.isfinite(tr)):
            raise HwcaeError(f"the recording has NaN or Inf samples between {lo / self.fs_hz:.3f} s and {hi / self.fs_hz:.3f} s")
        f, c = detect_peaks(tr, self.fs_hz, self.positions_um, threshold=self.threshold, noise_uv=self.noise_uv)
        own = (f + lo >= start) & (f + lo < start + self.step) & inside(f, len(tr))
        f, c = f[own], c[own]
        return cut_snippets(tr, f, self.table[c]), f + lo, c


def noise_per_group(rec, n_frames: int, group: int = 32, piece_s: float = 1.0) -> np.ndarray:
    """Robust noise (uV) per channel over the first ``n_frames``, read ``group`` channels and
    ``piece_s`` seconds at a time, so memory does not grow with the channel count or the window."""
    ids = rec.get_channel_ids()
    piece = max(1024, int(piece_s * rec.sampling_frequency))
    out = []
    for g in range(0, len(ids), group):
        parts = [traces_uv(rec, s, min(n_frames, s + piece), ids[g:g + group]) for s in range(0, n_frames, piece)]
        out.append(noise_levels_uv(np.concatenate(parts)))
    return np.concatenate(out)


def plan_chunks(rec, *, threshold: float = 5.0, bandpass: tuple[float, float] | None = (300.0, 6000.0),
                chunk_s: float = 10.0, noise_window_s: float = 10.0) -> ChunkPlan:
    """A :class:`ChunkPlan` for ``rec`` (band-pass filter, probe neighbours, noise levels)."""
    if bandpass is not None:
        import spikeinterface.preprocessing as spre

        rec = spre.bandpass_filter(rec, freq_min=bandpass[0], freq_max=min(bandpass[1], 0.45 * rec.sampling_frequency),
                                   dtype="float32")
    fs = float(rec.sampling_frequency)
    positions = recording_positions(rec)
    n = int(rec.get_num_samples())
    noise = noise_per_group(rec, min(n, int(noise_window_s * fs)))
    if not np.all(np.isfinite(noise)):
        raise HwcaeError("the recording contains NaN or Inf samples")
    return ChunkPlan(rec, fs, n, max(int(chunk_s * fs), 1024), noise, positions, neighbour_table(positions), threshold)


def extract_from_recording(rec, *, threshold: float = 5.0, bandpass: tuple[float, float] | None = (300.0, 6000.0),
                           chunk_s: float = 10.0, noise_window_s: float = 10.0, progress: bool = False) -> tuple[SpikeSet, np.ndarray, np.ndarray]:
    """Detect, align and cut spikes of a whole recording in chunks (with overlap, see :class:`ChunkPlan`):
    (spike set, peak frames, best channels)."""
    plan = plan_chunks(rec, threshold=threshold, bandpass=bandpass, chunk_s=chunk_s, noise_window_s=noise_window_s)
    return extract_chunks(plan, progress=progress)


def extract_chunks(plan: ChunkPlan, *, progress: bool = False) -> tuple[SpikeSet, np.ndarray, np.ndarray]:
    """Every chunk of ``plan`` in order: (spike set, peak frames, best channels)."""
    starts = plan.starts
    if progress:
        from tqdm import tqdm
        starts = tqdm(starts, desc="detect", unit="chunk")
    chunks, frames, chans = zip(*[plan.spikes(s) for s in starts])
    return SpikeSet(np.concatenate(chunks), fs=plan.fs_hz), np.concatenate(frames), np.concatenate(chans)
