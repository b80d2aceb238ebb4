"""What makes a generated HLS project something to hand over: test vectors in ``tb_data/``, a
self-checking C simulation that needs only g++ (``run_csim.sh``: PASS / FAIL), a README of the
ports, word formats and settings, a stamp naming the design, and no stale builds or archives.

Vectors come from the NumPy reference on the inputs ``hwcae verify`` checks (held-out spikes and
range-edge inputs), so the project checks itself without hwcae.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from hwcae.fileio import write_text_atomic
from hwcae.fixedpoint.graph import FixedPointModel

STAMP = "hwcae_project.json"

CHECK_CPP = r"""// hwcae: self-checking C simulation of hwcae_encoder on tb_data/ (plain g++, no vendor tool).
// tb_input_features.dat: one spike per line, 256 input values (sample-major, t x 4 + c);
// tb_output_predictions.dat: the NumPy reference's 16 codeword indices per spike.
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include "firmware/hwcae_encoder.h"

namespace nnet {  // hls4ml's layer tracing (used by hwcae's Python bridge): off here
bool trace_enabled = false;
std::map<std::string, void *> *trace_outputs = NULL;
size_t trace_type_size = sizeof(double);
}  // namespace nnet
@WEIGHT_ARRAYS@

int main() {
  std::ifstream fin("tb_data/tb_input_features.dat"), fexp("tb_data/tb_output_predictions.dat");
  if (!fin.is_open() || !fexp.is_open()) { std::printf("FAIL: tb_data/ vectors missing\n"); return 2; }
  std::string li, le;
  long n = 0, bad = 0, first_bad = -1;
  while (std::getline(fin, li) && std::getline(fexp, le)) {
    std::istringstream si(li), se(le);
    input_t x[256];
    result_t y[@POSITIONS@];
    for (int k = 0; k < 256; ++k) { double v; si >> v; x[k] = v; }
    hwcae_encoder(x, y);
    bool ok = true;
    for (int k = 0; k < @POSITIONS@; ++k) { long e; se >> e; if ((long)y[k].to_int() != e) ok = false; }
    if (!ok) { ++bad; if (first_bad < 0) first_bad = n; }
    ++n;
  }
  if (n == 0) { std::printf("FAIL: no vectors read\n"); return 2; }
  if (bad) std::printf("FAIL: %ld of %ld vectors differ from the reference (first: line %ld)\n", bad, n, first_bad + 1);
  else std::printf("PASS: %ld of %ld vectors identical to the reference\n", n, n);
  return bad ? 1 : 0;
}
"""

RUN_CSIM = """#!/bin/bash
# hwcae: compile and run the self-checking C simulation on tb_data/ with g++ only. Prints PASS or FAIL.
set -e
cd "$(dirname "$0")"
g++ -O1 -std=c++14 -w @INCLUDES@ -DWEIGHTS_DIR='"firmware/weights"' hwcae_check.cpp firmware/hwcae_encoder.cpp -o hwcae_check
./hwcae_check
"""

INCLUDES = {"vitis": "-Ifirmware/ap_types", "catapult": "-Ifirmware/ac_types/include -Ifirmware/ac_math/include "
            "-Ifirmware/ac_simutils/include -Ifirmware/nnet_utils"}


def input_values(model: FixedPointModel, adc_codes: np.ndarray) -> np.ndarray:
    """The top function's input values (N, 256), sample-major: ADC code x 2^exp (exact in decimal)."""
    codes = np.asarray(adc_codes, np.int64).transpose(0, 2, 1).reshape(len(adc_codes), -1)
    return codes * 2.0**model.input.exp


def write_vectors(project: Path, model: FixedPointModel, adc_codes: np.ndarray, latent: np.ndarray,
                  indices: np.ndarray) -> None:
    """tb_data/: inputs, expected indices (what hls4ml's and hwcae's testbenches read) and the
    expected latent codes (channels last; not an output of the top function, for reference)."""
    tb = project / "tb_data"
    tb.mkdir(exist_ok=True)
    vals = input_values(model, adc_codes)
    write_text_atomic(tb / "tb_input_features.dat", "\n".join(" ".join(repr(float(v)) for v in row) for row in vals) + "\n")
    write_text_atomic(tb / "tb_output_predictions.dat", "\n".join(" ".join(map(str, r)) for r in indices) + "\n")
    lat = np.asarray(latent).transpose(0, 2, 1).reshape(len(latent), -1)
    write_text_atomic(tb / "tb_latent_codes.dat", "\n".join(" ".join(map(str, r)) for r in lat) + "\n")


