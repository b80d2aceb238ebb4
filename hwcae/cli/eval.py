"""hwcae eval: one table of rate vs distortion for the CAE and the PCA / DWT baselines."""
from __future__ import annotations

import json


def add_parser(sub):
    p = sub.add_parser("eval", help="rate-distortion table: CAE vs PCA and DWT", description=__doc__)
    p.add_argument("--data", default="synth", help="spikes to score (.npz, or synth[:preset]; synth = held-out test split)")
    p.add_argument("--checkpoint", help="float or QAT checkpoint adding the CAE row")
    p.add_argument("--bits-per-spike", type=float, help="baselines' bit budget (default: the CAE's, else 112)")
    p.add_argument("--fit-data", help="fit the baselines on these spikes instead of the first half of --data")
    p.add_argument("--bounds", action="store_true",
                   help="also print reference levels vs clean (noisy input, best linear denoiser, "
                        "unit template); needs clean twins")
    p.add_argument("--by-recording", action="store_true",
                   help="also print each recording's spike count, rate, noise (uV) and every row's SNDR "
                        "(needs recording ids, as synth sets have)")
    p.add_argument("--json", help="also write every number to this JSON file")
    return p


def run(args) -> int:
    from hwcae.errors import HwcaeError
    from hwcae.evaluate.table import evaluate, format_table
    from hwcae.fileio import write_text_atomic
    from hwcae.spikes.sources import load_data

    if args.bits_per_spike is not None and args.bits_per_spike < 1:
        raise HwcaeError("--bits-per-spike must be at least 1")
    data, desc = load_data(args.data)
    fit = load_data(args.fit_data)[0] if args.fit_data else None
    if fit is None and len(data) < 4:
        raise HwcaeError(f"--data has {len(data)} spikes; need at least 4 to fit and score")
    payload = None
    if args.checkpoint:
        from hwcae.model.checkpoint import load_checkpoint

        payload = load_checkpoint(args.checkpoint)
    result = evaluate(data, checkpoint=payload, bits=args.bits_per_spike, fit_data=fit, with_bounds=args.bounds,
                      by_recording=args.by_recording)
    result["data"] = desc
    print(f"data: {desc['source']} ({result['scored_spikes']} spikes scored; {result['split']})")
    print(format_table(result))
    if args.json:
        write_text_atomic(args.json, json.dumps(result, indent=2, default=float) + "\n")
        print(f"wrote {args.json}")
    return 0
