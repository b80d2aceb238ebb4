"""Test-only writers of genuine recording files (SpikeGLX, Open Ephys binary, NWB, raw binary) holding a
generated ground-truth recording, and the score of a recording read back any way.

Each writer stores the recording the way the acquisition system would: int16 samples plus the
metadata that scales them to uV (SpikeGLX: imroTbl AP gain, imAiRangeMax, imMaxInt; Open Ephys:
bit_volts per channel; NWB: conversion x channel_conversion) and, where the format has one, the
probe geometry (SpikeGLX: imroTbl electrodes of a Neuropixels 1.0 probe, with snsGeomMap /
snsShankMap; NWB: rel_x / rel_y of the electrodes table). ``meta`` overrides let a test write a
file whose metadata lies (a wrong or zero gain, a missing key) while the samples stay right.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from hwcae.metrics import sndr_db
from hwcae.spikes.detect import noise_levels_uv
from hwcae.spikes.readers import extract_from_recording
from hwcae.spikes.snippets import cut_snippets, neighbour_table
from hwcae.spikes.synth import GroundTruthRecording, match_detections

NP1_ELECTRODES = np.arange(2, 18)  # Neuropixels 1.0 bank-0 electrodes the 16 channels sit on
NP1_UV_PER_BIT = 0.6 / 512 / 500 * 1e6  # imAiRangeMax / imMaxInt / AP gain 500: 2.34375 uV per bit
OE_BIT_VOLTS = 0.195  # Intan headstage: uV per bit
NWB_UV_PER_BIT = 0.5


def on_neuropixels(gt: GroundTruthRecording) -> GroundTruthRecording:
    """The recording with its channels in Neuropixels 1.0 electrode order. The generator's ``checker``
    layout is NP1.0's staggered pattern (x 0/16/32/48 um, 40 um rows, alternate columns 20 um apart)
    20 um lower than electrodes 2..17; moved up 20 um and ordered by electrode (y, then x) it is
    exactly those contacts, so every format can carry the same geometry. Relabelling only."""
    pos = gt.positions_um + np.array([0.0, 20.0])
    order = np.lexsort((pos[:, 0], pos[:, 1]))
    new_of_old = np.argsort(order)
    truth = {**gt.truth, "best_channels": new_of_old[gt.truth["best_channels"]]}
    return dataclasses.replace(gt, noisy=gt.noisy[:, order], clean=gt.clean[:, order], positions_um=pos[order],
                               truth=truth, channel_amplitude_uv=gt.channel_amplitude_uv[:, order])


def int16(traces_uv: np.ndarray, uv_per_bit) -> np.ndarray:
    return np.clip(np.rint(traces_uv / uv_per_bit), -32768, 32767).astype("<i2")


# -- raw binary --------------------------------------------------------------------------------

def write_binary(gt: GroundTruthRecording, folder: Path, gain_uv: float = 0.5) -> tuple[Path, Path]:
    """(interleaved int16 file, geometry text file of x y rows): what a user of raw binary passes."""
    folder.mkdir(parents=True, exist_ok=True)
    int16(gt.noisy, gain_uv).tofile(folder / "rec.bin")
    np.savetxt(folder / "geometry.txt", gt.positions_um)
    return folder / "rec.bin", folder / "geometry.txt"


# -- SpikeGLX ----------------------------------------------------------------------------------

def spikeglx_meta(gt: GroundTruthRecording, n_bytes: int, ap_gain: int = 500) -> dict:
    """The .ap.meta of a Neuropixels 1.0 (NP1000) probe saving channels 2..17 and the sync channel
    SY0 (SpikeGLX 20201103 keys; ``~`` marks a table)."""
    chans = NP1_ELECTRODES
    pos = gt.positions_um
    col, row = chans % 2, chans // 2
    geom_x = pos[:, 0] + 11.0  # snsGeomMap x is from the shank's left edge (probeinterface: from the 1st column)
    return {
        "acqApLfSy": "384,384,1", "appVersion": "20201103", "fileCreateTime": "2024-01-01T12:00:00",
        "fileName": "D:/data/hwcae_g0/hwcae_g0_imec0/hwcae_g0_t0.imec0.ap.bin", "fileSizeBytes": str(n_bytes),
        "fileTimeSecs": f"{len(gt.noisy) / gt.fs_hz:.6f}", "firstSample": "0", "gateMode": "Immediate",
        "imAiRangeMax": "0.6", "imAiRangeMin": "-0.6", "imDatApi": "3.31.0", "imDatPrb_pn": "NP1000",
        "imDatPrb_port": "1", "imDatPrb_slot": "2", "imDatPrb_sn": "18005116142", "imDatPrb_type": "0",
        "imMaxInt": "512", "imSampRate": f"{gt.fs_hz:g}", "imTrgRising": "true", "imTrgSource": "0",
        "nDataDirs": "1", "nSavedChans": str(len(chans) + 1), "snsApLfSy": f"{len(chans)},0,1",
        "snsSaveChanSubset": f"{chans[0]}:{chans[-1]},384", "trigMode": "Immediate", "typeImEnabled": "1",
        "typeNiEnabled": "0", "typeThis": "imec", "userNotes": "hwcae test recording",
        "~imroTbl": "(0,384)" + "".join(f"({c} 0 0 {ap_gain} 250 1)" for c in range(384)),
        "~snsChanMap": "(384,384,1)" + "".join(f"(AP{c};{c}:{c})" for c in chans) + "(SY0;768:768)",
        "~snsGeomMap": "(NP1000,1,0,70)" + "".join(f"(0:{x:g}:{y:g}:1)" for x, y in zip(geom_x, pos[:, 1])),
        "~snsShankMap": "(1,2,480)" + "".join(f"(0:{c}:{r}:1)" for c, r in zip(col, row)),
    }


def write_spikeglx(gt: GroundTruthRecording, folder: Path, *, meta: dict | None = None, truncate: int = 0) -> Path:
    """``folder/hwcae_g0_t0.imec0.ap.bin`` + ``.ap.meta``: int16 at AP gain 500 (2.34 uV/bit), the sync
    channel last; ``meta`` replaces keys (value None: drop the key); ``truncate`` cuts bytes off the end."""
    folder.mkdir(parents=True, exist_ok=True)
    data = int16(gt.noisy, NP1_UV_PER_BIT)
    sync = (np.arange(len(data)) // int(gt.fs_hz / 2) % 2).astype("<i2")  # 1 Hz square wave, as SpikeGLX's sync
    raw = np.column_stack([data, sync]).tobytes()
    bin_path = folder / "hwcae_g0_t0.imec0.ap.bin"
    bin_path.write_bytes(raw[:len(raw) - truncate])
    m = {**spikeglx_meta(gt, len(raw)), **(meta or {})}
    text = "".join(f"{k}={v}\n" for k, v in m.items() if v is not None)
    bin_path.with_suffix(".meta").write_text(text)
    return folder


# -- Open Ephys binary -------------------------------------------------------------------------

def write_openephys(gt: GroundTruthRecording, root: Path, *, bit_volts=None, drop_key: str | None = None,
                    truncate: int = 0) -> Path:
    """``root/Record Node 101/experiment1/recording1/``: structure.oebin and continuous/<stream>/
    continuous.dat (int16 at 0.195 uV/bit) + sample_numbers.npy + timestamps.npy (GUI 0.6 layout).
    ``bit_volts`` (scalar or per channel) is what the .oebin claims; ``drop_key`` removes one key
    from every channel's entry."""
    stream = "Acquisition_Board-100.Rhythm Data"
    rec_dir = root / "Record Node 101" / "experiment1" / "recording1"
    cont = rec_dir / "continuous" / stream
    cont.mkdir(parents=True, exist_ok=True)
    n = len(gt.noisy)
    raw = int16(gt.noisy, OE_BIT_VOLTS).tobytes()
    (cont / "continuous.dat").write_bytes(raw[:len(raw) - truncate])
    first = 48_000  # acquisition started before recording did, as usual
    np.save(cont / "sample_numbers.npy", np.arange(first, first + n, dtype=np.int64))
    np.save(cont / "timestamps.npy", np.arange(first, first + n) / gt.fs_hz)
    bv = np.broadcast_to(OE_BIT_VOLTS if bit_volts is None else bit_volts, (gt.noisy.shape[1],))
    channels = [{"channel_name": f"CH{i + 1}", "description": "Headstage data channel", "identifier": "genericdata.continuous",
                 "history": "Acquisition Board -> Record Node", "bit_volts": float(b), "units": "uV"}
                for i, b in enumerate(bv)]
    for ch in channels:
        ch.pop(drop_key, None)
    oebin = {"GUI version": "0.6.4", "continuous": [{
        "folder_name": stream + "/", "sample_rate": gt.fs_hz, "source_processor_name": "Acquisition Board",
        "source_processor_id": 100, "stream_name": "Rhythm Data", "recorded_processor": "Record Node",
        "recorded_processor_id": 101, "num_channels": len(channels), "channels": channels}],
        "events": [], "spikes": []}
    (rec_dir / "structure.oebin").write_text(json.dumps(oebin, indent=2))
    return root


