"""Options shared by the verbs that read spike sets (``--data`` and friends)."""
from __future__ import annotations

DATA_HELP = ("spikes: a spike set .npz, synth[:preset] (built-in split; synth = test), or suite:<set> / "
             "suite-val:<set> (the external benchmark)")


def add_align_arg(p) -> None:
    p.add_argument("--no-align", action="store_true",
                   help="keep spike sets as they are even if their troughs are not at sample 24 (by default such "
                        "a set is realigned per spike, with a note)")


def load_spikes_arg(args, spec: str):
    """(spike set, description) of ``spec``, honouring ``--no-align``."""
    from hwcae.api import load_spikes

    return load_spikes(spec, align=not getattr(args, "no_align", False), describe=True)
