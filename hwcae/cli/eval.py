"""hwcae eval: one table of rate vs distortion for the CAE and the PCA / DWT baselines.

With --suite: the external benchmark instead of --data, one line per set (hwcae/spikes/suite.yaml:
spike sets made outside the training scenes, cut by detection on the noisy trace), each scored on
its own second half with PCA and DWT fitted on its first half; --checkpoint may be given several
times, and --rd adds the rate-distortion margins of further checkpoints against PCA at their bits.
"""
from __future__ import annotations

import argparse
import sys

from hwcae import RAW_BITS_PER_SPIKE
from hwcae.cli.data_args import DATA_HELP, add_align_arg, add_force_arg, check_outputs, load_spikes_arg, spec_files
from hwcae.validate import bounded


def add_parser(sub):
    p = sub.add_parser("eval", help="rate-distortion table: CAE vs PCA and DWT (or the external suite)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="synth", help=DATA_HELP)
    p.add_argument("--checkpoint", action="append",
                   help="float or QAT checkpoint adding the CAE row (with --suite: repeatable, one column each)")
    p.add_argument("--bits-per-spike", type=bounded(float, 1, RAW_BITS_PER_SPIKE),
                   help=f"baselines' bit budget, 1 to {RAW_BITS_PER_SPIKE} (default: the CAE's, else 112)")
    p.add_argument("--fit-data", help="fit the baselines on these spikes instead of the first half of --data")
    p.add_argument("--bounds", action="store_true",
                   help="also print reference levels vs clean (noisy input, best linear denoiser, "
                        "unit template); needs clean twins")
    p.add_argument("--by-recording", action="store_true",
                   help="also print each recording's spike count, rate, noise (uV) and every row's SNDR "
                        "(needs recording ids, as synth sets have)")
    p.add_argument("--suite", action="store_true", help="score the external benchmark instead of --data")
    p.add_argument("--split", default="final", choices=("final", "val"),
                   help="with --suite: the reported seeds (final) or those for choosing recipes (val)")
    p.add_argument("--sets", help="with --suite: comma-separated set names (default: all)")
    p.add_argument("--rd", nargs="+", metavar="CKPT", help="with --suite: rate-distortion checkpoints (e.g. "
                   "models/rd/*.pt), each against PCA at its own bits on every set, beside the first --checkpoint")
    p.add_argument("--calibrate", metavar="LEVELS", help="with --suite: instead of the generic scores, what "
                   "`hwcae adapt` buys per set at these comma-separated levels (decoder,codebook,all): each "
                   "recording's first half in time calibrates (noisy spikes only) and fits PCA, second halves scored")
    p.add_argument("--json", help="also write every number to this JSON file")
    add_force_arg(p)
    add_align_arg(p)
    return p


def _named(paths) -> dict:
    """Checkpoint paths by their file stem (the full path where two stems clash)."""
    from pathlib import Path

    out = {}
    for p in paths or []:
        out[str(p) if Path(p).stem in out else Path(p).stem] = p
    return out


def run_suite_verb(args) -> int:
    from hwcae.api import evaluate_suite
    from hwcae.evaluate.suite import format_suite
    from hwcae.fileio import json_text, write_text_atomic

    only = [s.strip() for s in args.sets.split(",")] if args.sets else None
    if args.calibrate:
        return _calibration(args, only)
    result = evaluate_suite(_named(args.checkpoint), split=args.split, sets=only, rd_checkpoints=_named(args.rd))
    print(f"external suite, {args.split} seeds ({len(result)} sets)")
    print(format_suite(result))
    if args.json:
        write_text_atomic(args.json, json_text({"split": args.split, "sets": result}))
        print(f"wrote {args.json}")
    return 0


def _calibration(args, only) -> int:
    from hwcae.api import evaluate_calibration
    from hwcae.evaluate.calibration import format_calibration
    from hwcae.fileio import json_text, write_text_atomic

    levels = [x.strip() for x in args.calibrate.split(",")]
    result = evaluate_calibration(_named(args.checkpoint), levels, split=args.split, sets=only)
    print(format_calibration(result))
    if args.json:
        write_text_atomic(args.json, json_text({"split": args.split, "calibration": result}))
        print(f"wrote {args.json}")
    return 0


def run(args) -> int:
    from hwcae.api import evaluate_set
    from hwcae.errors import HwcaeError
    from hwcae.evaluate.table import format_table
    from hwcae.fileio import json_text, write_text_atomic

    check_outputs(args, [args.json], [*(args.checkpoint or []), *(args.rd or []),
                                      *([] if args.suite else spec_files(args.data, args.fit_data))])
    if args.suite:
        return run_suite_verb(args)
    if args.rd or args.sets or args.calibrate or args.split != "final":
        raise HwcaeError("--rd, --sets, --calibrate and --split belong to --suite")
    if args.checkpoint and len(args.checkpoint) > 1:
        raise HwcaeError("give one --checkpoint (several only with --suite)")
    data, desc = load_spikes_arg(args, args.data)
    fit = load_spikes_arg(args, args.fit_data)[0] if args.fit_data else None
    if fit is None and len(data) < 4:
        raise HwcaeError(f"--data has {len(data)} spikes; need at least 4 to fit and score")
    result = evaluate_set(data, args.checkpoint[0] if args.checkpoint else None, bits=args.bits_per_spike,
                          fit_spikes=fit, bounds=args.bounds, by_recording=args.by_recording, progress=True)
    result["data"] = desc
    print(f"data: {desc['source']} ({result['scored_spikes']} spikes scored; {result['split']})")
    print(format_table(result))
    notes = {r["sndr_note"] for r in [result, *result["baselines"].values()] if r.get("sndr_note")}
    for note in sorted(notes):
        print(f"hwcae: warning: SNDR {note}; the means are over the others", file=sys.stderr)
    if args.json:
        write_text_atomic(args.json, json_text(result))
        print(f"wrote {args.json}")
    return 0
