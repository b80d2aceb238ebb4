"""Technology nodes as data (``hwcae/cost/tech/*.yaml``), each figure with its source or rule.

The 45 nm file holds the published reference figures (Horowitz, ISSCC 2014). Another node names
``scale_from: 45nm`` and gets, unless it sets a figure itself:

- energies x (F / F_ref) x (V / V_ref)^2   (switched capacitance ~ feature size, E ~ C V^2)
- gate and cell areas x (F / F_ref)^2
"""
from __future__ import annotations

from pathlib import Path

import pydantic

from hwcae.config import Strict, load_yaml, resolve

TECH_DIR = Path(__file__).parent / "tech"
Pos = pydantic.PositiveFloat


class Tech(Strict):
    node: str
    scale_from: str | None = None
    feature_nm: Pos
    supply_v: Pos
    sources: dict[str, str]
    add_pj_per_bit: Pos | None = None
    mult_pj_per_bit2: Pos | None = None
    sram_pj_per_bit: Pos | None = None
    reg_pj_per_bit: Pos | None = None
    ge_per_adder_bit: Pos | None = None
    ge_per_mult_bit2: Pos | None = None
    ge_per_flipflop: Pos | None = None
    ge_area_um2: Pos | None = None
    sram_cell_um2: Pos | None = None
    sram_array_efficiency: pydantic.confloat(gt=0, le=1) | None = None
    leakage_nw_per_ge: pydantic.NonNegativeFloat | None = None

    @pydantic.model_validator(mode="after")
    def _check(self):
        if not self.sources:
            raise ValueError("every tech file must name its sources")
        if self.scale_from is None:
            missing = [k for k, v in self.model_dump().items() if v is None and k != "scale_from"]
            if missing:
                raise ValueError(f"a reference node must give every figure; missing {missing}")
        return self


ENERGY = ("add_pj_per_bit", "mult_pj_per_bit2", "sram_pj_per_bit", "reg_pj_per_bit")
AREA = ("ge_area_um2", "sram_cell_um2")
SAME = ("ge_per_adder_bit", "ge_per_mult_bit2", "ge_per_flipflop", "sram_array_efficiency", "leakage_nw_per_ge")


def load_tech(name_or_path: str) -> Tech:
    t = load_yaml(Tech, resolve(name_or_path, TECH_DIR))
    if t.scale_from is None:
        return t
    ref = load_tech(t.scale_from)
    e = (t.feature_nm / ref.feature_nm) * (t.supply_v / ref.supply_v) ** 2
    a = (t.feature_nm / ref.feature_nm) ** 2
    filled = {}
    for k in ENERGY:
        filled[k] = getattr(t, k) or getattr(ref, k) * e
    for k in AREA:
        filled[k] = getattr(t, k) or getattr(ref, k) * a
    for k in SAME:
        filled[k] = getattr(t, k) if getattr(t, k) is not None else getattr(ref, k)
    return t.model_copy(update=filled)