# -- NWB ---------------------------------------------------------------------------------------

def write_nwb(gt: GroundTruthRecording, path: Path, *, conversion: float | None = None, channel_conversion=None,
              geometry: bool = True, series: bool = True) -> Path:
    """An NWB file (pynwb) with an electrodes table (rel_x / rel_y: the probe geometry) and an int16
    ElectricalSeries scaled by ``conversion`` (V per unit) x ``channel_conversion`` (per channel; by
    default each channel's own gain, 0.9-1.1, so a reader that skips it is caught). Passing either
    writes a file whose metadata lies about the samples (they keep the true scale)."""
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.ecephys import ElectricalSeries

    n_ch = gt.noisy.shape[1]
    chan_gain = 1.0 + 0.1 * np.sin(np.arange(n_ch))
    data = int16(gt.noisy / chan_gain, NWB_UV_PER_BIT)
    nwb = NWBFile(session_description="hwcae test recording", identifier="hwcae-test",
                  session_start_time=datetime(2024, 1, 1, 12, tzinfo=timezone.utc))
    device = nwb.create_device(name="probe", description="16-contact silicon probe")
    group = nwb.create_electrode_group(name="shank0", description="one shank", location="CA1", device=device)
    for x, y in gt.positions_um:
        kw = dict(rel_x=float(x), rel_y=float(y)) if geometry else {}
        nwb.add_electrode(group=group, location="CA1", **kw)
    if series:
        region = nwb.create_electrode_table_region(list(range(n_ch)), "all contacts")
        nwb.add_acquisition(ElectricalSeries(
            name="ElectricalSeries", data=data, electrodes=region, rate=gt.fs_hz, starting_time=0.0,
            conversion=NWB_UV_PER_BIT * 1e-6 if conversion is None else conversion,
            channel_conversion=chan_gain if channel_conversion is None else np.asarray(channel_conversion, float)))
    else:
        nwb.add_acquisition(TimeSeries(name="speed", data=np.zeros(10), unit="m/s", rate=10.0))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


