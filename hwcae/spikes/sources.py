"""Resolving a ``--data`` argument: a spike-set path, ``synth`` / ``synth:<preset>``, or
``suite:<set>`` / ``suite-val:<set>`` (a set of the external benchmark, final or val seeds), or
several of these joined by ``+``.

Spike-set files are checked for their alignment convention on load (:mod:`hwcae.spikes.align`):
a set whose troughs sit elsewhere than sample 24 is realigned per spike, and the user is told so
in one line on stderr, unless ``align=False`` (then a misaligned set is kept and the user is told
so). A set with samples beyond +-100 mV (:data:`~hwcae.spikes.spikeset.FAR_UV`: wrong units?)
gets a warning line with the count.
"""
from __future__ import annotations

import sys

from hwcae.spikes.spikeset import FAR_UV, SpikeSet, far_spikes, load_spikes


def _note(line: str) -> None:
    print(f"hwcae: note: {line}", file=sys.stderr)


def _warn(line: str) -> None:
    print(f"hwcae: warning: {line}", file=sys.stderr)


def load_data(spec: str, *, default_preset: str = "test", align: bool = True) -> tuple[SpikeSet, dict]:
    """(spike set, description). ``synth`` is the built-in held-out test split; ``A+B`` is A and B
    concatenated (e.g. ``synth:train+synth:train-first``)."""
    if "+" in spec:
        parts = [load_data(p, default_preset=default_preset, align=align) for p in spec.split("+")]
        s = SpikeSet.concat([p[0] for p in parts])
        return s, {"source": spec, "parts": [p[1] for p in parts], "spikes": len(s)}
    if spec == "synth" or spec.startswith("synth:"):
        from hwcae.spikes.synth import cached_spike_set, presets

        name = spec.split(":", 1)[1] if ":" in spec else default_preset
        s = cached_spike_set(name)
        return s, {"source": f"synth:{name}", "preset": presets()[name].model_dump(mode="json"), "spikes": len(s)}
    if spec.startswith(("suite:", "suite-val:")):
        from hwcae.spikes.scene import suite_scene
        from hwcae.spikes.synth import suite_set

        kind, name = spec.split(":", 1)
        split = "val" if kind == "suite-val" else "final"
        s = suite_set(name, split)
        return s, {"source": spec, "scene": suite_scene(name, split).model_dump(mode="json"), "spikes": len(s)}
    from hwcae.spikes.align import align_spike_set

    s = load_spikes(spec)
    far = far_spikes(s)
    if far:
        _warn(f"{spec}: {far} of {len(s)} spikes have samples beyond +-{FAR_UV:,.0f} uV, far outside any "
              "recorder's range (are the values in microvolts?)")
    s = align_spike_set(s, enabled=align, note=lambda line: (_note if align else _warn)(f"{spec}: {line}"))
    return s, {"source": spec, "spikes": len(s)}
