"""hwcae hls: convert QAT encoders to Vitis (FPGA) and Catapult (ASIC) HLS projects, compile their
C simulation, and verify them bit for bit against the NumPy reference on held-out spikes."""
from __future__ import annotations

from hwcae.cli.data_args import DATA_HELP, add_align_arg, load_spikes_arg
from hwcae.quantize.design import DEFAULT_DESIGNS, design_checkpoints
from hwcae.export.backends import BACKENDS


def add_parser(sub):
    p = sub.add_parser("hls", help="HLS projects for the fixed-point designs (make hls)", description=__doc__)
    p.add_argument("--design", action="append", help="design name (repeatable; default: all defaults)")
    p.add_argument("--checkpoint", help="QAT checkpoint (default models/qat-<design>.pt)")
    p.add_argument("--backend", action="append", choices=list(BACKENDS),
                   help="default: all (" + "; ".join(f"{b.name}: {b.target}" for b in BACKENDS.values()) + ")")
    p.add_argument("--data", default="synth", help=DATA_HELP)
    p.add_argument("--spikes", type=int, default=2000, help="verification sample size")
    p.add_argument("--out", default="hls/build", help="build folder")
    p.add_argument("--synth", action="store_true", help="run synthesis if vitis_hls / catapult is on PATH")
    p.add_argument("--json", help="write the summary rows here")
    p.add_argument("--verbose", action="store_true", help="show what hls4ml, Brevitas and qonnx print (else <out>/build.log)")
    add_align_arg(p)
    return p


def run(args) -> int:
    import pandas as pd

    from hwcae.errors import HwcaeError
    from hwcae.api import verify_design
    from hwcae.fileio import json_text, write_text_atomic
    from hwcae.verify.design import summary_rows

    designs = args.design or DEFAULT_DESIGNS
    if args.checkpoint and len(designs) != 1:
        raise HwcaeError("--checkpoint needs exactly one --design")
    data, _ = load_spikes_arg(args, args.data)
    spikes = data.spikes[: args.spikes]
    from tqdm import tqdm

    rows = []
    ckpts = design_checkpoints(designs, args.checkpoint)
    bar = tqdm(designs, desc="hls", unit="design")
    for d in bar:
        bar.set_postfix_str(d)
        report = verify_design(ckpts[d], spikes, backends=tuple(args.backend or BACKENDS),
                               out=args.out, synth=args.synth, verbose=args.verbose,
                               progress=lambda m: bar.set_postfix_str(m[:70]) if not args.verbose else print(m))
        rows += summary_rows(report)
    df = pd.DataFrame(rows)
    view = df[["design", "backend", "csim_compiled", "spikes", "index_exact", "latent_exact", "project"]].copy()
    view["index_exact"] = (view["index_exact"] * 100).map("{:.2f} %".format)
    view["latent_exact"] = (view["latent_exact"] * 100).map("{:.2f} %".format)
    view["resources"] = "needs synthesis (hls4ml gives no estimate before it)"
    print()
    print(view.to_string(index=False))
    from hwcae.operating_point import load_operating_point

    print(load_operating_point().describe())
    notes = sorted(set(df["synthesis"]))
    print("synthesis: " + "; ".join(notes))
    if args.json:
        write_text_atomic(args.json, json_text(rows))
    bad = df[(df.index_exact < 1.0) | (df.latent_exact < 1.0)]
    return 1 if len(bad) else 0
