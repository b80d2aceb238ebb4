"""Verify one design end to end: every implementation of the encoder on the same inputs, bit for bit.

The one orchestrator both ``hwcae hls`` and ``hwcae verify`` call. Implementations: the Brevitas
QAT model (run in float64), the NumPy integer reference walking the typed fixed-point model,
qonnx's executor on the QONNX export, and each backend's compiled C simulation. Pairs compared:
Brevitas vs reference, qonnx vs Brevitas, reference vs C-sim and Brevitas vs C-sim per backend.
The report is written to ``<root>/verify.json``.
"""
from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from hwcae.export.backends import BACKENDS
from hwcae.export.pipeline import BUILD_DIR, build_design, run_synthesis
from hwcae.export.quiet import library_output
from hwcae.fileio import write_text_atomic
from hwcae.fixedpoint.reference import ReferenceEncoder
from hwcae.verify.checks import brevitas_codes, compare, csim_codes, edge_inputs, encoder_inputs, qonnx_codes


def exact(pair: dict) -> bool:
    """Every code of every spike agrees (latent, indices and, where compared, the gain code)."""
    return pair["spikes_all_exact"] == 1.0


def verify_design(qat_path: str | Path, spikes_uv: np.ndarray, *, backends=tuple(BACKENDS), root: Path | None = None,
                  out_root: Path = BUILD_DIR, qonnx_spikes: int | None = 512, synth: bool = False,
                  rtl: bool = False, verbose: bool = False, progress=print) -> dict:
    """Build the design's projects (:func:`hwcae.export.pipeline.build_design`) and compare every
    implementation on ``spikes_uv`` (after the design's gain stage) plus the range-edge inputs.
    ``qonnx_spikes``: how many of them qonnx's (slow) executor runs; 0 skips it, None runs all.
    What the libraries print goes to ``<out_root>/build.log`` unless ``verbose``."""
    terminal = sys.stdout

    def say(msg: str) -> None:  # progress reaches the terminal while library output goes to the log
        with contextlib.redirect_stdout(terminal):
            progress(msg)

    log = (Path(root).parent if root is not None else Path(out_root)) / "build.log"
    with library_output(log, verbose):
        return _verify(qat_path, spikes_uv, backends, root, out_root, qonnx_spikes, synth, rtl, say)


def _verify(qat_path, spikes_uv, backends, root, out_root, qonnx_spikes, synth, rtl, progress) -> dict:
    b = build_design(qat_path, backends=backends, root=root, out_root=out_root, progress=progress)
    name = b.design.name
    edge = edge_inputs(b.design.input.range_uv)
    inputs = np.concatenate([encoder_inputs(b.model, spikes_uv), edge])
    ref = ReferenceEncoder(b.model)
    r = ref.encode(inputs)
    brev = brevitas_codes(b.encoder, inputs)
    report = {"design": name, "checkpoint": str(qat_path), "spikes": int(len(inputs)),
              "edge_inputs": len(edge), "brevitas_vs_reference": compare(brev, r),
              "saturation": dict(ref.saturation)}
    if qonnx_spikes != 0:
        n = len(inputs) if qonnx_spikes is None else min(len(inputs), qonnx_spikes)
        part = (brev[0][:n], brev[1][:n])
        report["qonnx_vs_brevitas"] = compare(part, qonnx_codes(b.encoder, b.onnx, b.model, inputs[:n]))
        q = report["qonnx_vs_brevitas"]
        progress(f"[{name}] QONNX exported in {b.seconds['qonnx']:.1f} s; executor vs Brevitas on {n} inputs: "
                 f"index {q['index_exact']:.2%}, latent {q['latent_exact']:.2%}")
    if rtl:  # the generated Verilog in Verilator, beside make rtl's build (no synthesis: `hwcae rtl` does that)
        from hwcae.rtl.flow import run_rtl

        # the RTL takes spikes as detected: it runs the gain stage itself
        sim = run_rtl(b.model, name, np.concatenate([spikes_uv, edge]), b.root / "rtl-verify", edge=len(edge),
                      synth=False, progress=progress)
        report["reference_vs_rtl"] = sim["rtl_vs_reference"]
        report["rtl_cycles_per_spike"] = sim["cycles_per_spike"]
    codes = ref.quantize_input(inputs)
    for backend, proj in b.projects.items():
        t0 = time.time()
        c = csim_codes(proj, b.model, ref, inputs)
        _hand_off(Path(proj.path), backend, b, codes, r, len(inputs))
        res = {"reference_vs_csim": compare(r, c), "brevitas_vs_csim": compare(brev, c), "forced_types": proj.forced,
               "compile_s": proj.compile_s, "project": str(proj.path),
               "synthesis": run_synthesis(proj, BACKENDS[backend]) if synth else "not run (make hls SYNTH=1)"}
        report[backend] = res
        progress(f"[{name}] {BACKENDS[backend].hls4ml_backend}: reference vs C-sim index "
                 f"{res['reference_vs_csim']['index_exact']:.2%}, latent {res['reference_vs_csim']['latent_exact']:.2%} "
                 f"({time.time() - t0:.0f} s)")
    write_text_atomic(b.root / "verify.json", json.dumps(report, indent=2, default=str) + "\n")
    return report


def _hand_off(project: Path, backend: str, b, codes, expect, n: int) -> None:
    """Make the project self-contained: tb_data vectors, the g++ self-check, README, stamp, no stale builds."""
    from hwcae.export import handoff

    handoff.write_vectors(project, b.model, codes, *expect)
    handoff.write_check(project, backend, b.model)
    handoff.write_readme(project, b.design.name, BACKENDS[backend], BACKENDS[backend].config(), b.model, n)
    handoff.tidy(project)


def summary_rows(report: dict) -> list[dict]:
    """One row per backend: what ``hwcae hls`` tabulates."""
    return [{"design": report["design"], "backend": BACKENDS[name].hls4ml_backend, "csim_compiled": True,
             "spikes": report["spikes"], "index_exact": report[name]["reference_vs_csim"]["index_exact"],
             "latent_exact": report[name]["reference_vs_csim"]["latent_exact"],
             "brevitas_exact": report[name]["brevitas_vs_csim"]["index_exact"],
             "project": report[name]["project"], "synthesis": report[name]["synthesis"]}
            for name in BACKENDS if name in report]


def all_exact(report: dict) -> bool:
    """Every compared pair in the report is 100 % identical."""
    pairs = [report[k] for k in ("brevitas_vs_reference", "qonnx_vs_brevitas", "reference_vs_rtl") if k in report]
    pairs += [report[n][k] for n in BACKENDS if n in report for k in ("reference_vs_csim", "brevitas_vs_csim")]
    return all(exact(p) for p in pairs)
