"""The ``hwcae`` command: one thin module per verb over library functions.

Every verb module has ``add_parser(subparsers)`` and ``run(args) -> int``. A user-facing problem
(:class:`~hwcae.errors.HwcaeError`) and a bad argument (argparse's usage error) each print one line
``hwcae: error: ...`` and exit with status :data:`EXIT_ERROR`, without a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import re
import sys

EXIT_ERROR = 2  # a user-facing error, as argparse's usage errors


class UsageError(Exception):
    """A bad command-line argument (raised by :class:`Parser` instead of exiting)."""


class Parser(argparse.ArgumentParser):
    """argparse, except that a bad argument is one line and :func:`main` returns instead of exiting."""

    def error(self, message):
        # "argument --epochs: must be at least 1 (got '0')" -> "train: --epochs must be at least 1 (got '0')"
        m = re.match(r"argument ([^:/]+)(?:/[^:]+)?: (.*)$", message)
        text = message if not m else f"{m.group(1)}{'' if m.group(2).startswith('must') else ':'} {m.group(2)}"
        verb = self.prog.removeprefix("hwcae").strip()
        raise UsageError(f"{verb + ': ' if verb else ''}{text} (see {self.prog} --help)".replace("\n", " "))


VERBS = ["data", "train", "eval", "qat", "adapt", "compare", "hls", "rtl", "verify", "cost", "compress", "inspect", "report", "explore"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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

    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"hwcae: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        return int(args._run(args) or 0)
    except HwcaeError as exc:
        print(f"hwcae: error: {exc}".replace("\n", " "), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("hwcae: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
