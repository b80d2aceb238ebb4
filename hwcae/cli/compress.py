"""hwcae compress / decompress: spikes or a whole recording <-> an entropy-coded .hwc container.

INPUT is a spike set (.npz; optional keys 'times' and 'channels' are stored too, and 'fs', the
sampling rate in Hz, in the header when it is one rate) or a raw recording (any format
SpikeInterface reads, or raw binary with --fs --channels --dtype; its sampling rate is stored). A
recording is streamed in chunks: detect, align, 4 nearest channels, fixed-point encoder (QAT
checkpoint), entropy coding, appended to OUT; memory stays bounded whatever its length.
"""
from __future__ import annotations

from pathlib import Path

from hwcae.cli.data_args import add_align_arg
from hwcae.codec.entropy import CODER_BY_NAME
from hwcae.cli.recording_args import add_recording_args
from hwcae.validate import channel_count, jobs, sampling_rate

DECOMPRESS_DOC = """hwcae decompress: an .hwc container -> spike times, channels and reconstructed spikes.

HWC is a container hwcae compress wrote (versions 1 to 3 read); --checkpoint is the model that wrote
it (the header holds its hash). --out is a spike set .npz, or NWB (--format nwb, or a name ending in
.nwb). The .npz holds:

  spikes    float32 (N, 4, 64)  reconstructed waveforms in microvolts (uV); channel 0 is the best one
  indices   int64 (N, S)        the symbols sent: codeword indices, then the gain code if the model has one
  times     int64 (N,)          each spike's trough, as a sample index of the recording
  channels  int64 (N,)          each spike's best channel
  fs        float64 ()          the recording's sampling rate in Hz: only when known (the header of
                                a version 3 file, or --fs); absent otherwise (no 0 or NaN stand-in)

NWB holds one SpikeEventSeries per best channel with times in seconds: the sampling rate comes from
the file, or --fs (required for a file that has none: version 1 or 2, or a spike set compressed
without 'fs'). --fs overrides the file's rate, with a warning when they differ.

Exit status 0: every spike decoded (a warning line when chunks were put back in order or
duplicates dropped). Exit status 2, with one 'hwcae: error:' line: spikes were lost (a damaged,
missing or foreign chunk, a file cut short); nothing is written unless --partial, which writes the
spikes that decode and still exits 2.
"""


