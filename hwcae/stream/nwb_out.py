"""Decoded spikes -> an NWB file (``hwcae decompress --format nwb``), and back.

NWB's ``SpikeEventSeries`` holds snapshots that all span the same electrodes, while a decoded spike
spans its best channel and the 3 contacts nearest it (the compressor's neighbour table). So the file
holds one ``SpikeEventSeries`` per best channel (``spikes_ch007``: data (events, 4, 64) in uV with
``conversion`` 1e-6 to volts, over electrodes [7, then its 3 nearest], timestamps in seconds at each
spike's trough), all in the ``ecephys`` processing module. The electrodes table has one row per
channel of the source recording, with ``rel_x`` / ``rel_y`` when the probe geometry is given (the
``.hwc`` container stores best channels, not positions; without a geometry the neighbours are those
of a line at 20 um, as ``compress`` assumes for a recording without one). The model's content hash
and the compression ratio are in the file's ``notes`` (JSON) and in every series' description.
The subject (id, species, sex, age: what DANDI and nwbinspector require) is not in the ``.hwc``;
the caller passes it (``--subject subject_id=m1 species="Mus musculus" sex=M age=P90D``).
Written atomically (:func:`hwcae.fileio.atomic_path`).
"""
from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from hwcae.errors import HwcaeError
from hwcae.fileio import atomic_path
from hwcae.spikes.snippets import neighbour_table
from hwcae.spikes.spikeset import PEAK_SAMPLE


def _pynwb():
    try:
        import pynwb
    except ImportError as exc:
        raise HwcaeError(f"writing or reading NWB needs the Python package pynwb, which cannot be imported "
                         f"({exc.__class__.__name__}: {exc}); pip install pynwb") from None
    return pynwb


def write_decoded_nwb(out: str | os.PathLike, spikes_uv: np.ndarray, times: np.ndarray, channels: np.ndarray, *,
                      fs_hz: float, model_hash: str, compression_ratio: float, positions_um: np.ndarray | None = None,
                      n_channels: int | None = None, source: str = "", start_time: datetime | None = None,
                      subject: dict | None = None) -> Path:
    """Write decoded spikes ((N, 4, 64) uV, trough sample indices, best channels) to ``out`` (.nwb).

    ``positions_um`` (C, 2): the probe geometry the compressor used; otherwise ``n_channels``
    (default: the highest best channel + 1) channels on a line at 20 um. ``start_time``: the
    session's start (the ``.hwc`` does not store it; default: now), noted as assumed in ``notes``.
    ``subject``: fields of a pynwb ``Subject`` (subject_id, species, sex, age, ...)."""
    pynwb = _pynwb()
    from pynwb.ecephys import SpikeEventSeries

    spikes_uv, times, channels = np.asarray(spikes_uv, np.float32), np.asarray(times, np.int64), np.asarray(channels, np.int64)
    if not fs_hz or fs_hz <= 0:
        raise HwcaeError("NWB stores spike times in seconds: give the recording's sampling rate (--fs)")
    if not (len(spikes_uv) == len(times) == len(channels)):
        raise HwcaeError(f"{len(spikes_uv)} spikes, {len(times)} times, {len(channels)} channels")
    geometry = positions_um is not None
    n = len(positions_um) if geometry else max(n_channels or 0, int(channels.max(initial=-1)) + 1, 1)
    if channels.size and channels.max() >= n:
        raise HwcaeError(f"best channel {channels.max()} but the geometry has {n} channels")
    pos = np.asarray(positions_um, np.float64) if geometry else np.stack([np.zeros(n), 20.0 * np.arange(n)], axis=1)
    meta = {"software": "hwcae decompress", "model_hash": model_hash, "compression_ratio": round(float(compression_ratio), 4),
            "spikes": int(len(times)), "fs_hz": float(fs_hz), "geometry": "given" if geometry else "line at 20 um (assumed)",
            "source": str(source), "trough_sample": PEAK_SAMPLE, "session_start_time": "assumed (not in the .hwc)"}
    nwb = pynwb.NWBFile(session_description=f"spikes decoded by hwcae from {source or 'an .hwc file'}",
                        identifier=str(uuid.uuid4()),
                        session_start_time=start_time or datetime.now(timezone.utc), notes=json.dumps(meta),
                        source_script="hwcae decompress --format nwb", source_script_file_name="hwcae")
    if subject:
        try:
            nwb.subject = pynwb.file.Subject(**subject)
        except (TypeError, ValueError) as exc:
            raise HwcaeError(f"bad subject field ({str(exc).splitlines()[0][:120]}); pynwb's Subject takes subject_id, "
                             "species, sex, age, description, ...") from None
    device = nwb.create_device(name="probe", description="the probe of the compressed recording")
    group = nwb.create_electrode_group(name="probe", description="all channels of the compressed recording",
                                       location="unknown", device=device)
    for x, y in pos:
        nwb.add_electrode(group=group, location="unknown", **({"rel_x": float(x), "rel_y": float(y)} if geometry else {}))
    module = nwb.create_processing_module(name="ecephys", description=f"hwcae decoded spikes; {json.dumps(meta)}")
    table = neighbour_table(pos)
    for c in np.unique(channels):
        sel = channels == c
        region = nwb.create_electrode_table_region(table[c].tolist(), f"channel {c} and its 3 nearest contacts")
        module.add(SpikeEventSeries(name=f"spikes_ch{c:03d}", data=spikes_uv[sel], timestamps=times[sel] / fs_hz,
                                    electrodes=region, conversion=1e-6, resolution=-1.0,
                                    description=f"decoded spikes whose best channel is {c}; {json.dumps(meta)}"))
    with atomic_path(out) as tmp:
        with pynwb.NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)
    return Path(out)


def read_decoded_nwb(path: str | os.PathLike) -> dict:
    """What :func:`write_decoded_nwb` wrote, in time order: ``spikes`` (N, 4, 64) uV, ``times_s``,
    ``channels`` (best channel), ``electrodes`` (N, 4) and ``meta`` (the notes' JSON)."""
    pynwb = _pynwb()
    parts = []
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        for series in nwb.processing["ecephys"].data_interfaces.values():
            el = np.asarray(series.electrodes.data[:], np.int64)
            parts.append((series.data[:] * series.conversion * 1e6, series.timestamps[:], np.tile(el, (len(series.timestamps), 1))))
        meta = json.loads(nwb.notes)
    if not parts:
        return {"spikes": np.zeros((0, 4, 64), np.float32), "times_s": np.zeros(0), "channels": np.zeros(0, np.int64),
                "electrodes": np.zeros((0, 4), np.int64), "meta": meta}
    spikes, times, el = (np.concatenate(p) for p in zip(*parts))
    order = np.argsort(times, kind="stable")
    return {"spikes": spikes[order].astype(np.float32), "times_s": times[order], "channels": el[order, 0],
            "electrodes": el[order], "meta": meta}
