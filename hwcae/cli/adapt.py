"""hwcae adapt: calibrate a float or QAT checkpoint on your own spikes, without clean waveforms.

INPUT is a spike set .npz (only its noisy `spikes` are used; a `clean` array, if present, is
ignored) or a recording in any form `hwcae compress` takes (its first --seconds are detected and
cut). Levels follow what a chip allows: `decoder` (off chip only; the silicon is unchanged),
`codebook` (+ the codeword registers), `all` (+ the encoder weights, within the design's bit
widths). The output is the same kind as --from: a calibrated QAT checkpoint goes through
`hwcae hls`, `verify`, `cost` and `compress` unchanged. Its card records the level, the input's
hash and the seconds used.

examples:
  hwcae adapt my_spikes.npz --from models/qat-w8a8.pt --out models/qat-w8a8-mine.pt
  hwcae adapt rec.bin --fs 30000 --channels 64 --gain-uv 0.195 --seconds 100 \\
      --from models/qat-w8a8.pt --out mine.pt --level all
"""
from __future__ import annotations

import argparse
from pathlib import Path

from hwcae.adapt import DEFAULT_EPOCHS
from hwcae.cli.data_args import add_align_arg
from hwcae.cli.recording_args import add_recording_args
from hwcae.validate import bounded, duration_s, seed


def add_parser(sub):
    p = sub.add_parser("adapt", help="calibrate a checkpoint on your own spikes (no clean twin needed)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="spike set .npz or a recording (file or folder)")
    p.add_argument("--from", dest="checkpoint", required=True, help="float or QAT checkpoint to start from")
    p.add_argument("--out", required=True, help="calibrated checkpoint to write (atomically)")
    p.add_argument("--level", default="decoder", choices=("decoder", "codebook", "all"))
    p.add_argument("--seconds", type=duration_s, default=100.0, help="recording input: seconds from the start to use")
    p.add_argument("--epochs", type=bounded(int, 0, 10000), default=None,
                   help=f"fine-tuning epochs (default {DEFAULT_EPOCHS}; 0: no fine-tuning, only the codebook refit of levels "
                        "codebook/all and the coders' statistics)")
    p.add_argument("--pairs", type=bounded(int, 100, 10_000_000), default=30000, help="training pairs drawn per epoch (input spike, target)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--force", action="store_true", help="overwrite --out")
    add_recording_args(p)
    add_align_arg(p)
    return p


def _spikes(args):
    """(noisy spikes in uV, description of where they came from)."""
    import sys

    if args.input.endswith(".npz"):
        from hwcae.api import load_spikes

        s, desc = load_spikes(args.input, align=not args.no_align, describe=True)
        if s.clean is not None:
            print(f"hwcae: note: {args.input} has a clean twin; adapt ignores it (noisy spikes only)", file=sys.stderr)
        return s.spikes, {"source": args.input}
    import dataclasses

    from hwcae.api import extract_spikes
    from hwcae.cli.recording_args import plan_from_args

    plan = plan_from_args(args, args.input)
    used = min(plan.n_frames, int(round(args.seconds * plan.fs_hz)))
    s = extract_spikes(dataclasses.replace(plan, n_frames=used), progress=True)
    return s.spikes, {"source": args.input, "seconds_used": round(used / plan.fs_hz, 3)}


def run(args) -> int:
    from hwcae.errors import HwcaeError
    from hwcae.fileio import check_outputs
    from hwcae.stream.signals import sigterm_interrupts

    out = Path(args.out)
    if out.suffix == ".json":
        raise HwcaeError(f"--out {out}: a checkpoint cannot be named .json (its card is written there); use .pt")
    if not Path(args.input).exists():
        raise HwcaeError(f"not found: {args.input}")
    check_outputs([out, out.with_suffix(".json")], force=args.force, inputs=[args.input, args.checkpoint, args.geometry])
    with sigterm_interrupts():  # a killed run leaves no temporary file behind
        return _adapt(args)


def _adapt(args) -> int:
    from hwcae.api import calibrate

    spikes, source = _spikes(args)
    p = calibrate(args.checkpoint, spikes, args.out, level=args.level, epochs=args.epochs, seed=args.seed,
                  n_pairs=args.pairs, source=source)
    a = p["adapt"]
    h = a["history"]
    print(f"wrote {args.out}: level {a['level']} on {a['spikes']:,} spikes in {a['seconds']:.0f} s; held-out target "
          f"SNDR {h[0]['val_sndr_db']:.2f} -> {max(e['val_sndr_db'] for e in h):.2f} dB "
          f"(targets: {a['targets']['weight']:.2f} x the spikes projected on their {a['targets']['neighbours']} "
          f"neighbours' top {a['targets']['rank']} directions (neighbours shifted up to "
          f"{a['targets'].get('max_shift', 0)} samples into line), the rest the model's reconstruction"
          + (f"; residuals beyond {a['targets']['residual_threshold_uv']:.1f} uV kept"
             if "residual_threshold_uv" in a["targets"] else "") + ")")
    return 0
