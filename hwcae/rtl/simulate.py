"""Bit-exact RTL simulation with Verilator: build a generated C++ testbench around ``hwcae_encoder``,
stream ADC words in, read latent codes, codeword indices and cycles per spike out.

The same testbench runs the synthesised gate-level netlist (``netlist=`` a Yosys-written core).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from hwcae.errors import HwcaeError
from hwcae.fileio import write_text_atomic
from hwcae.rtl.schedule import Program
from hwcae.rtl.verilog import SOURCES, TEMPLATE, _fill, widths

TESTBENCH = TEMPLATE.with_name("tb.cpp")


def tool(name: str) -> str:
    """The path of an open-source EDA tool, or a one-line error naming what to install."""
    path = shutil.which(name)
    if path is None:
        raise HwcaeError(f"{name} not found on PATH: `make rtl-tools` installs it (Debian package {name})")
    return path


def build(prog: Program, rtl_dir: str | Path, *, core: str | Path | None = None, name: str = "sim") -> Path:
    """Compile the testbench with Verilator; ``core`` replaces hwcae_encoder_core.v (a netlist).
    Returns the executable."""
    rtl = Path(rtl_dir).resolve()
    obj = rtl / f"obj_{name}"
    shutil.rmtree(obj, ignore_errors=True)
    tb = obj / "tb.cpp"
    obj.mkdir(parents=True)
    w = widths(prog)
    write_text_atomic(tb, _fill(TESTBENCH.read_text(), {**w, "LATENT": prog.latent_dim}))
    logic = [n for n in SOURCES if n not in ("hwcae_encoder.v", "hwcae_rom.v", "hwcae_ram.v")]
    sources = [rtl / n for n in SOURCES if core is None or n not in logic] + ([Path(core).resolve()] if core else [])
    cmd = [tool("verilator"), "--cc", "--exe", "--build", "-O1", "-j", str(os.cpu_count() or 1), "--top-module",
           "hwcae_encoder", "-Wno-fatal", "-Wno-lint", "-Wno-style", "--Mdir", str(obj), "-o", name,
           "-CFLAGS", "-O1", *map(str, sources), str(tb)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=rtl)
    if r.returncode:
        raise HwcaeError(f"verilator failed ({name}): {(r.stderr or r.stdout).strip().splitlines()[-1]}")
    return obj / name


def run(exe: Path, prog: Program, adc_codes: np.ndarray, rtl_dir: str | Path) -> dict:
    """Simulate ``adc_codes`` (N, 4, 64) signed integers (the ADC words, before any gain stage);
    returns latent (N, D, L), indices (N, L), the gain codes (N,) or None, and cycles (N,) per spike.
    The ROM images are read from ``rtl_dir``."""
    rtl = Path(rtl_dir).resolve()
    codes = np.asarray(adc_codes, np.int64)
    if codes.ndim != 3 or codes.shape[1:] != (4, 64):
        raise HwcaeError(f"RTL simulation takes ADC codes shaped (N, 4, 64), got {codes.shape}")
    flat = codes.transpose(0, 2, 1).reshape(len(codes), -1)  # sample-major: t x 4 + c
    src, dst = rtl / f"{exe.name}.in", rtl / f"{exe.name}.out"
    np.savetxt(src, flat, fmt="%d", header=str(len(flat)), comments="")
    r = subprocess.run([str(exe), str(src), str(dst)], capture_output=True, text=True, cwd=rtl)
    if r.returncode:
        raise HwcaeError(f"RTL simulation failed: {(r.stderr or r.stdout).strip()}")
    rows = np.loadtxt(dst, dtype=np.int64, ndmin=2)
    src.unlink()
    dst.unlink()
    p, d = prog.latent_positions, prog.latent_dim
    latent = rows[:, 1:1 + p * d].reshape(-1, p, d).transpose(0, 2, 1)
    symbols = rows[:, 1 + p * d:]
    return {"latent": latent, "indices": symbols[:, :p], "gain": symbols[:, p] if prog.gain else None,
            "cycles": rows[:, 0]}
