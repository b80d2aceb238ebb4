"""What a generated recording may look like: a validated *scene* of ranges, and one recording's
concrete settings drawn from it by seed.

The built-in splits (``hwcae/spikes/presets.yaml``) and the external suite
(``hwcae/spikes/suite.yaml``) are both scenes, read strictly (:func:`hwcae.config.safe_load`); every recording draws its own settings with its own
seed, so a split is reproducible from its YAML alone. Units: um, uV, Hz, ms.
"""
from __future__ import annotations

import functools
from importlib import resources
from typing import Literal

import numpy as np
import pydantic

from hwcae.config import Strict, parse, safe_load
from hwcae.errors import HwcaeError

#: Probe layouts: (columns, x pitch um, y pitch um, y shift per column um). Pitches are multiplied
#: by the recording's pitch scale.
LAYOUTS = {
    "two_column": (2, 20.0, 20.0, (0.0, 0.0)),
    "one_column": (1, 20.0, 25.0, (0.0,)),
    "four_column": (4, 16.0, 20.0, (0.0, 0.0, 0.0, 0.0)),
    "staggered": (3, 18.0, 22.0, (0.0, -11.0, 0.0)),
    "tetrode": (2, 25.0, 25.0, (0.0, 12.5)),
    "checker": (4, 16.0, 40.0, (0.0, 20.0, 0.0, 20.0)),  # Neuropixels 1.0-like staggered pairs
}
#: SpikeInterface ``generate_templates`` unit parameters a scene may set (ranges).
TEMPLATE_KEYS = ("alpha", "depolarization_ms", "repolarization_ms", "recovery_ms", "positive_amplitude",
                 "smooth_ms", "spatial_decay", "propagation_speed", "ellipse_shrink", "ellipse_angle",
                 "spatial_power")
Range = tuple[float, float]
MS_BEFORE, MS_AFTER = 2.0, 4.0  # template window around the trough (ms): whole samples at every fs_hz


def _ordered(name: str, r: Range) -> Range:
    if not r[0] <= r[1]:
        raise ValueError(f"{name} must be [low, high] with low <= high, got {list(r)}")
    return r


class Scene(Strict):
    """Ranges a recording's settings are drawn from (lists are choices, pairs are uniform ranges)."""

    description: str = ""
    duration_s: pydantic.PositiveFloat
    fs_hz: list[pydantic.PositiveFloat]
    probe: list[Literal[tuple(LAYOUTS)]]  # type: ignore[valid-type]
    pitch_scale: Range = (1.0, 1.0)
    channels: list[pydantic.PositiveInt]
    units: tuple[pydantic.PositiveInt, pydantic.PositiveInt]  # inclusive
    rate_hz: Range
    burst_fraction: float = pydantic.Field(0.0, ge=0, le=1)  # share of units firing in bursts
    noise_uv: Range
    noise_scale: Literal["linear", "log"] = "linear"  # noise_uv drawn uniformly, or log-uniformly
    noise_color: Range = (0.0, 0.0)  # spectral exponent a of 1/f^a (0 = white)
    noise_correlation: Range = (0.0, 0.0)  # shared part between neighbouring contacts, [0, 1)
    # template source, drawn per recording: `si` (SpikeInterface's parametric waveforms),
    # `multisource` (several current sources per unit: shapes change across channels;
    # multisource.py), `biophysical` (NEURON cells + LFPykit; the external suite only, never trained on)
    templates: list[Literal["si", "multisource", "biophysical"]] = ["si"]
    template_params: dict[str, Range] = {}
    spatial_profile: list[Literal["exponential", "power"]] = ["exponential"]
    unit_depth_um: Range = (5.0, 40.0)  # distance of the somata from the probe plane
    amplitude_scale: Range = (1.0, 1.0)  # per recording, log-uniform, on every template
    drift_um: Range = (0.0, 0.0)  # total movement along the probe over the recording
    jitter: pydantic.PositiveInt = 4  # sub-sample positions per sample (template upsampling)
    threshold: pydantic.PositiveFloat = 5.0  # detection threshold, x robust noise SD
    seeds: tuple[int, int]  # [first, last)

    @pydantic.model_validator(mode="after")
    def _check(self):
        for name in ("pitch_scale", "rate_hz", "noise_uv", "noise_color", "noise_correlation", "unit_depth_um",
                     "amplitude_scale", "drift_um", "units", "seeds"):
            _ordered(name, getattr(self, name))
        if self.seeds[0] == self.seeds[1]:
            raise ValueError("seeds must span at least one recording")
        if not (0 <= self.noise_correlation[0] and self.noise_correlation[1] < 1):
            raise ValueError("noise_correlation must lie in [0, 1)")
        if self.pitch_scale[0] <= 0 or self.amplitude_scale[0] <= 0 or self.noise_uv[0] <= 0:
            raise ValueError("pitch_scale, amplitude_scale and noise_uv must be positive")
        unknown = set(self.template_params) - set(TEMPLATE_KEYS)
        if unknown:
            raise ValueError(f"unknown template_params {sorted(unknown)}; known: {', '.join(TEMPLATE_KEYS)}")
        for k, r in self.template_params.items():
            _ordered(f"template_params.{k}", r)
        for fs in self.fs_hz:
            if (fs * MS_BEFORE / 1000) % 1 or (fs * MS_AFTER / 1000) % 1:
                raise ValueError(f"fs_hz {fs:g}: the template window ({MS_BEFORE} + {MS_AFTER} ms) must be whole samples")
        tp = self.template_params
        if tp.get("repolarization_ms", (0, 0.8))[1] + tp.get("recovery_ms", (0, 1.5))[1] >= MS_AFTER:
            raise ValueError(f"template_params: repolarization_ms + recovery_ms must stay below {MS_AFTER} ms")
        if tp.get("depolarization_ms", (0, 0.14))[1] >= MS_BEFORE:
            raise ValueError(f"template_params: depolarization_ms must stay below {MS_BEFORE} ms")
        return self


