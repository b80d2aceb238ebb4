"""The spike-set artifact: one ``.npz`` file of aligned 4-channel snippets.

Keys (see README "Data format"):

- ``spikes``  float32 (N, 4, 64), microvolts (uV); channel 0 is the best channel, whose negative
  peak sits at sample :data:`PEAK_SAMPLE`; channels 1-3 are its nearest neighbours on the probe.
- ``clean``   optional float32 (N, 4, 64) uV, the noise-free twin of ``spikes``.
- ``labels``  optional int64 (N,), ground-truth unit id.
- ``fs``      optional float, sampling rate in Hz (a scalar, or (N,) for mixed sets).
- ``recording`` optional int64 (N,): which recording each spike came from (splits use it).
- ``times``, ``channels`` optional integers (N,) in [0, 2^62): sample index and channel of each
  spike (``hwcae compress`` stores them); checked on load, not kept in the :class:`SpikeSet`.

A file is checked once, on load: at least one spike, shapes, dtypes, finite values.
"""
from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path

import numpy as np

from hwcae import N_CHANNELS, N_SAMPLES, PEAK_SAMPLE  # noqa: F401 (PEAK_SAMPLE is re-exported)
from hwcae.errors import HwcaeError
from hwcae.fileio import atomic_path
from hwcae.validate import index_array

#: Samples beyond +-FAR_UV (100 mV) are far outside any extracellular recorder's input range:
#: such a set is most likely in the wrong units (see :func:`far_spikes`).
FAR_UV = 1e5


@dataclasses.dataclass
class SpikeSet:
    """Aligned spike snippets in uV with optional ground truth."""

    spikes: np.ndarray
    clean: np.ndarray | None = None
    labels: np.ndarray | None = None
    fs: np.ndarray | float | None = None
    recording: np.ndarray | None = None

    def __post_init__(self) -> None:
        validate(self)

    def __len__(self) -> int:
        return int(self.spikes.shape[0])

    def subset(self, index) -> "SpikeSet":
        """Spikes selected by a boolean mask, slice or index array (ground truth follows)."""
        pick = lambda a: None if a is None else a[index]  # noqa: E731
        fs = self.fs if self.fs is None or np.ndim(self.fs) == 0 else self.fs[index]
        return SpikeSet(self.spikes[index], pick(self.clean), pick(self.labels), fs, pick(self.recording))

    def fs_per_spike(self) -> np.ndarray:
        """(N,) sampling rate of each spike in Hz (NaN where unknown)."""
        return np.broadcast_to(np.asarray(np.nan if self.fs is None else self.fs, float), (len(self),))

    def halves(self) -> tuple["SpikeSet", "SpikeSet"]:
        """First and second half (by order; synthetic sets are ordered by recording)."""
        n = len(self) // 2
        return self.subset(slice(0, n)), self.subset(slice(n, None))

    @staticmethod
    def concat(sets: list["SpikeSet"]) -> "SpikeSet":
        def cat(name):
            parts = [getattr(s, name) for s in sets]
            return None if any(p is None for p in parts) else np.concatenate(parts)

        fs_parts = [np.broadcast_to(np.asarray(s.fs, np.float64), (len(s),)) for s in sets if s.fs is not None]
        fs = np.concatenate(fs_parts) if len(fs_parts) == len(sets) else None
        if fs is not None and fs.size and np.all(fs == fs[0]):
            fs = float(fs[0])
        return SpikeSet(cat("spikes"), cat("clean"), cat("labels"), fs, cat("recording"))