def add_parser(sub):
    p = sub.add_parser("compress", help="spikes or a recording -> entropy-coded .hwc container",
                       description=__doc__, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("input", help="spike set .npz, or a recording file/folder")
    p.add_argument("out", help=".hwc file to write")
    p.add_argument("--checkpoint", required=True, help="float or QAT checkpoint (QAT: fixed-point reference "
                                                        "encoder; a recording needs a QAT checkpoint)")
    p.add_argument("--coder", choices=sorted(CODER_BY_NAME),
                   help="entropy coder (default: ans-ctx where the checkpoint has a pair table, else ans)")
    p.add_argument("--jobs", type=jobs, default=1, help="worker processes for a recording (joblib)")
    p.add_argument("--scheduler", help="Dask scheduler address (tcp://host:port): run the chunks there instead")
    p.add_argument("--json", help="write the run's figures (spikes, bytes, x real time, peak RSS) here")
    p.add_argument("--force", action="store_true", help="overwrite OUT")
    add_recording_args(p)
    add_align_arg(p)
    d = sub.add_parser("decompress", help=".hwc container -> spike times, channels and reconstructed spikes (.npz or .nwb)",
                       description=DECOMPRESS_DOC, formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    d.add_argument("hwc")
    d.add_argument("--checkpoint", required=True)
    d.add_argument("--out", required=True, help="file to write: spike set .npz (spikes, indices, times, channels, fs), or "
                                                "NWB (one SpikeEventSeries per best channel; model hash and compression ratio in notes)")
    d.add_argument("--format", choices=("auto", "npz", "nwb"), default="auto", help="auto: nwb when OUT ends in .nwb")
    d.add_argument("--fs", type=sampling_rate, help="the recording's sampling rate in Hz, for a file that stores none "
                                                    "(NWB needs one: spike times become seconds); overrides the file's")
    d.add_argument("--geometry", help="NWB: the probe geometry compress used (as for compress), so each spike's 4 "
                                      "electrodes are named right; without it, a line at 20 um as compress assumes")
    d.add_argument("--channels", type=channel_count, help="NWB without --geometry: the recording's channel count")
    d.add_argument("--subject", nargs="+", metavar="KEY=VALUE", help="NWB: the subject (not in the .hwc; nwbinspector "
                   "and DANDI need it), e.g. subject_id=m1 species='Mus musculus' sex=M age=P90D")
    d.add_argument("--force", action="store_true", help="overwrite --out")
    d.add_argument("--partial", action="store_true", help="a damaged or incomplete file: write the spikes that decode "
                                                          "(the exit status still tells spikes were lost)")
    d.set_defaults(_run=run_decompress)
    return p


def run(args) -> int:
    from hwcae.errors import HwcaeError
    from hwcae.fileio import check_outputs
    from hwcae.stream.signals import sigterm_interrupts

    if not Path(args.input).exists():
        raise HwcaeError(f"not found: {args.input}")
    check_outputs([args.out, args.json], force=args.force, inputs=[args.input, args.checkpoint, args.geometry])
    with sigterm_interrupts():  # a killed run leaves no temporary file behind
        return _compress(args)


def _compress(args) -> int:
    from hwcae.api import compress_recording, load_model

    codec = load_model(args.checkpoint)
    if args.input.endswith(".npz"):
        return _spike_set(args, codec)
    from hwcae.cli.recording_args import plan_from_args
    from hwcae.fileio import json_text, write_text_atomic
    from hwcae.metrics import recording_footings

    plan = plan_from_args(args, args.input)
    r = compress_recording(codec, plan, args.out, coder=args.coder, jobs=args.jobs, scheduler=args.scheduler,
                           progress=True)
    print(f"wrote {args.out}: {r.spikes:,} spikes from {r.channels} channels x {r.duration_s:.1f} s, "
          f"{r.bytes:,} bytes ({r.bytes * 8 / max(r.spikes, 1):.1f} bits/spike with times and channels); "
          f"{r.spikes_per_s:,.0f} spikes/s, {r.x_realtime:.2f}x real time, peak RSS {r.peak_rss_mb:.0f} MB")
    f = recording_footings(r.bytes * 8, channels=r.channels, duration_s=r.duration_s, fs_hz=plan.fs_hz, spikes=r.spikes)
    if r.spikes:
        print(f"compression ratio: vs the raw stream ({r.channels} ch x {plan.fs_hz / 1e3:g} kHz) of 16 / 12 / 10-bit samples "
              f"{f['cr_stream16']:.1f} / {f['cr_stream12']:.1f} / {f['cr_stream10']:.1f} at the measured {f['rate_hz']:.1f} "
              f"spikes/s per channel; vs 16 / 12 / 10-bit 4 x 64 snippets {f['cr_snippet16']:.1f} / {f['cr_snippet12']:.1f} / "
              f"{f['cr_snippet10']:.1f}")
    if args.json:
        write_text_atomic(args.json, json_text(r.as_dict() | {"footings": f}))
    return 0


def _spike_set(args, codec) -> int:
    import numpy as np

    from hwcae.api import compress
    from hwcae.cli.data_args import load_spikes_arg
    from hwcae.codec.bitstream import cr_bytes
    from hwcae.metrics import footings
    from hwcae.operating_point import load_operating_point

    s, _ = load_spikes_arg(args, args.input)
    with np.load(args.input) as z:
        times = z["times"] if "times" in z.files else None
        chans = z["channels"] if "channels" in z.files else None
    size = compress(codec, s.spikes, args.out, times=times, channels=chans, coder=args.coder, fs_hz=_set_rate(s))
    print(f"wrote {args.out}: {len(s)} spikes, {size:,} bytes, cr_bytes {cr_bytes(len(s), size):.1f} "
          f"({size * 8 / max(len(s), 1):.1f} bits/spike with times and channels)")
    if len(s):
        op = load_operating_point()
        f = footings(size * 8 / len(s), rate_hz=op.rate_hz, sample_rate_hz=op.sample_rate_hz)
        print(f"compression ratio vs 16 / 12 / 10-bit 4 x 64 snippets {f['cr_snippet16']:.1f} / {f['cr_snippet12']:.1f} / "
              f"{f['cr_snippet10']:.1f}; vs a raw 12-bit {op.sample_rate_hz / 1e3:g} kHz stream at {op.rate_hz:g} spikes/s "
              f"per channel (hls/operating_point.yaml) {f['cr_stream']:.1f}")
    return 0


def _set_rate(s) -> float:
    """A spike set's sampling rate for the header: its 'fs' when that is one rate the header can hold,
    else 0.0 (unknown), with a warning when the set has a rate that is not stored."""
    import sys

    import numpy as np

    from hwcae.errors import HwcaeError
    from hwcae.validate import rate_or_unknown

    rates = np.unique(np.asarray(0.0 if s.fs is None else s.fs, np.float64))
    if len(rates) > 1:
        print(f"hwcae: warning: the spike set has {len(rates)} sampling rates; the .hwc stores none", file=sys.stderr)
        return 0.0
    try:
        return rate_or_unknown(float(rates[0]), "its 'fs'")
    except HwcaeError as exc:
        print(f"hwcae: warning: the spike set's sampling rate is not stored: {exc}", file=sys.stderr)
        return 0.0


def run_decompress(args) -> int:
    from hwcae.fileio import check_outputs
    from hwcae.stream.signals import sigterm_interrupts

    nwb = args.format == "nwb" or (args.format == "auto" and str(args.out).endswith(".nwb"))
    check_outputs([args.out], force=args.force, inputs=[args.hwc, args.checkpoint, args.geometry])
    with sigterm_interrupts():
        return _decompress(args, nwb)


def loss_line(d) -> str:
    """What a decoded container lost, and why, in one line (:class:`hwcae.codec.container.Decoded`)."""
    if d.spikes_lost < 0:
        head = f"the chunks hold {len(d.times)} spikes but the header says {d.spikes_expected}"
    else:
        head = f"{d.spikes_lost} of {d.spikes_expected} spikes lost" if d.spikes_lost else f"all {d.spikes_expected} spikes decoded"
    return "; ".join([head, *d.problems, *d.notes])


def _decompress(args, nwb: bool) -> int:
    import sys

    import numpy as np

    from hwcae.api import load_model
    from hwcae.cli import EXIT_ERROR
    from hwcae.errors import HwcaeError
    from hwcae.fileio import atomic_path

    codec = load_model(args.checkpoint)
    if not Path(args.hwc).is_file():
        raise HwcaeError(f"file not found: {args.hwc}")
    try:
        d = codec.unpack(Path(args.hwc).read_bytes())
    except HwcaeError as exc:  # the header: name the file
        raise HwcaeError(f"{args.hwc}: {exc}") from None
    fs = _rate(args, d)
    if nwb and not fs:
        raise HwcaeError("an NWB file stores spike times in seconds: give the recording's sampling rate (--fs)")
    if not d.complete and not args.partial:
        keep = f" (--partial writes the {len(d.times)} spikes that decode)" if len(d.times) else ""
        raise HwcaeError(f"{args.hwc}: {loss_line(d)}; nothing written{keep}")
    rec = _decode(codec, d.indices)
    if nwb:
        _write_nwb(args, rec, d, codec.hash, fs)
    else:
        with atomic_path(args.out) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, spikes=rec, indices=d.indices, times=d.times, channels=d.channels,
                                    **({"fs": np.float64(fs)} if fs else {}))
    print(f"wrote {args.out}: {len(rec)} spikes from {d.chunks_ok} chunks")
    if not d.complete:
        print(f"hwcae: error: {args.hwc}: {loss_line(d)}", file=sys.stderr)
        return EXIT_ERROR
    if d.notes:
        print(f"hwcae: warning: {args.hwc}: {loss_line(d)}", file=sys.stderr)
    return 0


def _decode(codec, indices, batch: int = 8192):
    """The decoder over every spike, in batches with a progress bar when there are many (~0.1 ms/spike)."""
    import numpy as np
    from tqdm import tqdm

    if len(indices) <= 2 * batch:
        return codec.decode(indices)
    starts = range(0, len(indices), batch)
    return np.concatenate([codec.decode(indices[i:i + batch]) for i in tqdm(starts, desc="decode", unit="batch", leave=False)])


def _rate(args, d) -> float:
    """The sampling rate in Hz (0.0: unknown): --fs, else the file's; a warning when both are known and differ."""
    import sys

    if args.fs and d.fs_hz and abs(args.fs - d.fs_hz) > 1e-6 * d.fs_hz:
        print(f"hwcae: warning: {args.hwc}: --fs {args.fs:g} Hz differs from the file's sampling rate {d.fs_hz:g} Hz; "
              "using --fs", file=sys.stderr)
    return float(args.fs or d.fs_hz)


def _write_nwb(args, rec, d, model_hash: str, fs_hz: float) -> None:
    """The decoded spikes as NWB (:mod:`hwcae.stream.nwb_out`), with the model hash and compression ratio."""
    from datetime import datetime, timezone

    from hwcae.codec.bitstream import cr_bytes
    from hwcae.errors import HwcaeError
    from hwcae.spikes.readers import read_geometry
    from hwcae.stream.nwb_out import write_decoded_nwb

    hwc = Path(args.hwc)
    pos = read_geometry(args.geometry, args.channels) if args.geometry else None
    bad = [kv for kv in args.subject or () if "=" not in kv]
    if bad:
        raise HwcaeError(f"--subject takes KEY=VALUE pairs, not {bad[0]!r}")
    write_decoded_nwb(args.out, rec, d.times, d.channels, fs_hz=fs_hz, model_hash=model_hash,
                      compression_ratio=cr_bytes(len(d.times), hwc.stat().st_size), positions_um=pos,
                      n_channels=args.channels, source=hwc.name,
                      start_time=datetime.fromtimestamp(hwc.stat().st_mtime, timezone.utc),
                      subject=dict(kv.split("=", 1) for kv in args.subject or ()))
