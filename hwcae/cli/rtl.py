"""hwcae rtl: Verilog for the fixed-point designs, bit-exact RTL and gate-level simulation, open synthesis.

For each design: generate the time-multiplexed datapath (hls/rtl.yaml: lanes, clock), simulate it in
Verilator against the NumPy reference on held-out spikes plus range-edge inputs, synthesise it with
Yosys to generic gates and simulate the netlist. Needs verilator and yosys on PATH (make rtl-tools).
Outputs under <out>/<design>/rtl/: Verilog, ROM images, netlist.v, verify.json, synth.json, README.md."""
from __future__ import annotations

from hwcae.cli.data_args import DATA_HELP, add_align_arg, load_spikes_arg
from hwcae.quantize.design import DEFAULT_DESIGNS, design_checkpoints


def add_parser(sub):
    p = sub.add_parser("rtl", help="Verilog + Verilator + Yosys for the fixed-point designs (make rtl)",
                       description=__doc__)
    p.add_argument("--design", action="append", help="design name (repeatable; default: all defaults)")
    p.add_argument("--checkpoint", help="QAT checkpoint (default models/qat-<design>.pt)")
    p.add_argument("--lanes", type=int, help="MAC units (default: hls/rtl.yaml)")
    p.add_argument("--data", default="synth", help=DATA_HELP)
    p.add_argument("--spikes", type=int, help="held-out spikes simulated in RTL (default: hls/rtl.yaml)")
    p.add_argument("--no-synth", action="store_true", help="skip Yosys and the gate-level simulation")
    p.add_argument("--out", default="hls/build", help="build folder (default: %(default)s)")
    p.add_argument("--json", help="write the summary rows here")
    p.add_argument("--jobs", type=int, default=2, help="designs built at once (default: %(default)s)")
    add_align_arg(p)
    return p


def summary_row(r: dict) -> dict:
    syn = r.get("synthesis", {})
    exact = [r["rtl_vs_reference"]["spikes_all_exact"]] + ([r["netlist_vs_reference"]["spikes_all_exact"]]
                                                           if "netlist_vs_reference" in r else [])
    return {"design": r["design"], "lanes": r["lanes"], "cycles/spike": r["cycles_per_spike"],
            "spikes/s": round(r["operating_point"]["spikes_per_s"]), "cells": syn.get("cells"),
            "flip-flops": syn.get("flip_flops"), "NAND2 eq": syn.get("nand2_eq"),
            "levels": syn.get("logic_levels"), "memory bits": sum(r["memory_bits"].values()),
            "rtl exact": f"{r['rtl_vs_reference']['spikes_all_exact']:.2%} of {r['rtl_vs_reference']['spikes']}",
            "netlist exact": (f"{r['netlist_vs_reference']['spikes_all_exact']:.2%} of {r['netlist_vs_reference']['spikes']}"
                              if "netlist_vs_reference" in r else "not run"),
            "all_exact": min(exact) == 1.0}


def run(args) -> int:
    import pandas as pd

    from hwcae.api import build_rtl
    from hwcae.errors import HwcaeError
    from hwcae.fileio import json_text, write_text_atomic
    from hwcae.rtl.flow import load_rtl_config
    from hwcae.operating_point import load_operating_point

    designs = args.design or DEFAULT_DESIGNS
    if args.checkpoint and len(designs) != 1:
        raise HwcaeError("--checkpoint needs exactly one --design")
    if args.lanes is not None and args.lanes < 1:
        raise HwcaeError(f"--lanes must be >= 1, got {args.lanes}")
    cfg = load_rtl_config()
    n = cfg.spikes if args.spikes is None else args.spikes
    data, _ = load_spikes_arg(args, args.data)
    if args.jobs < 1:
        raise HwcaeError(f"--jobs must be >= 1, got {args.jobs}")
    ckpts = design_checkpoints(designs, args.checkpoint)
    from joblib import Parallel, delayed

    # the slowest designs (conv encoders: most cycles to simulate) first, so the workers finish together
    order = sorted(designs, key=lambda d: "tiny" not in d and "conv" not in d)
    from tqdm import tqdm

    runs = Parallel(n_jobs=min(args.jobs, len(designs)), return_as="generator")(
        delayed(build_rtl)(ckpts[d], data.spikes[:n], out=args.out, lanes=args.lanes, synth=not args.no_synth)
        for d in order)
    reports = list(tqdm(runs, total=len(order), desc="rtl", unit="design"))
    by_design = dict(zip(order, reports))
    rows = [summary_row(by_design[d]) for d in designs]
    df = pd.DataFrame(rows)
    print()
    print(df.drop(columns="all_exact").to_string(index=False))
    print(load_operating_point().describe())
    print(f"spikes/s at the operating point's clock; NAND2 eq: Yosys generic gates weighted by "
          "NanGate 45 nm cell areas; memory bits: weight + bias ROM + activation RAM (not in the gate count)")
    if args.json:
        write_text_atomic(args.json, json_text(rows))
    return 0 if df["all_exact"].all() else 1