def _check_waveforms(name: str, a: np.ndarray, n: int | None = None) -> np.ndarray:
    if not isinstance(a, np.ndarray) or a.ndim != 3 or a.shape[1:] != (N_CHANNELS, N_SAMPLES):
        shape = getattr(a, "shape", None)
        raise HwcaeError(f"'{name}' must have shape (N, {N_CHANNELS}, {N_SAMPLES}), got {shape}")
    if n is not None and a.shape[0] != n:
        raise HwcaeError(f"'{name}' has {a.shape[0]} spikes but 'spikes' has {n}")
    if not np.issubdtype(a.dtype, np.floating):
        raise HwcaeError(f"'{name}' must be floating point (uV), got {a.dtype}")
    with np.errstate(over="ignore"):
        a = a.astype(np.float32, copy=False)  # a value beyond float32's range becomes Inf here
    if not np.all(np.isfinite(a)):
        bad = int(np.flatnonzero(~np.isfinite(a).all(axis=(1, 2)))[0])
        raise HwcaeError(f"'{name}' contains NaN, Inf or values beyond float32's range (first at spike {bad})")
    return a


def far_spikes(s: SpikeSet) -> int:
    """How many spikes have a sample beyond +-FAR_UV (a warning, not an error: see FAR_UV)."""
    return int(np.count_nonzero(np.abs(s.spikes).max(axis=(1, 2)) > FAR_UV)) if len(s) else 0


def validate(s: SpikeSet) -> None:
    """Check shapes, dtypes and finiteness; convert to the canonical dtypes in place."""
    s.spikes = _check_waveforms("spikes", s.spikes)
    n = s.spikes.shape[0]
    if s.clean is not None:
        s.clean = _check_waveforms("clean", s.clean, n)
    for name in ("labels", "recording"):
        a = getattr(s, name)
        if a is None:
            continue
        a = np.asarray(a)
        if a.shape != (n,) or not np.issubdtype(a.dtype, np.integer):
            raise HwcaeError(f"'{name}' must be integers of shape ({n},), got {a.dtype} {a.shape}")
        setattr(s, name, a.astype(np.int64, copy=False))
    if s.fs is not None:
        fs = np.asarray(s.fs)
        if not (np.issubdtype(fs.dtype, np.floating) or np.issubdtype(fs.dtype, np.integer)) or fs.dtype == np.bool_:
            raise HwcaeError(f"'fs' must be a number (Hz), got {fs.dtype}")
        fs = fs.astype(np.float64)
        if fs.ndim not in (0, 1) or (fs.ndim == 1 and fs.shape != (n,)):
            raise HwcaeError(f"'fs' must be a scalar or have shape ({n},), got {fs.shape}")
        if not np.all(np.isfinite(fs)) or np.any(fs <= 0):
            raise HwcaeError("'fs' must be positive and finite (Hz)")
        s.fs = float(fs) if fs.ndim == 0 else fs


def load_spikes(path: str | os.PathLike) -> SpikeSet:
    """Load and validate a spike-set ``.npz``; any problem is one :class:`HwcaeError` line."""
    path = Path(path)
    if not path.is_file():
        raise HwcaeError(f"spike file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise HwcaeError(f"{path} is not an .npz spike set (not a zip archive; truncated or another format?)")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise HwcaeError(f"{path} is not a readable .npz spike set ({exc.__class__.__name__}: {exc})") from None
    if "spikes" not in data:
        raise HwcaeError(f"{path} has no 'spikes' array (found: {', '.join(sorted(data)) or 'nothing'})")
    try:
        s = SpikeSet(data["spikes"], data.get("clean"), data.get("labels"), data.get("fs"), data.get("recording"))
        if len(s) == 0:
            raise HwcaeError("holds no spikes ('spikes' has shape (0, 4, 64))")
        for name in ("times", "channels"):
            if name in data:
                index_array(name, data[name], len(s))
    except HwcaeError as exc:
        raise HwcaeError(f"{path}: {exc}") from None
    return s


def save_spikes(s: SpikeSet, path: str | os.PathLike, *, force: bool = True) -> Path:
    """Write a spike set atomically (temp file, then rename)."""
    arrays = {"spikes": s.spikes}
    for name in ("clean", "labels", "recording"):
        if getattr(s, name) is not None:
            arrays[name] = getattr(s, name)
    if s.fs is not None:
        arrays["fs"] = np.asarray(s.fs)
    with atomic_path(path, force=force) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    return Path(path)
