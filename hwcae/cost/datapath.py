"""The estimator meets the netlist: gates of hwcae's RTL datapath (``hwcae rtl``), estimated per
block from the node's per-bit figures and measured by Yosys, side by side.

The RTL engine (hwcae/rtl/) is ``lanes`` multiply-accumulate units shared by every layer, a
requantiser, a one-cycle argmax tree for the codeword search and a controller. Per block, with the
design's widths (input word DW, weight WW, accumulator AW, requantiser EW, shift SW, index XB):

    mac_lanes     lanes x (multiplier DW x WW + accumulator adder AW + AW flip-flops + AW 3:1 muxes)
    requantiser   two barrel shifters (EW x SW muxes each) + rounding adder + 2 comparators (EW bits);
                  the same again at the input word's width for the gain stage, if the design has one
    search_argmax (lanes - 1) x (AW comparator + (AW + XB) 2:1 muxes)
    control       its registers (state, counters, pointers, pipeline; counted from the widths) x
                  (1 flip-flop + 1 adder bit of next-state logic), + the gain code's comparators

Muxes and comparators count as adder bits (``ge_per_adder_bit``) scaled by their NAND2 size
(2:1 mux 2.33 / full adder 7 in the NanGate library: ``MUX_PER_ADDER_BIT``).
A build is read from ``<build>/<design>/rtl/{verify,synth}.json``; nothing here runs the tools.
"""
from __future__ import annotations

import json
from pathlib import Path

from hwcae.cost.tech import Tech

MUX_PER_ADDER_BIT = 2.333 / 7.0


def control_flip_flops(w: dict) -> int:
    """The controller's registers, as hwcae/rtl/templates/core.v declares them: state (4), input count
    (9), pc, six loop counters and q, four RAM pointers, the two ROM pointers, four pipeline bits,
    the element-wise operand, and the search's best score and index."""
    return (4 + 9 + w["PCW"] + 7 * w["CW"] + 1 + 4 * w["RA"] + w["WA"] + w["BA"] + 4 + w["DW"] + w["AW"]
            + w["XB"] + w.get("GAIN", 0) * w.get("GB", 0))


def estimate_blocks(w: dict, tech: Tech) -> dict[str, float]:
    """NAND2 equivalents per block of the lane engine with widths ``w`` (``verify.json``'s widths)."""
    add, ff, mult = tech.ge_per_adder_bit, tech.ge_per_flipflop, tech.ge_per_mult_bit2
    mux = add * MUX_PER_ADDER_BIT
    lanes, aw, ew, sw = w["LANES"], w["AW"], w["EW"], w["SW"]
    gain = w.get("GAIN", 0)
    ew_gain = w["DW"] + 3 + w.get("S0", 0)  # the gain stage's shifter on the input words
    return {
        "mac_lanes": lanes * (mult * w["DW"] * w["WW"] + add * aw + ff * aw + 2 * mux * aw),
        "requantiser": 2 * ew * sw * mux + 3 * add * ew + gain * (2 * ew_gain * sw * mux + 3 * add * ew_gain),
        "search_argmax": (lanes - 1) * (add * aw + mux * (aw + w["XB"])),
        # + the gain code: one comparator of the trough word per threshold
        "control": control_flip_flops(w) * (ff + add) + gain * (2 ** w.get("GB", 1) - 1) * (w["DW"] + 1) * add,
    }


def load_rtl_build(root: str | Path) -> dict | None:
    """``verify.json`` + ``synth.json`` of an RTL build folder, or None if it is not (completely) there."""
    root = Path(root)
    try:
        ver = json.loads((root / "verify.json").read_text())
        syn = json.loads((root / "synth.json").read_text())
    except (OSError, ValueError):
        return None
    if "widths" not in ver or "blocks" not in syn:
        return None
    return {"verify": ver, "synth": syn}


def compare_blocks(build: dict, tech: Tech) -> list[dict]:
    """Per block: estimated and measured NAND2 equivalents and flip-flops, and their ratio."""
    blocks = build["synth"]["blocks"]
    est = estimate_blocks(build["verify"]["widths"], tech)
    rows = []
    for name, e in est.items():
        m = blocks.get(name, {"nand2_eq": 0.0, "flip_flops": 0})
        rows.append({"block": name, "estimated_ge": round(e), "measured_ge": round(m["nand2_eq"]),
                     "estimated_flip_flops": _flip_flops(name, build["verify"]["widths"]),
                     "measured_flip_flops": m["flip_flops"],
                     "measured_over_estimated": round(m["nand2_eq"] / e, 2) if e else None})
    total_e, total_m = sum(est.values()), build["synth"]["nand2_eq"]
    rows.append({"block": "total", "estimated_ge": round(total_e), "measured_ge": round(total_m),
                 "estimated_flip_flops": sum(r["estimated_flip_flops"] for r in rows),
                 "measured_flip_flops": build["synth"]["flip_flops"],
                 "measured_over_estimated": round(total_m / total_e, 2)})
    return rows


def _flip_flops(block: str, w: dict) -> int:
    return {"mac_lanes": w["LANES"] * w["AW"], "control": control_flip_flops(w)}.get(block, 0)
