"""hwcae report: rate-distortion, robustness, sorting impact, float vs fixed, examples and cost
on held-out data, as reports/index.html (+ PNGs and report.json with every number shown)."""
from __future__ import annotations


def add_parser(sub):
    p = sub.add_parser("report", help="the evaluation report (HTML + PNG + JSON)", description=__doc__)
    p.add_argument("--data", nargs="+", help="spike sets (.npz or synth:<preset>); default: synth:test synth:unseen")
    p.add_argument("--out", default="reports", help="folder for index.html, the PNGs and report.json")
    p.add_argument("--checkpoint", default="models/float.pt", help="the default float CAE")
    p.add_argument("--rd", nargs="*", help="CAE checkpoints at other rates (default: models/rd/*.pt)")
    p.add_argument("--qat", nargs="*", help="fixed-point checkpoints (default: models/qat-*.pt)")
    p.add_argument("--design", default="models/qat-w8a8.pt", help="the default fixed-point design (R-D star, cost)")
    p.add_argument("--quick", action="store_true", help="subsample (under 5 minutes on 2 cores; a smoke test)")
    p.add_argument("--force", action="store_true", help="replace an earlier report in --out")
    return p


#: The files a report writes into its folder.
REPORT_FILES = ("index.html", "report.json", "rd.png", "robustness.png", "sorting.png", "examples.png",
                "float_vs_fixed.png", "codebook.png")


def run(args) -> int:
    from pathlib import Path

    from hwcae.api import write_report
    from hwcae.cli.data_args import spec_files
    from hwcae.fileio import check_outputs
    from hwcae.stream.signals import sigterm_interrupts

    inputs = [*spec_files(*(args.data or [])), args.checkpoint, *(args.rd or []), *(args.qat or []), args.design]
    check_outputs([Path(args.out) / name for name in REPORT_FILES], force=args.force, inputs=inputs)
    with sigterm_interrupts():  # a killed run leaves no temporary file behind
        r = write_report(args.out, data=args.data, checkpoint=args.checkpoint, rd_checkpoints=args.rd,
                         qat_checkpoints=args.qat, design=args.design, quick=args.quick)
    for spec, d in r["data"].items():
        print(f"{d['source']}:")
        for s in d["statements"]:
            print(f"  {s}")
    print(f"wrote {args.out}/index.html, report.json and {len(r['figures'])} figures")
    return 0