def _weight_arrays(project: Path) -> str:
    """Catapult's firmware declares its weight arrays extern and leaves their definition to the
    testbench (hls4ml's ``hwcae_encoder_test.cpp``): the same definitions, taken from there."""
    tb = project / "hwcae_encoder_test.cpp"
    if not tb.is_file():
        return ""
    return "\n".join(re.findall(r"^\w+_t [wb]\d+\[\d+\];$", tb.read_text(), flags=re.M))


def write_check(project: Path, backend: str, model: FixedPointModel) -> Path:
    """hwcae_check.cpp and run_csim.sh in the project; returns the script."""
    text = CHECK_CPP.replace("@POSITIONS@", str(model.latent_positions)).replace("@WEIGHT_ARRAYS@", _weight_arrays(project))
    write_text_atomic(project / "hwcae_check.cpp", text)
    script = project / "run_csim.sh"
    write_text_atomic(script, RUN_CSIM.replace("@INCLUDES@", INCLUDES[backend]))
    script.chmod(0o755)
    return script


def tidy(project: Path) -> None:
    """Remove the shared libraries of earlier compiles (keep the newest)."""
    libs = sorted(project.glob("firmware/*.so"), key=lambda p: p.stat().st_mtime)
    for old in libs[:-1]:
        old.unlink()


def remove_stale_archive(project: Path) -> None:
    """hls4ml keeps an existing ``<project>.tar.gz`` (old weights) rather than writing a new one."""
    archive = project.parent / f"{project.name}.tar.gz"
    if archive.exists():
        archive.unlink()


def write_readme(project: Path, design: str, backend, cfg, model: FixedPointModel, n_vectors: int) -> None:
    """README.md of the project: top function, ports and their word formats, scaling, settings, how to run."""
    w = model.input
    step_uv = model.input_scale_uv * 2.0**w.exp
    idx_bits = int(np.ceil(np.log2(model.search.size)))
    text = f"""# hwcae_encoder: design `{design}`, {backend.hls4ml_backend} ({backend.target})

Generated by `hwcae hls` (hls4ml). Do not edit by hand: `make hls` rebuilds this folder.

## Top function
`void hwcae_encoder(input_t global_in[256], result_t layer65_out[{model.latent_positions}])` in `firmware/hwcae_encoder.cpp`.

| port | type | meaning |
|---|---|---|
| `global_in[256]` | `input_t` ({w.bits}-bit signed fixed point, step 2^{w.exp}) | one spike: value = uV / {model.input_scale_uv:g}; ADC code = value x 2^{-w.exp} (1 code = {step_uv:g} uV, full scale +-{model.adc[1]:g} uV); index = t x 4 + c (sample-major, 64 samples x 4 channels) |
| `layer65_out[{model.latent_positions}]` | `result_t` (unsigned, {idx_bits} bits used) | codeword index per latent position, 0..{model.search.size - 1} |
{"" if model.gain is None else f"|  |  | the design's gain stage (a {model.gain.bits}-bit shift code per spike) runs before this function: global_in holds the shifted spike |"}

## Settings
{cfg.target}, clock period {cfg.clock_period_ns:g} ns ({1e3 / cfg.clock_period_ns:g} MHz; `hls/operating_point.yaml`, the same for
Vitis, Catapult, the RTL and `hwcae cost`), reuse factor {cfg.reuse_factor},
strategy {cfg.strategy}, io {cfg.io_type} (`hls4ml_config.yml`). Latency and initiation interval: from the synthesis
report (`build_prj.tcl`); hwcae does not estimate them for HLS.

## Check it
- `./run_csim.sh`: compiles `hwcae_check.cpp` with the firmware (g++ only) and runs the {n_vectors} vectors in
  `tb_data/` (held-out spikes and range-edge inputs; expected indices from hwcae's NumPy reference); prints PASS or FAIL.
- hls4ml's own testbench (`hwcae_encoder_test.cpp`) reads the same `tb_data/` files in the vendor's C simulation.
- Synthesis: {"`vitis_hls -f build_prj.tcl`" if backend.name == "vitis" else "`catapult -file build_prj.tcl`"} (needs the vendor tool).
"""
    write_text_atomic(project / "README.md", text)
    write_text_atomic(project / STAMP, json.dumps({"design": design, "backend": backend.name}, indent=2) + "\n")


def stamped_design(project: Path) -> str | None:
    """The design a project folder was generated for (None if it has no hwcae stamp)."""
    try:
        return json.loads((Path(project) / STAMP).read_text())["design"]
    except (OSError, ValueError, KeyError):
        return None
