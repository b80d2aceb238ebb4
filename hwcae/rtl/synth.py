"""Open synthesis with Yosys: map the datapath (not its memories) to generic gates and count them.

Cells are Yosys's internal gate library after ``abc -g`` (AND, NAND, OR, NOR, XOR, XNOR, ANDNOT,
ORNOT, MUX, NOT) and plain D flip-flops (enables and resets unmapped into logic by ``dffunmap``).
NAND2 equivalents weigh each cell by its area in the NanGate 45 nm Open Cell Library (X1 drive)
over NAND2_X1's 0.798 um^2; ANDNOT / ORNOT, which that library lacks, count as AND2 / OR2. The
longest logic path is Yosys's ``ltp -noff`` (gate levels between flip-flops or ports).
No Liberty file of an open PDK is on the package registries this project installs from (PDKs come
from their own download services), so no um^2 figure is claimed: NAND2 equivalents only.
"""
from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from hwcae.errors import HwcaeError
from hwcae.fileio import write_text_atomic
from hwcae.rtl.simulate import tool
from hwcae.rtl.verilog import SOURCES

#: Cell area / NAND2_X1 area, NanGate 45 nm Open Cell Library, X1 cells.
NAND2_EQ = {"$_NOT_": 0.667, "$_NAND_": 1.0, "$_NOR_": 1.0, "$_AND_": 1.333, "$_OR_": 1.333,
            "$_ANDNOT_": 1.333, "$_ORNOT_": 1.333, "$_XOR_": 2.0, "$_XNOR_": 2.0, "$_MUX_": 2.333,
            "$_DFF_P_": 5.667}
GATES = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX"
#: Sub-modules reported as blocks; the rest of hwcae_encoder_core is control (FSM, counters,
#: program table, address generation, element-wise operand).
BLOCKS = {"hwcae_mac": "mac_lanes", "hwcae_requant": "requantiser", "hwcae_argmax": "search_argmax"}

SCRIPT = """read_verilog {sources}
hierarchy -top hwcae_encoder_core
synth -top hwcae_encoder_core
dffunmap
abc -g {gates}
opt_clean
tee -q -o {stat} stat -json
flatten
opt_clean
ltp -noff
write_verilog -noattr {netlist}
"""


def nand2_eq(cells: dict[str, int]) -> float:
    unknown = sorted(set(cells) - set(NAND2_EQ))
    if unknown:
        raise HwcaeError(f"yosys produced cells without a NAND2 weight: {', '.join(unknown)}")
    return sum(NAND2_EQ[c] * n for c, n in cells.items())


def _base(name: str) -> str:
    """Yosys module name -> the Verilog module's own name ($paramod$<hash>\\hwcae_mac -> hwcae_mac)."""
    return name.split(chr(92))[-1]


def _module_block(name: str) -> str:
    return BLOCKS.get(_base(name), "control")


def synthesize(rtl_dir: str | Path) -> dict:
    """Synthesise ``hwcae_encoder_core`` in ``rtl_dir``; writes netlist.v and synth.log there and
    returns cells by type, flip-flops, NAND2 equivalents (total and per block) and logic levels."""
    rtl = Path(rtl_dir).resolve()
    logic = [n for n in SOURCES if n not in ("hwcae_encoder.v", "hwcae_rom.v", "hwcae_ram.v")]
    script = rtl / "synth.ys"
    write_text_atomic(script, SCRIPT.format(sources=" ".join(logic), gates=GATES, stat="stat.json",
                                            netlist="netlist.v"))
    t0 = time.time()
    r = subprocess.run([tool("yosys"), "-q", "-l", "synth.log", "synth.ys"], capture_output=True, text=True, cwd=rtl)
    if r.returncode:
        raise HwcaeError(f"yosys failed: {(r.stderr or r.stdout).strip().splitlines()[-1]}")
    stat = json.loads((rtl / "stat.json").read_text())
    levels = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", (rtl / "synth.log").read_text())
    modules = stat["modules"]
    per_module = {m: v.get("num_cells_by_type", {}) for m, v in modules.items()}
    counts = _instance_counts(modules)
    blocks: dict[str, dict] = {}
    for m, cells in per_module.items():
        b = blocks.setdefault(_module_block(m), {"cells": 0, "flip_flops": 0, "nand2_eq": 0.0, "instances": 0})
        n = counts.get(m, 1)
        own = {c: k for c, k in cells.items() if c.startswith("$_")}
        b["instances"] += n
        b["cells"] += n * sum(own.values())
        b["flip_flops"] += n * own.get("$_DFF_P_", 0)
        b["nand2_eq"] += n * nand2_eq(own)
    total = stat["design"].get("num_cells_by_type", {})
    return {"cells_by_type": total, "cells": int(sum(total.values())), "flip_flops": int(total.get("$_DFF_P_", 0)),
            "nand2_eq": round(nand2_eq(total), 1), "logic_levels": int(levels.group(1)) if levels else None,
            "blocks": {k: {**v, "nand2_eq": round(v["nand2_eq"], 1)} for k, v in blocks.items()},
            "seconds": round(time.time() - t0, 1), "netlist": str(rtl / "netlist.v"),
            "gate_weights": "NanGate 45 nm Open Cell Library X1 cell area / NAND2_X1 area"}


def _instance_counts(modules: dict) -> dict[str, int]:
    """How many times each module is instantiated in the hierarchy under the top (top: 1). Modules
    with parameters are told apart by their full Yosys names ($paramod$<hash>\\name)."""
    def full(name: str) -> str | None:
        for cand in (name, chr(92) + name):
            if cand in modules:
                return cand
        return None

    counts = {full("hwcae_encoder_core"): 1}
    order = list(counts)
    while order:
        m = order.pop()
        for child, n in modules[m].get("num_cells_by_type", {}).items():
            f = None if child.startswith("$_") else full(child)
            if f is not None:
                counts[f] = counts.get(f, 0) + n * counts[m]
                order.append(f)
    return counts
