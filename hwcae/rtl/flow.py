"""``make rtl`` for one design: generate the Verilog, simulate it bit for bit against the NumPy
reference, synthesise it with Yosys and simulate the netlist. Outputs in ``<build>/<design>/rtl/``:
the Verilog and ROM images, ``verify.json``, ``synth.json``, ``netlist.v`` and a README of the ports.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pydantic

from hwcae.config import Strict, load_yaml
from hwcae.fileio import write_text_atomic
from hwcae.fixedpoint.compare import compare_codes
from hwcae.fixedpoint.graph import FixedPointModel
from hwcae.fixedpoint.reference import ReferenceEncoder
from hwcae.operating_point import load_operating_point
from hwcae.rtl import simulate
from hwcae.rtl.schedule import lower
from hwcae.rtl.synth import synthesize
from hwcae.rtl.verilog import widths, write_verilog

RTL_CONFIG = Path(__file__).resolve().parents[2] / "hls" / "rtl.yaml"


class RTLConfig(Strict):
    """``hls/rtl.yaml``: datapath width and how much to simulate (the clock and firing rate: the
    operating point, ``hls/operating_point.yaml``)."""

    lanes: pydantic.PositiveInt = 16
    spikes: pydantic.NonNegativeInt = 10000
    gate_spikes: pydantic.NonNegativeInt = 300


def load_rtl_config(path: str | Path = RTL_CONFIG) -> RTLConfig:
    return load_yaml(RTLConfig, path)


def compare_sim(ref: tuple, sim: dict) -> dict:
    """The reference's (latent, indices, gain codes) against a simulation's (:func:`simulate.run`)."""
    return compare_codes(ref, (sim["latent"], sim["indices"], sim["gain"]))


def run_rtl(model: FixedPointModel, design: str, inputs_uv: np.ndarray, out_dir: str | Path,
            config: RTLConfig | None = None, *, edge: int = 0, synth: bool = True, progress=print) -> dict:
    """The whole flow on ``inputs_uv`` (spikes in uV as detected: the RTL runs the gain stage itself;
    the last ``edge`` of them range-edge inputs, which the netlist simulation always includes).
    Returns the summary that is also written to ``verify.json`` / ``synth.json``."""
    cfg = config or load_rtl_config()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    prog = lower(model, cfg.lanes)
    write_verilog(prog, design, out)
    ref = ReferenceEncoder(model)
    codes = ref.quantize_input(inputs_uv)  # the ADC words (the input word is the ADC word)
    x, gain = ref.gain_stage(inputs_uv)
    expect = (*ref.encode(x), gain)
    exe = simulate.build(prog, out)
    sim = simulate.run(exe, prog, codes, out)
    cycles = int(sim["cycles"].max())
    report = {"design": design, "lanes": cfg.lanes, "input_step_uv": model.input_scale_uv * 2.0**model.input.exp, "rtl_vs_reference": compare_sim(expect, sim),
              "cycles_per_spike": cycles, "cycles_min": int(sim["cycles"].min()),
              "widths": widths(prog), "memory_bits": prog.memory_bits,
              "program": [i.label for i in prog.instrs]}
    progress(f"[{design}] RTL (Verilator) vs reference on {len(codes)} inputs: index "
             f"{report['rtl_vs_reference']['index_exact']:.2%}, latent {report['rtl_vs_reference']['latent_exact']:.2%}, "
             f"{cycles} cycles/spike ({time.time() - t0:.0f} s)")
    if synth:
        t1 = time.time()
        syn = synthesize(out)
        pick = np.r_[0:min(cfg.gate_spikes, len(codes) - edge), len(codes) - edge:len(codes)]
        n = len(pick)
        gates = simulate.run(simulate.build(prog, out, core=out / "netlist.v", name="gates"), prog, codes[pick], out)
        report["netlist_vs_reference"] = compare_sim(tuple(None if e is None else e[pick] for e in expect), gates)
        write_text_atomic(out / "synth.json", json.dumps(syn, indent=2) + "\n")
        report["synthesis"] = {k: syn[k] for k in ("cells", "flip_flops", "nand2_eq", "logic_levels", "blocks")}
        progress(f"[{design}] Yosys: {syn['cells']} cells, {syn['flip_flops']} flip-flops, {syn['nand2_eq']:.0f} NAND2 eq, "
                 f"{syn['logic_levels']} logic levels; netlist vs reference on {n} inputs: "
                 f"{report['netlist_vs_reference']['spikes_all_exact']:.2%} ({time.time() - t1:.0f} s)")
    op = load_operating_point()
    sps = op.clock_hz / cycles
    report["operating_point"] = {"clock_mhz": op.clock_mhz, "spikes_per_s": sps, "rate_hz": op.rate_hz,
                                 "channels_per_instance": sps / op.rate_hz}
    report["seconds"] = round(time.time() - t0, 1)
    write_text_atomic(out / "verify.json", json.dumps(report, indent=2) + "\n")
    write_text_atomic(out / "README.md", port_readme(design, prog, report))
    return report


def port_readme(design: str, prog, report: dict) -> str:
    """The hand-off note of one RTL build: ports, number formats, timing, memories, how it was checked."""
    w = report["widths"]
    op = report["operating_point"]
    mem = "\n".join(f"| {k} | {v:,} |" for k, v in prog.memory_bits.items())
    syn = report.get("synthesis")
    syn_line = (f"{syn['cells']:,} cells, {syn['flip_flops']} flip-flops, {syn['nand2_eq']:,.0f} NAND2 equivalents, "
                f"{syn['logic_levels']} gate levels on the longest path (Yosys, generic gates; synth.json)"
                if syn else "not run")
    return f"""# hwcae encoder RTL: design `{design}`

