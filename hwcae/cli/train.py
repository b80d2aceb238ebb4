"""hwcae train: train the float CAE from an architecture YAML."""
from __future__ import annotations

from hwcae.cli.data_args import add_align_arg, add_force_arg, check_outputs, load_spikes_arg, spec_files
from hwcae.validate import epochs, positive_int, seed

import shlex
import sys


def add_parser(sub):
    p = sub.add_parser("train", help="train the float CAE + VQ", description=__doc__)
    p.add_argument("--config", default="default", help="architecture name (hwcae/model/arch) or YAML path")
    p.add_argument("--data", default="synth:train+synth:train-first",
                   help="training spikes (.npz, synth:<preset>, several joined by +)")
    p.add_argument("--val", default="synth:val", help="validation spikes for early stopping")
    p.add_argument("--out", default="models/float.pt", help="checkpoint to write (atomically), its .json card beside it")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--epochs", type=epochs, default=None, help="override the config's epoch count")
    p.add_argument("--init", default=None, metavar="CKPT",
                   help="start from this float checkpoint: every tensor whose name and shape match is copied; the "
                        "codebook is refit by k-means if its size or the latent positions changed (for fine-tunes "
                        "and variants of a trained model, e.g. the same encoder at another rate)")
    p.add_argument("--resume", action="store_true", help="continue from OUT.resume if present")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="torch CPU threads (default: all cores); results are reproducible for a given count")
    add_force_arg(p)
    add_align_arg(p)
    return p


def check_train_outputs(args, out: str, inputs: list[str]) -> None:
    """The checkpoint, its card and (unless resuming) no interrupted run's state left behind."""
    from pathlib import Path

    from hwcae.errors import HwcaeError

    out_path = Path(out)
    if out_path.suffix == ".json":
        raise HwcaeError(f"--out {out}: a checkpoint cannot be named .json (its card is written there); use .pt")
    resume = Path(out + ".resume")
    if resume.exists() and not args.resume and not args.force:
        raise HwcaeError(f"{resume} holds an interrupted run; pass --resume to continue it or --force to start afresh")
    check_outputs(args, [out_path, out_path.with_suffix(".json")], inputs)


def run(args) -> int:
    import torch

    from hwcae.api import train
    from hwcae.config import layered_files
    from hwcae.model.config import ARCH_DIR, load_arch

    load_arch(args.config)  # a bad config is told before anything else
    check_train_outputs(args, args.out, [*layered_files(args.config, ARCH_DIR), *spec_files(args.data, args.val),
                                         *([args.init] if args.init else [])])
    torch.set_num_threads(args.threads or max(1, torch.get_num_threads()))
    train_set, train_desc = load_spikes_arg(args, args.data)
    val_set, val_desc = load_spikes_arg(args, args.val)
    command = "hwcae train " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    payload = train(args.config, train_set, val_set, args.out, seed=args.seed, epochs=args.epochs, resume=args.resume,
                    data_desc={"train": train_desc, "val": val_desc}, command=command, init=args.init)
    m = payload["metrics"]
    print(f"wrote {args.out}: val SNDR {m['val_sndr_db']:.2f} dB after {m['epochs_run']} epochs")
    return 0
