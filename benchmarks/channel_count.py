"""How well hwcae.spikes.interleave tells a wrong --channels of a raw binary file (issue 24).

Generated recordings (scenes tiny, train, val, unseen; 16, 32 and 64 channels; 1 s each) are
written as int16 raw binary in five variants: as generated (the generator's noise is white up to
Nyquist), anti-aliased (3rd-order low-pass at fs / 4, as a recorder's front end), anti-aliased plus
a field potential shared by every channel (per-channel gain 0.8-1.2) and DC offsets ("wide"),
anti-aliased plus 300 uV of 50 Hz hum on every channel, anti-aliased plus the same field potential
on every channel without offsets ("cm"). Each file is checked as if told 8, 16, 32, 64 and 128
channels. Prints, per variant, how often the true count was questioned (a false alarm) and how
often a wrong count was named (and whether as the true one), then the statistic (mean lag-1
autocorrelation after a common reference) told vs true.

    .venv/bin/python benchmarks/channel_count.py --seeds 8      # 96 recordings, ~30 min on 2 cores
"""
from __future__ import annotations

import argparse
import collections
import tempfile
from pathlib import Path

import numpy as np
from scipy import signal

from hwcae.spikes.interleave import channel_smoothness, plausible_channels
from hwcae.spikes.scene import draw_settings, scene
from hwcae.spikes.synth import generate_recording

SCENES = {"tiny": 5100, "train": 1100, "val": 2100, "unseen": 4100}
TOLD = (8, 16, 32, 64, 128)


def variants(gt, rng) -> dict:
    ch, t = gt.noisy.shape[1], np.arange(len(gt.noisy)) / gt.fs_hz
    aa = signal.lfilter(*signal.butter(3, 0.5, "low"), gt.noisy, axis=0)
    lfp = signal.lfilter(*signal.butter(2, 300 / gt.fs_hz * 2, "low"), np.cumsum(rng.normal(0, 1, len(t))))
    lfp = 200 * (lfp - lfp.mean()) / lfp.std()
    return {"asis": gt.noisy, "aa": aa, "wide": aa + lfp[:, None] * rng.uniform(0.8, 1.2, ch) + rng.normal(0, 500, ch),
            "hum": aa + 300 * np.sin(2 * np.pi * 50 * t)[:, None], "cm": aa + lfp[:, None]}


def measure(seeds: int, path: Path) -> list[dict]:
    rows = []
    for name, base in SCENES.items():
        for ch in (16, 32, 64):
            for seed in range(seeds):
                s = {**draw_settings(scene(name), base + seed), "channels": ch, "duration_s": 1.0}
                s["probe"] = "two_column" if s["probe"] == "tetrode" else s["probe"]
                gt = generate_recording(s)
                for v, tr in variants(gt, np.random.default_rng(seed)).items():
                    np.clip(np.rint(tr / 0.5), -32768, 32767).astype("<i2").tofile(path)
                    n = path.stat().st_size // 2
                    for told in (t for t in TOLD if n % t == 0):
                        g = plausible_channels(path, "int16", told)
                        st = channel_smoothness(path, "int16", n, told)
                        rows.append(dict(variant=v, ch=ch, told=told, named=None if g is None else g[0],
                                         r_told=st.get(told), r_true=st.get(ch)))
        print(f"{name} done", flush=True)
    return rows


def report(rows: list[dict]) -> None:
    alarms, trues, named, wrongs, right = (collections.Counter() for _ in range(5))
    for r in rows:
        if r["told"] == r["ch"]:
            trues[r["variant"]] += 1
            alarms[r["variant"]] += r["named"] is not None
        else:
            wrongs[r["variant"]] += 1
            named[r["variant"]] += r["named"] is not None
            right[r["variant"]] += r["named"] == r["ch"]
    for v in trues:
        print(f"{v:5s} true count questioned {alarms[v]}/{trues[v]}; wrong count named {named[v]}/{wrongs[v]} "
              f"(as the true one: {right[v]})")
    for v in ("asis", "aa"):
        print(f"{v}: median [min..max] statistic when told each count")
        for ch in (16, 32, 64):
            cells = []
            for told in TOLD:
                r = np.array([x["r_told"] for x in rows if x["variant"] == v and x["ch"] == ch and x["told"] == told])
                if len(r):
                    cells.append(f"{told}: {np.median(r):.2f} [{r.min():.2f}..{r.max():.2f}]")
            print(f"  true {ch}: " + " | ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2, help="recordings per scene and channel count")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report(measure(args.seeds, Path(tmp) / "rec.bin"))


if __name__ == "__main__":
    main()