Generated by `hwcae rtl` (hwcae/rtl/). Plain Verilog-2005; Verilator `--lint-only -Wall` clean.

## Files
- `hwcae_encoder.v`: top level (core + memories). `hwcae_encoder_core.v`: control, program table;
  `hwcae_mac.v` (x{prog.lanes}), `hwcae_requant.v`, `hwcae_argmax.v`: the datapath.
- `hwcae_rom.v`, `hwcae_ram.v`: behavioural memories (`$readmemh` of `weights.hex`, `biases.hex`);
  replace them with your SRAM / ROM macros. `netlist.v`: the Yosys gate-level core.

## Ports of `hwcae_encoder` (clock `clk`, synchronous active-high `rst`)
| port | width | meaning |
|---|---|---|
| `in_valid` / `in_ready` / `in_data` | 1 / 1 / {w['IW']} | ADC words, signed, 256 per spike as detected and aligned (trough of channel 0 at sample 24), sample-major (index = t x 4 + c); a word moves when valid and ready are both high |
| `out_valid` / `out_ready` / `out_index` | 1 / 1 / {w['OB']} | {prog.latent_positions} codeword indices per spike in position order{", then the gain code (" + str(w['GB']) + " bits)" if prog.gain else ""} |
| `lat_valid` / `lat_data` | 1 / {w['DW']} | debug: the latent codes as the search reads them (position-major), no back-pressure |

Words: ADC code = uV / {report.get('input_step_uv', 'the design input step')}; indices 0..{prog.codebook_size - 1}.

## Timing
- {report['cycles_per_spike']:,} cycles per spike (measured in RTL simulation, input and output included;
  one spike at a time). At {op['clock_mhz']:g} MHz: {op['spikes_per_s']:,.0f} spikes/s,
  {op['channels_per_instance']:,.0f} channels at {op['rate_hz']:g} Hz per instance ({load_operating_point().describe()}).
- Synthesis: {syn_line}.

## Memories (bits)
| block | bits |
|---|---|
{mem}

## Checked
- RTL vs the NumPy reference: {report['rtl_vs_reference']['spikes']:,} inputs, index {report['rtl_vs_reference']['index_exact']:.2%}, latent {report['rtl_vs_reference']['latent_exact']:.2%}{f", gain code {report['rtl_vs_reference']['gain_code_exact']:.2%}" if 'gain_code_exact' in report['rtl_vs_reference'] else ""}.
- Netlist vs reference: {report.get('netlist_vs_reference', {}).get('spikes', 0)} inputs, {report.get('netlist_vs_reference', {}).get('spikes_all_exact', float('nan')):.2%} of spikes identical.
"""
