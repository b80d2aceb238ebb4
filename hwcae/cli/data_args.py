"""Options shared by the verbs that read spike sets (``--data`` and friends) or write outputs."""
from __future__ import annotations

DATA_HELP = ("spikes: a spike set .npz, synth[:preset] (built-in split; synth = test), or suite:<set> / "
             "suite-val:<set> (the external benchmark)")


def add_align_arg(p) -> None:
    p.add_argument("--no-align", action="store_true",
                   help="keep spike sets as they are even if their troughs are not at sample 24 (by default such "
                        "a set is realigned per spike, with a note)")


def add_force_arg(p) -> None:
    p.add_argument("--force", action="store_true", help="overwrite existing output files")


def load_spikes_arg(args, spec: str):
    """(spike set, description) of ``spec``, honouring ``--no-align``."""
    from hwcae.api import load_spikes

    return load_spikes(spec, align=not getattr(args, "no_align", False), describe=True)


def spec_files(*specs: str | None) -> list[str]:
    """The files a ``--data``-style spec reads (its parts that are not ``synth``/``suite`` names)."""
    return [part for spec in specs if spec for part in spec.split("+")
            if not (part == "synth" or part.startswith(("synth:", "suite:", "suite-val:")))]


def check_outputs(args, outputs, inputs=()) -> None:
    """The output rule (:func:`hwcae.fileio.check_outputs`) with the verb's ``--force``, before any work."""
    from hwcae.fileio import check_outputs as _check

    _check(outputs, force=getattr(args, "force", False), inputs=inputs)