def _mapping(text: str, source: str) -> dict:
    """YAML text read strictly (:func:`hwcae.config.safe_load`: a repeated key is an error) as a mapping."""
    table = safe_load(text, source)
    if not isinstance(table, dict):
        raise HwcaeError(f"{source}: expected a mapping at the top level")
    return table


def scenes_from_text(text: str, source: str) -> dict[str, Scene]:
    """Every scene of a scenes YAML text (a top-level ``defaults`` key, anchors only, is skipped)."""
    return {name: parse(Scene, body, f"{source}: {name}") for name, body in _mapping(text, source).items()
            if name != "defaults"}


def load_scenes(package: str, filename: str) -> dict[str, Scene]:
    """Every scene of a YAML file shipped in ``package``."""
    return scenes_from_text(resources.files(package).joinpath(filename).read_text(), filename)


@functools.lru_cache(maxsize=1)
def presets() -> dict[str, Scene]:
    """The built-in splits (train, val, test, unseen, tiny)."""
    return load_scenes("hwcae.spikes", "presets.yaml")


class Suite(Strict):
    """The external benchmark's scenes (``suite.yaml``): ``val`` draws them with seeds + ``val_offset``."""

    val_offset: pydantic.PositiveInt
    sets: dict[str, Scene]


SUITE_SPLITS = ("final", "val")


@functools.lru_cache(maxsize=1)
def suite() -> Suite:
    text = resources.files("hwcae.spikes").joinpath("suite.yaml").read_text()
    return parse(Suite, _mapping(text, "suite.yaml"), "suite.yaml")


def suite_scene(name: str, split: str = "final") -> Scene:
    """The scene of one external set; the ``val`` split shifts its seeds by the suite's ``val_offset``."""
    sets = suite().sets
    if name not in sets:
        raise HwcaeError(f"unknown suite set {name!r}; choose from {', '.join(sets)}")
    if split not in SUITE_SPLITS:
        raise HwcaeError(f"unknown suite split {split!r}; choose from {', '.join(SUITE_SPLITS)}")
    sc = sets[name]
    if split == "val":
        off = suite().val_offset
        sc = sc.model_copy(update={"seeds": (sc.seeds[0] + off, sc.seeds[1] + off)})
    return sc


def scene(name: str) -> Scene:
    if name not in presets():
        raise HwcaeError(f"unknown preset {name!r}; choose from {', '.join(presets())}")
    return presets()[name]


def probe_positions(layout: str, channels: int, pitch_scale: float = 1.0) -> np.ndarray:
    """(channels, 2) contact positions in um, column by column."""
    cols, xp, yp, shift = LAYOUTS[layout]
    per_col = -(-channels // cols)
    pos = [(c * xp * pitch_scale, (r * yp + shift[c]) * pitch_scale) for c in range(cols) for r in range(per_col)]
    return np.asarray(pos[:channels], np.float64)


def draw_settings(sc: Scene, seed: int) -> dict:
    """One recording's concrete settings, drawn deterministically from its seed."""
    rng = np.random.default_rng(seed)
    units = int(rng.integers(sc.units[0], sc.units[1] + 1))

    def uni(r):
        return float(rng.uniform(*r))

    def log_uni(r):
        return float(np.exp(rng.uniform(np.log(r[0]), np.log(r[1]))))

    return dict(
        seed=int(seed), duration_s=float(sc.duration_s), fs_hz=float(rng.choice(sc.fs_hz)),
        probe=str(rng.choice(sc.probe)), pitch_scale=uni(sc.pitch_scale), channels=int(rng.choice(sc.channels)),
        units=units, rate_hz=[uni(sc.rate_hz) for _ in range(units)],
        bursting=[bool(rng.random() < sc.burst_fraction) for _ in range(units)],
        noise_uv=uni(sc.noise_uv) if sc.noise_scale == "linear" else log_uni(sc.noise_uv),
        noise_color=uni(sc.noise_color), noise_correlation=uni(sc.noise_correlation),
        templates=str(rng.choice(sc.templates)), template_params={k: list(v) for k, v in sc.template_params.items()},
        spatial_profile=str(rng.choice(sc.spatial_profile)), unit_depth_um=list(sc.unit_depth_um),
        amplitude_scale=log_uni(sc.amplitude_scale), drift_um=uni(sc.drift_um), jitter=int(sc.jitter),
        threshold=float(sc.threshold),
    )
