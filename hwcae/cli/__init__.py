"""The ``hwcae`` command: one thin module per verb over library functions.

Every verb module has ``add_parser(subparsers)`` and ``run(args) -> int``. A user-facing problem
(:class:`~hwcae.errors.HwcaeError`) prints one line ``hwcae: error: ...`` and exits with status 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

VERBS = ["data", "train", "eval", "qat", "adapt", "compare", "hls", "rtl", "verify", "cost", "compress", "report"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hwcae",
        description="Deep compressive autoencoder for spike compression, from PyTorch to fixed-point HLS.",
    )
    parser.add_argument("--version", action="version", version=f"hwcae {__import__('hwcae').__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in VERBS:
        try:
            module = importlib.import_module(f"hwcae.cli.{verb}")
        except ModuleNotFoundError as exc:
            if exc.name == f"hwcae.cli.{verb}":
                continue  # verb not built yet
            raise
        p = module.add_parser(sub)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from hwcae.errors import HwcaeError

    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except HwcaeError as exc:
        print(f"hwcae: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hwcae: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
