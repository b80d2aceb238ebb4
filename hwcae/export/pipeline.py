"""The ``make hls`` job for one design: QAT checkpoint -> QONNX -> fixed-point weights ->
Vitis and Catapult projects -> C simulation -> three-way verification on a sample.

Artifacts under ``hls/build/<design>/``: ``encoder.onnx`` (QONNX, channels first),
``encoder_cl.onnx`` (channels last, what hls4ml reads), ``weights.npz`` (integers + exponents
for the NumPy reference), ``vitis/`` and ``catapult/`` projects, ``verify.json``.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from hwcae.export import fixed_point, qonnx_export
from hwcae.export.hls_config import HLSConfig, load_hls_config
from hwcae.fileio import write_text_atomic

BUILD_DIR = Path("hls/build")


def qonnx_check(encoder, onnx_model, spikes_uv: np.ndarray, fp: dict | None = None) -> dict:
    """qonnx's own executor vs the Brevitas forward on the same inputs (latent codes and indices).
    ``fp``: the encoder's fixed-point contents when the caller already has them."""
    from hwcae.verify.checks import brevitas_codes, compare

    b = brevitas_codes(encoder, spikes_uv)
    z, idx = qonnx_export.execute(onnx_model, encoder.to_export_layout(spikes_uv / encoder.arch.input_scale_uv))
    lat_exp = (fp or fixed_point.extract(encoder))["acts"]["latent"]["exp"]
    return compare(b, (np.rint(z / 2.0 ** lat_exp).astype(np.int64), idx.astype(np.int64)))


def export_design(qat_path: str | Path, spikes_uv: np.ndarray, *, backends=("vitis", "catapult"),
                  out_root: Path = BUILD_DIR, synth: bool = False, progress=print) -> list[dict]:
    from hwcae.export.hls_project import build
    from hwcae.quantize.qat import load_qat
    from hwcae.verify.checks import edge_inputs, encoder_inputs, verify

    model, arch, design, payload = load_qat(qat_path)
    enc = model.encoder
    root = Path(out_root) / design.name
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    qonnx_export.export(enc, root / "encoder.onnx")
    onnx_cf = qonnx_export.cleaned(root / "encoder.onnx")
    onnx_cl = qonnx_export.to_channels_last(qonnx_export.cleaned(root / "encoder.onnx"))
    onnx_cl.save(str(root / "encoder_cl.onnx"))
    fp = fixed_point.extract(enc)
    fixed_point.save(fp, root / "weights.npz")
    inputs = np.concatenate([encoder_inputs(fp, spikes_uv), edge_inputs(design.input.range_uv)])
    qx = qonnx_check(enc, onnx_cf, inputs[: min(len(inputs), 512)], fp)
    progress(f"[{design.name}] QONNX exported and checked in {time.time() - t0:.1f} s "
             f"(executor vs Brevitas: index {qx['index_exact']:.2%}, latent {qx['latent_exact']:.2%})")
    rows, report = [], {"design": design.name, "checkpoint": str(qat_path), "qonnx_vs_brevitas": qx}
    for name in backends:
        cfg: HLSConfig = load_hls_config(name)
        t1 = time.time()
        proj = build(onnx_cl, fp, cfg, root / cfg.folder)
        res = verify(enc, fp, inputs, proj)
        synth_note = run_synthesis(proj, cfg) if synth else "not run (make hls SYNTH=1)"
        progress(f"[{design.name}] {cfg.backend}: C-sim compiled in {proj.compile_s:.1f} s; reference vs C-sim "
                 f"index {res['reference_vs_csim']['index_exact']:.2%}, latent {res['reference_vs_csim']['latent_exact']:.2%} "
                 f"({time.time() - t1:.0f} s)")
        report[cfg.folder] = dict(res, forced_types=proj.forced, synthesis=synth_note)
        rows.append({"design": design.name, "backend": cfg.backend, "csim_compiled": proj.compiled,
                     "spikes": res["spikes"], "index_exact": res["reference_vs_csim"]["index_exact"],
                     "latent_exact": res["reference_vs_csim"]["latent_exact"],
                     "brevitas_exact": res["brevitas_vs_csim"]["index_exact"],
                     "project": str(root / cfg.folder), "synthesis": synth_note})
    write_text_atomic(root / "verify.json", json.dumps(report, indent=2, default=str) + "\n")
    return rows


def run_synthesis(proj, cfg: HLSConfig) -> str:
    """Run the vendor tool when it is on PATH; otherwise say plainly that synthesis was not run."""
    tool = "vitis_hls" if cfg.backend == "Vitis" else "catapult"
    if shutil.which(tool) is None:
        return f"not run: {tool} is not on PATH"
    report = proj.model.build(csim=False, synth=True, export=False)
    return f"ran {tool}: {json.dumps(report, default=str)[:400]}"
