"""Resolving a ``--data`` argument: a spike-set path, or ``synth`` / ``synth:<preset>``."""
from __future__ import annotations

from hwcae.spikes.spikeset import SpikeSet, load_spikes


def load_data(spec: str, *, default_preset: str = "test") -> tuple[SpikeSet, dict]:
    """(spike set, description). ``synth`` is the built-in held-out test split."""
    if spec == "synth" or spec.startswith("synth:"):
        from hwcae.spikes.synth import cached_spike_set, presets

        name = spec.split(":", 1)[1] if ":" in spec else default_preset
        s = cached_spike_set(name)
        return s, {"source": f"synth:{name}", "preset": presets()[name], "spikes": len(s)}
    s = load_spikes(spec)
    return s, {"source": spec, "spikes": len(s)}
