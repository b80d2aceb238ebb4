"""Build one design's artifacts: QAT checkpoint -> QONNX -> typed fixed-point model -> HLS projects.

Only building lives here; checking that the builds agree is :mod:`hwcae.verify.design`'s job.
Artifacts under ``hls/build/<design>/``: ``encoder.onnx`` (QONNX, channels first),
``encoder_cl.onnx`` (channels last, what hls4ml reads), ``fixedpoint.npz`` (the typed integer
model, :mod:`hwcae.fixedpoint.io`) and one project folder per backend (``vitis/``, ``catapult/``).
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from hwcae.errors import HwcaeError
from hwcae.export import qonnx_export
from hwcae.export.handoff import stamped_design
from hwcae.export.backends import BACKENDS, Backend, get_backend
from hwcae.fixedpoint import io as fixedpoint_io
from hwcae.fixedpoint.graph import FixedPointModel

BUILD_DIR = Path("hls/build")


@dataclass
class DesignBuild:
    design: object  # hwcae.quantize.design.Design
    encoder: object  # the Brevitas encoder (eval mode)
    model: FixedPointModel
    onnx: object  # the cleaned QONNX model, channels first (what qonnx's executor runs)
    root: Path
    projects: dict = field(default_factory=dict)  # backend name -> hls_project.Project
    seconds: dict = field(default_factory=dict)


def build_design(qat_path: str | Path, *, backends=tuple(BACKENDS), root: Path | None = None,
                 out_root: Path = BUILD_DIR, progress=print) -> DesignBuild:
    """Export a QAT checkpoint and build (and compile) one HLS project per backend in ``root``
    (default ``out_root/<design>``)."""
    from hwcae.export.hls_project import build
    from hwcae.quantize.extract import extract
    from hwcae.quantize.qat import load_qat

    qat, _, design, _ = load_qat(qat_path)
    enc = qat.encoder.eval()
    root = Path(root) if root is not None else Path(out_root) / design.name
    for name in backends:  # never overwrite a project generated for another design
        other = stamped_design(root / get_backend(name).name)
        if other not in (None, design.name):
            raise HwcaeError(f"{root / get_backend(name).name} holds design {other}, not {design.name}: "
                             "choose another folder or delete it")
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    qonnx_export.export(enc, root / "encoder.onnx")
    onnx_cf = qonnx_export.cleaned(root / "encoder.onnx")
    onnx_cl = qonnx_export.to_channels_last(qonnx_export.cleaned(root / "encoder.onnx"))
    onnx_cl.save(str(root / "encoder_cl.onnx"))
    model = extract(enc)
    fixedpoint_io.save(model, root / "fixedpoint.npz")
    out = DesignBuild(design, enc, model, onnx_cf, root, seconds={"qonnx": time.time() - t0})
    for name in backends:
        backend = get_backend(name)
        t1 = time.time()
        out.projects[name] = build(onnx_cl, model, backend, root / backend.name)
        out.seconds[name] = time.time() - t1
        progress(f"[{design.name}] {backend.hls4ml_backend}: project written, C simulation compiled in "
                 f"{out.projects[name].compile_s:.1f} s")
    return out


def run_synthesis(proj, backend: Backend) -> str:
    """Run the vendor tool when it is on PATH; otherwise say plainly that synthesis was not run."""
    if shutil.which(backend.tool) is None:
        return f"not run: {backend.tool} is not on PATH"
    report = proj.model.build(csim=False, synth=True, export=False)
    return f"ran {backend.tool}: {json.dumps(report, default=str)[:400]}"
