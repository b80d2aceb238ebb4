"""hwcae qat: quantisation-aware fine-tuning of the encoder for a fixed-point design."""
from __future__ import annotations

from hwcae.cli.data_args import add_align_arg, add_force_arg, check_outputs, load_spikes_arg, spec_files
from hwcae.validate import bounded, positive_int, seed

import shlex
import sys

from hwcae.quantize.design import DEFAULT_DESIGNS, qat_checkpoint


def add_parser(sub):
    p = sub.add_parser("qat", help="fine-tune a fixed-point (Brevitas) encoder from a float checkpoint",
                       description=__doc__)
    p.add_argument("--design", action="append", help="design YAML or name (repeatable); default: all defaults")
    p.add_argument("--from", dest="float_ckpt", help="float checkpoint (default: models/float.pt, or "
                   "models/float-<arch>.pt for designs of another architecture)")
    p.add_argument("--data", default="synth:train+synth:train-first")
    p.add_argument("--val", default="synth:val")
    p.add_argument("--out", help="checkpoint to write (default models/qat-<design>.pt; one design only), "
                   "its .json card beside it")
    p.add_argument("--epochs", type=bounded(int, 0, 10000),
                   help="override the design's QAT epochs (0: calibration only)")
    p.add_argument("--max-train", type=positive_int, default=24000, help="spikes of --data used per epoch (CPU budget)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--all", action="store_true", help="every default design")
    add_force_arg(p)
    add_align_arg(p)
    return p


def float_checkpoint_for(arch: str, given: str | None) -> str:
    if given:
        return given
    return "models/float.pt" if arch == "default" else f"models/float-{arch}.pt"


def run(args) -> int:
    from pathlib import Path

    import torch

    from hwcae.api import qat
    from hwcae.config import layered_files
    from hwcae.errors import HwcaeError
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.quantize.design import DESIGN_DIR, load_design

    names = args.design or DEFAULT_DESIGNS
    if args.out and len(names) > 1:
        raise HwcaeError("--out needs exactly one --design")
    designs = [load_design(n) for n in names]
    outs = [args.out or qat_checkpoint(d.name) for d in designs]
    floats = [float_checkpoint_for(d.arch, args.float_ckpt) for d in designs]
    for out in outs:
        if Path(out).suffix == ".json":
            raise HwcaeError(f"--out {out}: a checkpoint cannot be named .json (its card is written there); use .pt")
    inputs = [*(f for n in names for f in layered_files(n, DESIGN_DIR)), *floats, *spec_files(args.data, args.val)]
    check_outputs(args, [p for out in outs for p in (Path(out), Path(out).with_suffix(".json"))], inputs)
    payloads = [load_checkpoint(f, kind="float") for f in floats]
    for d, f, payload in zip(designs, floats, payloads):
        if payload["arch"]["name"] != d.arch:
            raise HwcaeError(f"design {d.name} quantises architecture {d.arch!r}, but {f} is {payload['arch']['name']!r}")
    train_set, _ = load_spikes_arg(args, args.data)
    val_set, _ = load_spikes_arg(args, args.val)
    if len(train_set) < 2:
        raise HwcaeError(f"QAT needs at least 2 training spikes, got {len(train_set)}")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    command = "hwcae qat " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    for name, d, float_ckpt, payload, out in zip(names, designs, floats, payloads, outs):
        p = qat(name, float_ckpt, train_set, val_set, out,
                     seed=args.seed, epochs=args.epochs, command=command, max_train=args.max_train)
        print(f"wrote {out}: val SNDR {p['metrics']['val_sndr_db']:.2f} dB (float {payload.get('metrics', {}).get('val_sndr_db', float('nan')):.2f} dB)")
    return 0
