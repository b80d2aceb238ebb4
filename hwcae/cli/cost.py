"""hwcae cost: gates, SRAM, energy per spike, power per channel and channel capacity of a design."""
from __future__ import annotations

from hwcae.cli.data_args import add_force_arg, check_outputs
from hwcae.validate import nonneg_float, positive_float, positive_int


def add_parser(sub):
    from hwcae.operating_point import load_operating_point

    op = load_operating_point()
    p = sub.add_parser("cost", help="hardware cost and per-channel power of a fixed-point design", description=__doc__
                       + "\nEvery default comes from hls/operating_point.yaml, the one operating point of the HLS projects,"
                       " make rtl and this report.")
    p.add_argument("--checkpoint", help="QAT checkpoint (e.g. models/qat-w8a8.pt)")
    p.add_argument("--tech", help=f"node name (hwcae/cost/tech: 28nm, 45nm, 65nm) or tech YAML path (default {op.node})")
    p.add_argument("--channels", type=positive_int, help=f"recording channels the chip serves (default {op.channels})")
    p.add_argument("--rate-hz", type=positive_float, help=f"detected spikes per second per channel (default {op.rate_hz:g})")
    p.add_argument("--radio-pj-per-bit", type=nonneg_float,
                   help=f"radio energy per transmitted bit, pJ (default {op.radio_pj_per_bit:g})")
    p.add_argument("--clock-hz", type=positive_float, help=f"clock of the encoder, Hz (default {op.clock_hz:g})")
    p.add_argument("--reuse", type=positive_int, help="reuse factor of the hls4ml datapath (default: from hls/catapult.yaml)")
    p.add_argument("--lanes", type=positive_int, help="MAC lanes of hwcae's RTL engine (default: hls/rtl.yaml); its gates and "
                   "cycles are measured where `hwcae rtl` built the design, else estimated")
    p.add_argument("--hls-datapath", action="store_true",
                   help="cost hls4ml's per-layer datapath at --reuse instead of the RTL engine")
    p.add_argument("--power-budget-mw", type=positive_float, help=f"power budget of the chip, mW (default {op.power_budget_mw:g})")
    p.add_argument("--area-budget-mm2", type=positive_float, help=f"area budget of the encoders, mm^2 (default {op.area_budget_mm2:g})")
    p.add_argument("--instances", type=positive_int, help="fix the number of encoder instances (default: as many as needed)")
    p.add_argument("--json", help="write every number here")
    p.add_argument("--all", action="store_true", help="every default design x every node -> --out")
    p.add_argument("--out", default="reports/power", help="report folder for --all (OUT/summary.json marks a run)")
    p.add_argument("--validate", action="store_true", help="also print the ECON-T check and the chip table")
    add_force_arg(p)
    return p


