"""hwcae compare: float vs fixed-point models on the same spikes, one row per model."""
from __future__ import annotations

from hwcae.cli.data_args import DATA_HELP, add_align_arg, add_force_arg, check_outputs, load_spikes_arg, spec_files

from pathlib import Path


def add_parser(sub):
    p = sub.add_parser("compare", help="float vs fixed-point table (SNDR, CR, index agreement, bits, MACs)",
                       description=__doc__)
    p.add_argument("--data", default="synth", help=DATA_HELP)
    p.add_argument("--float", dest="float_ckpt", default="models/float.pt")
    p.add_argument("--qat", nargs="+", help="QAT checkpoints (default: the committed checkpoint of every default "
                   "design, models/qat-<design>.pt, as make qat writes them)")
    p.add_argument("--json", help="write {'rows': [...]} here; a PNG plot is written beside it (JSON.png)")
    add_force_arg(p)
    add_align_arg(p)
    return p


def run(args) -> int:
    import pandas as pd

    from hwcae.api import compare_designs
    from hwcae.errors import HwcaeError
    from hwcae.fileio import json_text, write_text_atomic

    from hwcae.quantize.design import DEFAULT_DESIGNS, qat_checkpoint

    args.qat = args.qat or [qat_checkpoint(d) for d in DEFAULT_DESIGNS]
    if args.json and Path(args.json).suffix.lower() == ".png":
        raise HwcaeError(f"--json {args.json}: the plot is written beside it as .png; give a .json name")
    check_outputs(args, [args.json, args.json and Path(args.json).with_suffix(".png")],
                  [args.float_ckpt, *args.qat, *spec_files(args.data)])
    data, desc = load_spikes_arg(args, args.data)
    rows = compare_designs(args.float_ckpt, args.qat, data, progress=True)
    cols = ["design", "bits", "sndr_db_mean", "sndr_db_median", "sndr_clean_db_mean", "sndr_clean_db_median",
            "cr_fixed", "cr_entropy", "index_agreement", "weight_bits", "macs"]
    df = pd.DataFrame(rows)[cols]
    print(f"data: {desc['source']} ({len(data)} spikes)")
    with pd.option_context("display.width", 200):
        print(df.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for r in rows[1:]:
        print(f"saturation ({r['design']}): " + (", ".join(f"{k} {v}" for k, v in r["saturation"].items()) or "none"))
    if args.json:
        write_text_atomic(args.json, json_text({"data": desc["source"], "rows": rows}))
        plot(rows, Path(args.json).with_suffix(".png"))
    return 0


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hwcae.fileio import atomic_path

    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels = [r["design"] for r in rows]
    ax.bar(labels, [r["sndr_clean_db_mean"] for r in rows], color=["#888"] + ["#3a7"] * (len(rows) - 1))
    ax.set_ylabel("SNDR vs clean (dB, mean)")
    ax.set_title("Float vs fixed-point designs")
    for i, r in enumerate(rows):
        ax.text(i, r["sndr_clean_db_mean"], f"{r['sndr_clean_db_mean']:.2f}", ha="center", va="bottom", fontsize=8)
    plt.xticks(rotation=20)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
