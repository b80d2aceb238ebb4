"""The search space of ``hwcae explore`` as validated YAML (``explore/space.yaml``).

Every dimension is a list of choices or an integer range ``{low, high, step}``; every value is
bounded so that a typo cannot ask for a 64k-wide layer. A trial draws one value per dimension
(:func:`sample`): an encoder (generated from the ``base`` architecture, or a named one with its
trained float checkpoint), the fixed-point words, the hardware (lanes, clock, node). The quality
sets must be the external suite's validation sets (``suite-val:<set>``) or built-in splits; the
final suite (``suite:<set>``) is never searched on.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import pydantic

from hwcae.config import Strict, load_yaml
from hwcae.quantize.design import DEFAULT_DESIGNS
from hwcae.errors import HwcaeError

Small = pydantic.conint(ge=1, le=4096)


class IntRange(Strict):
    low: pydantic.conint(ge=1, le=65536)
    high: pydantic.conint(ge=1, le=65536)
    step: pydantic.conint(ge=1, le=65536) = 1

    @pydantic.model_validator(mode="after")
    def _order(self):
        if self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        return self

    def values(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.step))


IntDim = pydantic.conlist(pydantic.conint(ge=1, le=65536), min_length=1, max_length=64) | IntRange


def choices(dim) -> list:
    return dim.values() if isinstance(dim, IntRange) else list(dim)


class Named(Strict):
    """A named architecture whose trained float checkpoint is reused (quantisation-only trials)."""

    arch: str
    checkpoint: str


class Architecture(Strict):
    base: str = "default"  # arch name or YAML the generated encoders derive from (decoder, gain, recipe)
    named: list[Named] = pydantic.Field([], max_length=8)
    generate: bool = True  # also draw generated dense encoders
    depth: IntDim = [2]  # hidden layers
    width: IntDim = [64]  # units per hidden layer
    positions: pydantic.conlist(Literal[1, 2, 4, 8, 16, 32, 64], min_length=1, max_length=7) = [16]
    latent_dim: IntDim = [2]
    codebook_size: pydantic.conlist(pydantic.conint(ge=8, le=4096), min_length=1, max_length=16) = [128]

    @pydantic.model_validator(mode="after")
    def _some(self):
        if not self.generate and not self.named:
            raise ValueError("no encoder to draw: set generate: true or list named architectures")
        if max(choices(self.depth)) > 8 or max(choices(self.width)) > 1024 or max(choices(self.latent_dim)) > 64:
            raise ValueError("depth <= 8, width <= 1024 and latent_dim <= 64 (a trial must stay small)")
        return self


class Bits(Strict):
    input: IntDim = [12]
    weights: IntDim = [8]
    activations: IntDim = [8]
    latent: IntDim = [12]
    codebook: IntDim = [10]

    @pydantic.model_validator(mode="after")
    def _range(self):
        for k in ("input", "weights", "activations", "latent", "codebook"):
            c = choices(getattr(self, k))
            if min(c) < 2 or max(c) > 24:
                raise ValueError(f"{k}: bit widths must be 2..24")
        return self


class Hardware(Strict):
    lanes: IntDim = [16]
    clock_mhz: pydantic.conlist(pydantic.confloat(gt=0, le=2000), min_length=1, max_length=16) = [20.0]
    node: pydantic.conlist(str, min_length=1, max_length=8) = ["65nm"]


class OperatingPoint(Strict):
    channels: pydantic.conint(ge=1, le=1 << 20) = 1024
    rate_hz: pydantic.confloat(gt=0, le=1e4) = 50.0
    power_budget_mw: pydantic.confloat(gt=0, le=1e6) = 10.0
    area_budget_mm2: pydantic.confloat(gt=0, le=1e6) = 4.0


class Data(Strict):
    train: str = "synth:train"
    train_spikes: pydantic.conint(ge=16, le=200000) = 6000
    val: str = "synth:val"
    val_spikes: pydantic.conint(ge=8, le=100000) = 1000
    check_spikes: pydantic.conint(ge=1, le=100000) = 200  # bit-exact check: Brevitas vs the NumPy reference
    quality: pydantic.conlist(str, min_length=1, max_length=16) = ["suite-val:noise-low", "suite-val:noise-high"]
    quality_spikes: pydantic.conint(ge=8, le=100000) = 1500  # scored per set (second half, evenly spread)

    @pydantic.field_validator("quality")
    @classmethod
    def _not_final(cls, q):
        for s in q:
            if s.startswith("suite:"):
                raise ValueError(f"{s}: the final suite is never searched on; use suite-val:{s[6:]}")
        return q


class Recipe(Strict):
    float_epochs: pydantic.conint(ge=1, le=1000) = 4
    qat_epochs: pydantic.conint(ge=0, le=1000) = 1
    qat_lr: pydantic.confloat(gt=0, le=1) = 2e-4
    min_sndr_db: pydantic.confloat(ge=-100, le=100) = 0.0  # below this on val: "did not converge"
    # saturated activations per held-out spike (mean, the ADC word not counted): above this, "saturates"
    max_saturation: pydantic.confloat(ge=0, le=1e6) = 8.0


class Committed(Strict):
    """The committed designs drawn on the front, costed at this hardware point."""

    designs: pydantic.conlist(str, max_length=16) = pydantic.Field(default_factory=lambda: list(DEFAULT_DESIGNS))
    lanes: Small = 16
    clock_mhz: pydantic.confloat(gt=0, le=2000) = 20.0
    node: str = "45nm"


class Space(Strict):
    name: str = pydantic.Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    description: str = ""
    seed: pydantic.conint(ge=0, le=2**31 - 1) = 0
    sampler: Literal["nsga2", "tpe"] = "nsga2"
    population: pydantic.conint(ge=2, le=1000) = 12  # NSGA-II generation size
    operating_point: OperatingPoint = OperatingPoint()
    data: Data = Data()
    recipe: Recipe = Recipe()
    architecture: Architecture = Architecture()
    bits: Bits = Bits()
    hardware: Hardware = Hardware()
    committed: Committed = Committed()


def load_space(path: str | Path) -> Space:
    space = load_yaml(Space, path)
    from hwcae.cost.tech import load_tech

    for node in {*space.hardware.node, space.committed.node}:
        load_tech(node)  # an unknown node is one line now, not a failed trial later
    return space


def sample(trial, space: Space) -> dict:
    """One candidate drawn by an Optuna trial: {arch (dict or None), named (checkpoint or None), bits, hw}."""
    a = space.architecture
    options = [n.arch for n in a.named] + (["generated"] if a.generate else [])
    pick = trial.suggest_categorical("encoder", options)
    cand = {"named": None, "arch": None}
    if pick == "generated":
        gen = {k: trial.suggest_categorical(k, choices(getattr(a, k)))
               for k in ("depth", "width", "positions", "latent_dim", "codebook_size")}
        cand["arch"] = generated_arch(space, gen)
    else:
        cand["named"] = next(n for n in a.named if n.arch == pick).model_dump()
    b = space.bits
    cand["bits"] = {k: trial.suggest_categorical(f"{k}_bits", choices(getattr(b, k)))
                    for k in ("input", "weights", "activations", "latent", "codebook")}
    h = space.hardware
    cand["hw"] = {"lanes": trial.suggest_categorical("lanes", choices(h.lanes)),
                  "clock_mhz": trial.suggest_categorical("clock_mhz", list(h.clock_mhz)),
                  "node": trial.suggest_categorical("node", list(h.node))}
    return cand


def generated_arch(space: Space, gen: dict) -> dict:
    """The base architecture with a generated dense encoder; named ``x-<hash>`` of what it is."""
    from hwcae.model.config import arch_from_dict, load_arch

    base = load_arch(space.architecture.base).model_dump(mode="json")
    base["encoder"] = {"kind": "dense", "hidden": [gen["width"]] * gen["depth"], "positions": gen["positions"],
                       "latent_dim": gen["latent_dim"]}
    base["vq"]["codebook_size"] = gen["codebook_size"]
    base["train"]["epochs"] = space.recipe.float_epochs
    base["train"]["decoder_refit_epochs"] = 0  # a trial's brief recipe is joint training only
    base["train"]["patience"] = max(base["train"]["patience"], space.recipe.float_epochs)
    base["train"]["vq_warmup_epochs"] = min(base["train"]["vq_warmup_epochs"], space.recipe.float_epochs - 1)
    base["name"], base["description"] = "", ""
    digest = hashlib.sha256(json.dumps(base, sort_keys=True).encode()).hexdigest()[:8]
    base["name"] = f"x-{digest}"
    base["description"] = (f"generated by hwcae explore ({space.name}): dense encoder {gen['depth']} x {gen['width']}, "
                           f"{gen['positions']} positions x {gen['latent_dim']} dims, {gen['codebook_size']} codewords; "
                           f"the rest from {space.architecture.base}")
    try:
        arch_from_dict(base, "generated architecture")
    except HwcaeError as exc:
        raise HwcaeError(f"invalid architecture drawn: {exc}") from None
    return base