def run(args) -> int:
    from dataclasses import asdict
    from pathlib import Path

    from hwcae.api import estimate_cost
    from hwcae.cost.estimate import Budget
    from hwcae.cost.report import summary_lines, table
    from hwcae.errors import HwcaeError
    from hwcae.export.backends import load_hls_config
    from hwcae.fileio import json_text, write_text_atomic
    from hwcae.operating_point import load_operating_point
    from hwcae.rtl.flow import load_rtl_config

    if args.all:
        if Path(args.out).exists() and not Path(args.out).is_dir():
            raise HwcaeError(f"--out {args.out} is a file; --all writes a report folder")
        check_outputs(args, all_outputs(args.out))  # every report, before any is written
    else:
        check_outputs(args, [args.json], [args.checkpoint])
    reuse = args.reuse or load_hls_config("catapult").reuse_factor
    lanes = None if args.hls_datapath else (args.lanes or load_rtl_config().lanes)
    budget = Budget.at_operating_point(channels=args.channels, rate_hz=args.rate_hz, radio_pj_per_bit=args.radio_pj_per_bit,
                                       clock_hz=args.clock_hz, reuse=reuse, lanes=lanes, power_budget_mw=args.power_budget_mw,
                                       area_budget_mm2=args.area_budget_mm2, instances=args.instances)
    if args.all:
        return _all(args, budget)
    if not args.checkpoint:
        raise HwcaeError("give --checkpoint (or --all)")
    r = estimate_cost(args.checkpoint, tech=args.tech, **asdict(budget))
    print(load_operating_point().describe())
    import pandas as pd

    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print(table(r).to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    if "rtl" in r:
        e = r["rtl"]
        print(f"RTL engine, {e['lanes']} lanes: {e['gates_ge']:,.0f} NAND2 eq, {e['cycles']:,} cycles/spike, "
              f"{e['sram_bits']:,} memory bits; {e['source']}")
        print(pd.DataFrame(e["blocks"]).to_string(index=False))
    for line in summary_lines(r):
        print(line)
    if args.validate:
        from hwcae.cost.validate import NEURAL_CHIPS, econ_t_check

        v = econ_t_check()
        print(f"ECON-T check (65 nm): energy {v['estimated_energy_pj']:,.0f} pJ vs published {v['published_energy_pj']:,.0f} "
              f"(x{v['energy_ratio']:.2f}); area {v['estimated_area_mm2']:.2f} vs {v['published_area_mm2']} mm^2 "
              f"(x{v['area_ratio']:.2f}, published area is the whole chip)")
        print(f"{'this design':55s} {r['tech']:>6s} {r['power_per_channel_uw']:8.3f} uW/ch (incl. radio)")
        for name, node, uw, note in NEURAL_CHIPS:
            print(f"{name:55s} {node:>6s} {uw:8.3f} uW/ch  {note}")
    if args.json:
        out = {k: v for k, v in r.items() if not k.startswith("_")}
        write_text_atomic(args.json, json_text(out))
    return 0


#: the seed's own model (issue 28), costed beside the default designs; not among the designs
#: `make hls` / `make qat` build by default (`DESIGN=paper-w8a8` does) nor in `make rtl` (grouped convs)
SEED_DESIGN = "paper-w8a8"


def cost_designs() -> list[str]:
    """The designs ``--all`` reports: the default designs, then the seed's own."""
    from hwcae.quantize.design import DEFAULT_DESIGNS

    return [*DEFAULT_DESIGNS, SEED_DESIGN]


def design_nodes() -> list[tuple[str, str]]:
    """(design, node) of every report ``--all`` makes: each design of :func:`cost_designs` at each node."""
    from hwcae.cost.tech import TECH_DIR

    nodes = sorted(p.stem for p in TECH_DIR.glob("*.yaml"))
    return [(d, n) for d in cost_designs() for n in nodes]


def all_outputs(out) -> list:
    """Every file ``--all`` writes to ``out``: <design>-<node>.md / .csv / .png, and summary.json."""
    from pathlib import Path

    from hwcae.cost.report import report_paths

    return [p for d, n in design_nodes() for p in report_paths(out, d, n)] + [Path(out) / "summary.json"]


def _all(args, budget) -> int:
    """Every default design x every node: reports in --out and one overview table."""
    from dataclasses import asdict
    from pathlib import Path

    from tqdm import tqdm

    from hwcae.api import estimate_cost
    from hwcae.cost.report import operating_point, overview, write_report
    from hwcae.fileio import json_text, write_text_atomic
    from hwcae.operating_point import load_operating_point
    from hwcae.quantize.design import qat_checkpoint

    results, written = [], []
    for d, node in tqdm(design_nodes(), desc="cost", unit="report", leave=False):
        r = estimate_cost(qat_checkpoint(d), tech=node, **asdict(budget))
        written += write_report(r, args.out, budget)
        results.append({k: v for k, v in r.items() if not k.startswith("_") and k != "layers"})
    write_text_atomic(Path(args.out) / "summary.json", json_text(results))
    print(load_operating_point().describe())
    print(operating_point(results[0]))
    print(overview(results).to_string(index=False))
    print(f"wrote {len(written) + 1} files to {args.out}/ (<design>-<node>.md / .csv / .png, summary.json)")
    return 0
