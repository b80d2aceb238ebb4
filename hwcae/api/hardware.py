"""The hardware half of the Python API: the fixed-point model, HLS projects, RTL, bit-exact checks, cost."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

PathLike = str | os.PathLike


def fixed_point_model(checkpoint: PathLike):
    """The typed integer model of a QAT checkpoint's encoder (or of a saved ``fixedpoint.npz``)."""
    if str(checkpoint).endswith(".npz"):
        from hwcae.fixedpoint.io import load

        return load(checkpoint)
    from hwcae.quantize.extract import extract
    from hwcae.quantize.qat import load_qat

    return extract(load_qat(checkpoint)[0].encoder)


def build_design(checkpoint: PathLike, *, backends: tuple[str, ...] | None = None, out: PathLike = "hls/build",
                 progress=print):
    """QONNX export, the typed fixed-point model and one compiled HLS project per backend
    (default all: ``hwcae.export.backends.BACKENDS``) under ``out/<design>/``."""
    from hwcae.export.backends import BACKENDS
    from hwcae.export.pipeline import build_design as _build

    return _build(checkpoint, backends=tuple(backends or BACKENDS), out_root=Path(out), progress=progress)


def verify_design(checkpoint: PathLike, spikes_uv: np.ndarray, *, backends: tuple[str, ...] | None = None,
                  out: PathLike = "hls/build", root: PathLike | None = None, qonnx_spikes: int | None = 512,
                  synth: bool = False, rtl: bool = False, verbose: bool = False, progress=print) -> dict:
    """Build the design (:func:`build_design`) and compare Brevitas, the NumPy reference, qonnx and
    every backend's C simulation bit for bit on ``spikes_uv`` plus range-edge inputs; the report is
    also written to ``<out>/<design>/verify.json``. ``backends=()`` builds no project. ``rtl=True``
    adds the generated Verilog's simulation (Verilator; :func:`build_rtl`). Library output goes to
    ``<out>/build.log`` unless ``verbose``."""
    from hwcae.export.backends import BACKENDS
    from hwcae.verify.design import verify_design as _verify

    return _verify(checkpoint, np.asarray(spikes_uv), backends=tuple(BACKENDS) if backends is None else tuple(backends),
                   root=None if root is None else Path(root), out_root=Path(out), qonnx_spikes=qonnx_spikes,
                   synth=synth, rtl=rtl, verbose=verbose, progress=progress)


def estimate_cost(checkpoint: PathLike, *, tech: str | None = None, **budget) -> dict:
    """Gates, SRAM, energy per spike, uW per channel and channel capacity of a QAT design at a node
    (``hwcae/cost/tech/<node>.yaml``); ``budget`` overrides :class:`hwcae.cost.estimate.Budget`
    fields (channels, rate_hz, radio_pj_per_bit, clock_hz, lanes, reuse, ...): by default hwcae's
    RTL engine at ``hls/rtl.yaml``'s lanes, at ``hls/operating_point.yaml``'s node and budget (measured where ``hwcae rtl`` built it); ``lanes=None``
    costs hls4ml's per-layer datapath at ``reuse`` (default ``hls/catapult.yaml``'s)."""
    from hwcae.cost.estimate import Budget
    from hwcae.cost.report import cost_for_checkpoint
    from hwcae.export.backends import BACKENDS

    from hwcae.operating_point import load_operating_point

    budget.setdefault("reuse", BACKENDS["catapult"].config().reuse_factor)
    return cost_for_checkpoint(str(checkpoint), tech or load_operating_point().node, Budget.at_operating_point(**budget))


def build_rtl(checkpoint: PathLike, spikes_uv: np.ndarray | None = None, *, out: PathLike = "hls/build",
              lanes: int | None = None, synth: bool = True, progress=print) -> dict:
    """Generate Verilog for a QAT design (or a ``fixedpoint.npz``), simulate it bit for bit against
    the NumPy reference on ``spikes_uv`` (default: ``hls/rtl.yaml``'s count of the built-in held-out
    split) plus range-edge inputs, synthesise it with Yosys and simulate the netlist; files under
    ``out/<design>/rtl/``. Returns the report (also ``verify.json`` there)."""
    from hwcae.rtl.flow import load_rtl_config, run_rtl
    from hwcae.spikes.sources import load_data
    from hwcae.verify.checks import edge_inputs

    cfg = load_rtl_config()
    cfg = cfg.model_copy(update={"lanes": lanes}) if lanes else cfg
    if str(checkpoint).endswith(".npz"):  # hls/build/<design>/fixedpoint.npz
        model, name = fixed_point_model(checkpoint), Path(checkpoint).parent.name
    else:
        from hwcae.quantize.extract import extract
        from hwcae.quantize.qat import load_qat

        qat, _, design, _ = load_qat(checkpoint)
        model, name = extract(qat.encoder), design.name
    spikes = load_data("synth")[0].spikes[:cfg.spikes] if spikes_uv is None else np.asarray(spikes_uv)
    edge = edge_inputs(model.adc[1])
    inputs = np.concatenate([spikes, edge])  # as detected: the RTL runs the gain stage itself
    return run_rtl(model, name, inputs, Path(out) / name / "rtl", cfg, edge=len(edge), synth=synth, progress=progress)