# -- scoring -----------------------------------------------------------------------------------

def score(rec, gt: GroundTruthRecording, codec=None) -> dict:
    """What a user gets from ``rec`` (a recording read any way) against the truth: detect, align and cut
    through :func:`extract_from_recording` (300-6000 Hz band-pass, as the CLI), match detections to
    truth spikes. recall: share of truth spikes at least 5 noise SDs deep on their best channel that a
    detection matches; precision: share of detections that match a truth spike. The cut snippets are
    compared with the clean trace (band-passed the same way) cut at the same frames on the truth's 4
    nearest contacts: ``sndr_snippet_db`` (no model: only noise separates them) and ``scale`` (least
    squares gain of read vs clean: 1 when the file's gains are right). With ``codec`` the snippets are
    also encoded and decoded: ``sndr_decoded_db`` vs the same clean snippets."""
    import spikeinterface.preprocessing as spre
    from spikeinterface.core import NumpyRecording

    s, frames, chans = extract_from_recording(rec, chunk_s=1.0)
    noise = noise_levels_uv(gt.noisy)
    match = match_detections(gt, frames, chans, noise)
    real = match >= 0
    big = np.flatnonzero(gt.truth["amplitude_uv"] >= 5 * noise[gt.truth["best_channels"]])
    clean_rec = spre.bandpass_filter(NumpyRecording(gt.clean, gt.fs_hz), freq_min=300.0, freq_max=6000.0, dtype="float32")
    table = neighbour_table(gt.positions_um)
    ref = cut_snippets(clean_rec.get_traces(), frames[real], table[chans[real]])
    got = s.spikes[real]
    out = {"detections": len(frames), "truth_5sd": len(big), "recall": float(np.isin(big, match).mean()), "precision": float(real.mean()),
           "sndr_snippet_db": float(np.mean(sndr_db(ref, got))),
           "scale": float(np.sum(got * ref) / np.sum(ref * ref))}
    if codec is not None:
        out["sndr_decoded_db"] = float(np.mean(sndr_db(ref, codec.decode(codec.encode(got)))))
    return out
