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
    return p


def run(args) -> int:
    from hwcae.api import write_report

    r = write_report(args.out, data=args.data, checkpoint=args.checkpoint, rd_checkpoints=args.rd,
                     qat_checkpoints=args.qat, design=args.design, quick=args.quick)
    for spec, d in r["data"].items():
        print(f"{d['source']}:")
        for s in d["statements"]:
            print(f"  {s}")
    print(f"wrote {args.out}/index.html, report.json and {len(r['figures'])} figures")
    return 0
