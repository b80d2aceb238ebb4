"""hwcae verify: Brevitas vs the NumPy reference vs qonnx vs the compiled C simulation, bit for bit.

The project folder names the backend (``.../vitis`` or ``.../catapult``); the design is rebuilt
there from the checkpoint (deterministic) and its C simulation run on the same inputs as the
others. Range-edge inputs (all-zero, full-scale, saturating) are always added."""
from __future__ import annotations

from pathlib import Path

from hwcae.cli.data_args import DATA_HELP, add_align_arg, load_spikes_arg
from hwcae.export.backends import BACKENDS

PAIRS = ("brevitas_vs_reference", "qonnx_vs_brevitas", "reference_vs_rtl", "reference_vs_csim", "brevitas_vs_csim")


def add_parser(sub):
    p = sub.add_parser("verify", help="bit-exact check: Brevitas, NumPy reference, qonnx, C simulation",
                       description=__doc__)
    p.add_argument("--checkpoint", required=True, help="QAT checkpoint")
    p.add_argument("--project", help="hls/build/<design>/<backend> to rebuild and simulate, backend one of "
                   + ", ".join(BACKENDS) + " (omit: no C simulation)")
    p.add_argument("--data", default="synth", help=DATA_HELP)
    p.add_argument("--spikes", type=int, default=10000, help="how many spikes of --data")
    p.add_argument("--qonnx", action="store_true", help="also run qonnx's executor on every input")
    p.add_argument("--rtl", action="store_true", help="also simulate the generated Verilog (Verilator; hls/rtl.yaml "
                   "lanes) into <build>/<design>/rtl/")
    p.add_argument("--json", help="write every number here")
    p.add_argument("--verbose", action="store_true", help="show what hls4ml, Brevitas and qonnx print (else build.log)")
    add_align_arg(p)
    return p


def run(args) -> int:
    from hwcae.api import verify_design
    from hwcae.errors import HwcaeError
    from hwcae.fileio import json_text, write_text_atomic
    from hwcae.verify.design import all_exact

    data, desc = load_spikes_arg(args, args.data)
    folder = Path(args.project) if args.project else None
    if folder is not None and folder.name not in BACKENDS:
        raise HwcaeError(f"--project must end in one of {', '.join(BACKENDS)}, got {folder}")
    result = verify_design(args.checkpoint, data.spikes[: args.spikes], backends=(folder.name,) if folder else (),
                           root=folder.parent if folder else None, qonnx_spikes=None if args.qonnx else 0,
                           rtl=args.rtl, verbose=args.verbose, progress=lambda *_: None)
    result["data"] = desc["source"]
    from hwcae.operating_point import load_operating_point

    print(f"{result['design']}: {result['spikes']} spikes ({result['edge_inputs']} range-edge) from {desc['source']}")
    print(load_operating_point().describe())
    pairs = {**{k: result[k] for k in PAIRS if k in result},
             **{f"{k} ({n})": result[n][k] for n in BACKENDS if n in result for k in PAIRS if k in result[n]}}
    for pair, r in pairs.items():
        extra = f"  first mismatch: spike {r['first_mismatch_spike']} ({r['first_mismatch_in']})" if "first_mismatch_spike" in r else ""
        print(f"  {pair:34s} latent {r['latent_exact']:.4%}  index {r['index_exact']:.4%}{extra}")
    sat = {k: v for k, v in result["saturation"].items() if v}
    print("  saturation events per quantiser: " + (", ".join(f"{k} {v}" for k, v in sat.items()) or "none"))
    if args.json:
        write_text_atomic(args.json, json_text(result))
    return 0 if all_exact(result) else 1
