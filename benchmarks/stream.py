"""Streaming benchmark helpers: synthetic raw recordings of any size and one timed compress run each.

A recording is SpikeInterface's generator (two-column probe, 20 um pitch, units spread along it)
written as raw int16 like a probe's data file; ``hwcae compress`` runs on it in a fresh process so
that its peak RSS is its own.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

GAIN_UV = 0.5


def make_recording(folder: Path, channels: int, duration_s: float, fs_hz: float = 30000.0, seed: int = 0) -> dict:
    """Write ``rec.bin`` + ``geometry.csv`` into ``folder``; returns its description."""
    from hwcae.spikes.scene import draw_settings, scene
    from hwcae.spikes.synth import generate_recording, write_raw_recording

    folder.mkdir(parents=True, exist_ok=True)
    units = max(4, channels // 3)
    sc = scene("test").model_copy(update=dict(duration_s=duration_s, fs_hz=[fs_hz], probe=["two_column"],
                                              channels=[channels], units=(units, units), noise_uv=(8.0, 8.0), jitter=1))
    rec = generate_recording(draw_settings(sc, seed)).recording()
    t = time.perf_counter()
    write_raw_recording(rec, folder / "rec.bin", gain_uv=GAIN_UV, chunk_s=2.0)
    np.savetxt(folder / "geometry.csv", rec.get_channel_locations(), delimiter=",")
    return {"channels": channels, "duration_s": duration_s, "fs_hz": fs_hz, "units": units,
            "bytes": (folder / "rec.bin").stat().st_size, "write_s": time.perf_counter() - t}


def read_baseline(folder: Path, desc: dict, chunk_s: float = 1.0) -> float:
    """x real time of only reading the raw file through SpikeInterface, chunk by chunk (the floor)."""
    from hwcae.spikes.readers import open_recording, traces_uv

    rec = open_recording(folder / "rec.bin", "binary", fs_hz=desc["fs_hz"], channels=desc["channels"], gain_uv=GAIN_UV)
    n, step = rec.get_num_samples(), int(chunk_s * desc["fs_hz"])
    t = time.perf_counter()
    for s in range(0, n, step):
        traces_uv(rec, s, min(n, s + step))
    return desc["duration_s"] / (time.perf_counter() - t)


def compress(folder: Path, desc: dict, checkpoint: str, jobs: int = 2, chunk_s: float = 1.0) -> dict:
    """Run ``hwcae compress`` on the recording in a fresh process (the CLI's default 1 s chunks);
    returns its --json figures."""
    out = folder / "result.json"
    cmd = [sys.executable, "-m", "hwcae", "compress", str(folder / "rec.bin"), str(folder / "out.hwc"),
           "--checkpoint", checkpoint, "--fs", str(desc["fs_hz"]), "--channels", str(desc["channels"]),
           "--gain-uv", str(GAIN_UV), "--geometry", str(folder / "geometry.csv"), "--jobs", str(jobs),
           "--chunk-s", str(chunk_s), "--json", str(out), "--force"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads(out.read_text())
