"""Checks of what a recording reader is given, before SpikeInterface or neo see it: a raw binary
file's settings (sampling rate, channels, sample type, gain) and size, the data files of SpikeGLX /
Open Ephys folders and a SpikeGLX imroTbl's contacts, the length and rate of any recording (a
Wave_Clus file's too), and the contacts of a probe geometry or of a recording's own metadata. Each
problem is one :class:`~hwcae.errors.HwcaeError` line naming the file or the option. A raw
binary file whose samples fit another channel count far better gets a warning line
(:mod:`hwcae.spikes.interleave`)."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from hwcae.errors import HwcaeError
from hwcae.spikes.interleave import plausible_channels
from hwcae.validate import FS_RANGE, RAW_DTYPES, raw_dtype_or_none

#: The shortest recording worth reading: one spike snippet.
MIN_FRAMES = 64


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value) \
            or value <= 0:
        raise HwcaeError(f"{name} must be a finite number > 0 (got {value!r})")
    return float(value)


def check_rate(fs_hz, what: str = "--fs") -> float:
    fs = _positive(what, fs_hz)
    if not FS_RANGE[0] <= fs <= FS_RANGE[1]:
        raise HwcaeError(f"{what} must be between {FS_RANGE[0]:g} and {FS_RANGE[1]:g} Hz (got {fs_hz!r})")
    return fs


def mat_rate(m: dict, fs_hz, path: Path) -> float:
    """A Wave_Clus file's sampling rate: ``fs_hz`` when given (checked as ``--fs``), else 1000 / its
    ``samplingInterval`` (ms), else 24 kHz; a rate outside :data:`FS_RANGE` is one line."""
    if fs_hz is not None:
        return check_rate(fs_hz)
    if "samplingInterval" not in m:
        return 24000.0
    try:
        si = np.asarray(m["samplingInterval"], np.float64)
    except (TypeError, ValueError):
        si = np.array(math.nan)
    fs = 1000.0 / float(si) if si.size == 1 and float(si) > 0 else math.nan
    return check_rate(fs, f"{path}: the sampling rate (1000 / samplingInterval in ms)")


def check_binary(path: Path, fs_hz, channels, dtype, gain_uv) -> str:
    """The settings of a raw binary recording (its sample type's name is returned) and its size:
    not empty, a whole number of frames and at least :data:`MIN_FRAMES` of them."""
    if not fs_hz or not channels:
        raise HwcaeError("a raw binary recording needs --fs and --channels")
    check_rate(fs_hz)
    if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or not 1 <= channels <= 65536:
        raise HwcaeError(f"--channels must be a whole number from 1 to 65536 (got {channels!r})")
    name = raw_dtype_or_none(dtype)
    if name is None:
        raise HwcaeError(f"--dtype must be a sample type among {', '.join(RAW_DTYPES)} (got {dtype!r})")
    _positive("--gain-uv", gain_uv)
    if path.is_dir():
        raise HwcaeError(f"{path} is a folder, not a raw binary file (give --format for a recording folder)")
    size = path.stat().st_size
    if size == 0:
        raise HwcaeError(f"{path} is empty (0 bytes)")
    frame = int(channels) * np.dtype(name).itemsize
    check_data(path, "binary", frame, f"{channels}-channel {name} frames (truncated? wrong --channels / --dtype?)")
    if size // frame < MIN_FRAMES:
        raise HwcaeError(f"{path} holds {size // frame} frames of {channels} channels; a spike needs {MIN_FRAMES}")
    if (guess := plausible_channels(path, name, int(channels))) is not None:
        (k, st), told = guess, int(channels)
        print(f"hwcae: warning: {path}: its samples look like {k} interleaved channels, not --channels {told} "
              f"(lag-1 autocorrelation {st[k]:.2f} vs {st[told]:.2f}); is --channels right?", file=sys.stderr)
    return name


def check_recording(rec, path: Path) -> None:
    """Any opened recording: a sane sampling rate and at least :data:`MIN_FRAMES` samples."""
    check_rate(float(rec.sampling_frequency), f"{path}: the sampling rate")
    n = int(rec.get_num_samples())
    if n < MIN_FRAMES:
        raise HwcaeError(f"{path} holds {n} samples per channel; a spike needs {MIN_FRAMES}")


def check_data(path: Path, fmt: str, frame: int = 0, what: str = "frames (truncated file?)") -> None:
    """Raw binary, SpikeGLX .bin, Open Ephys continuous.dat: whole frames, as many as the metadata says."""
    files = [(path, frame, 0)] if fmt == "binary" else []
    for meta in sorted(path.rglob("*.meta")) if fmt == "spikeglx" else ():
        kv = dict(ln.split("=", 1) for ln in meta.read_text(errors="replace").splitlines() if "=" in ln)
        if meta.with_suffix(".bin").is_file():  # neo skips a .meta without its .bin
            kv[{"nidq": "niSampRate", "obx": "obSampRate"}.get(kv.get("typeThis", ""), "imSampRate")]  # KeyError: missing
            check_imro(meta, kv.get("~imroTbl"))
            files.append((meta.with_suffix(".bin"), 2 * int(kv["nSavedChans"]), int(kv.get("fileSizeBytes", 0))))
    for oebin in sorted(path.rglob("structure.oebin")) if fmt == "openephys" else ():
        for s in json.loads(oebin.read_text()).get("continuous", []):
            d, fr = oebin.parent / "continuous" / s["folder_name"].rstrip("/"), 2 * len(s["channels"])
            n = [len(np.load(d / f, mmap_mode="r")) for f in ("sample_numbers.npy", "timestamps.npy") if (d / f).is_file()]
            files.append((d / "continuous.dat", fr, n[0] * fr if n else 0))
    for data, fr, expect in files:  # a missing file: neo's FileNotFoundError names it
        if (size := data.stat().st_size) % fr or size < expect:
            raise HwcaeError(f"{data}: {size:,} bytes is not " + (f"the {expect:,} its metadata says (truncated file?)"
                                                                   if size < expect else f"a whole number of {what}"))


def check_imro(meta: Path, table: str | None) -> None:
    """A SpikeGLX imroTbl selects one contact per readout channel: a contact selected twice (two
    channels at one place) is one line naming it (probeinterface would fail on a bare assertion)."""
    try:
        from probeinterface.neuropixels_tools import _get_imro_active_contact_ids, _parse_imro_string

        ids = [str(i) for i in _get_imro_active_contact_ids(_parse_imro_string(table))]
    except Exception:  # noqa: BLE001 (no table, an unknown layout or another probeinterface: neo reports it)
        return
    seen: dict[str, int] = {}
    for ch, contact in enumerate(ids):
        if contact in seen:
            raise HwcaeError(f"{meta}: the imroTbl puts channels {seen[contact]} and {ch} on the same contact ({contact}); "
                             "each channel needs its own")
        seen[contact] = ch


def check_contacts(pos: np.ndarray, path) -> np.ndarray:
    """Contact positions (C, 2): finite, and no two contacts at the same place (the 4 channels cut
    around a spike are its nearest contacts, which coincident ones leave undefined)."""
    if not np.all(np.isfinite(pos)):
        raise HwcaeError(f"{path}: contact positions must be finite numbers")
    _, first, counts = np.unique(pos, axis=0, return_index=True, return_counts=True)
    if np.any(counts > 1):
        a = int(first[np.argmax(counts > 1)])
        b = int(np.flatnonzero(np.all(pos == pos[a], axis=1))[1])
        raise HwcaeError(f"{path}: contacts {a} and {b} are both at ({pos[a, 0]:g}, {pos[a, 1]:g}) um; "
                         f"{int(np.sum(counts[counts > 1]))} contacts share a position (each needs its own)")
    return pos
