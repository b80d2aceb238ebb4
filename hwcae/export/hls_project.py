"""QONNX -> hls4ml projects (Vitis FPGA, Catapult ASIC) with precisions taken from the design.

Every activation word is the exported quantiser's type (width, integer bits and sign from the
design's bit-widths and the trained power-of-two scales), with ``RND_CONV`` and ``SAT``; weights
and accumulators are inferred exactly by hls4ml ('auto'); the input is the ADC word; the codeword
score layer gets an exact type computed from the codebook and latent formats. hls4ml 1.3
re-infers the type of a ReLU that follows a residual add (giving it one more integer bit, so it
would not saturate where the design does): we set those types again after its passes.
"""
from __future__ import annotations

import copy
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwcae.errors import HwcaeError
from hwcae.export.backends import Backend, HLSConfig
from hwcae.fixedpoint.graph import FixedPointModel


@dataclass
class Project:
    path: Path
    backend: str
    model: object  # hls4ml ModelGraph
    latent_layer: str
    forced: list = field(default_factory=list)
    compiled: bool = False
    compile_s: float = 0.0


def quant_types(onnx_model) -> dict[str, tuple[int, int, bool]]:
    """hls4ml layer name -> (width, integer bits, signed) for every activation Quant node."""
    types = {}
    for n in onnx_model.graph.node:
        if n.op_type != "Quant" or onnx_model.get_initializer(n.input[0]) is not None:
            continue
        scale, _, bits = (onnx_model.get_initializer(i) for i in n.input[1:])
        signed = next(a.i for a in n.attribute if a.name == "signed")
        e = math.log2(float(np.asarray(scale).reshape(-1)[0]))
        if abs(e - round(e)) > 1e-9:
            raise HwcaeError(f"{n.name}: scale {float(scale)} is not a power of two")
        t = (int(bits), int(bits) + int(round(e)), bool(signed))
        types[f"{n.name}_act"] = t
        prod = onnx_model.find_producer(n.input[0])
        if prod is not None and prod.op_type == "Relu":
            types[prod.name] = t
    return types


def _type_str(w: int, i: int, signed: bool, exact: bool = False) -> str:
    base = "fixed" if signed else "ufixed"
    return f"{base}<{w},{i}>" if exact else f"{base}<{w},{i},RND_CONV,SAT>"


def _valid_reuse(want: int, fan_in: int) -> int:
    """The largest divisor of fan_in that is <= want (hls4ml's resource conv takes these)."""
    return max(d for d in range(1, min(want, fan_in) + 1) if fan_in % d == 0)


def score_type(model: FixedPointModel) -> tuple[int, int]:
    """(width, integer bits) holding z.e - ||e||^2/2 exactly for every codeword and latent."""
    cb, lat = model.search, model.latent_word
    frac = max(-(lat.exp + cb.exp), 1 - 2 * cb.exp)
    zmax = 2 ** (lat.bits - 1)
    bound = (zmax * np.abs(cb.codebook).sum(1)).max() * 2.0 ** (lat.exp + cb.exp)
    bound += ((cb.codebook.astype(np.float64) ** 2).sum(1)).max() * 2.0 ** (2 * cb.exp - 1)
    integer = max(1, math.ceil(math.log2(bound + 1))) + 1
    return integer + frac, integer


def build(onnx_model, model: FixedPointModel, backend: Backend, out_dir: str | os.PathLike, *,
          cfg: HLSConfig | None = None, compile: bool = True) -> Project:
    """Convert, fix precisions, write and (optionally) compile one backend's project
    (settings ``cfg``, default the backend's ``hls/<name>.yaml``)."""
    cfg = cfg or backend.config()
    import hls4ml

    from hwcae.export import grouped_conv_layer
    from hwcae.export.argmax_layer import register
    from hwcae.export.hls4ml_patches import install
    from hwcae.export.qonnx_export import latent_quant as latent_quant_node

    register(backend.hls4ml_backend)
    grouped_conv_layer.register(backend.hls4ml_backend)
    install()
    from hwcae.export.handoff import remove_stale_archive

    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    remove_stale_archive(out_dir)
    if any(grouped_conv_layer.needs_layer(c) for c in model.convs()):
        onnx_model = copy.deepcopy(onnx_model)
        grouped_conv_layer.lower(onnx_model, model)
    hcfg = hls4ml.utils.config_from_onnx_model(onnx_model, granularity="name", backend=backend.hls4ml_backend,
                                               default_reuse_factor=cfg.reuse_factor)
    hcfg["Model"]["Strategy"] = cfg.strategy
    layers = hcfg["LayerName"]
    inp = model.input
    layers[onnx_model.graph.input[0].name]["Precision"]["result"] = _type_str(inp.bits, inp.bits + inp.exp, True, exact=True)
    types = quant_types(onnx_model)
    for name, (w, i, s) in types.items():
        key = name[:-4] if name.endswith("_act") else name
        if key in layers:
            layers[key]["Precision"]["result"] = _type_str(w, i, s)
    weighted = [n for n in onnx_model.graph.node if n.op_type in ("Conv", "MatMul", grouped_conv_layer.OP_TYPE)]  # the model's layers, then the search
    fan_in = [c.fan_in for c in model.convs()] + [model.search.dim]
    for node, fi in zip(weighted, fan_in):  # hls4ml's resource conv needs reuse <= kernel x channels in
        layers[node.name]["ReuseFactor"] = _valid_reuse(cfg.reuse_factor, fi)
    score_conv = weighted[-1]
    latent_quant = latent_quant_node(onnx_model)
    sw, si = score_type(model)
    layers[score_conv.name]["Precision"].update({"result": f"fixed<{sw},{si}>", "accum": f"fixed<{sw},{si}>",
                                                 "bias": f"fixed<{sw},{si}>"})
    for name in layers:
        layers[name]["Trace"] = True
    hls_model = hls4ml.converters.convert_from_onnx_model(
        onnx_model, output_dir=str(out_dir), project_name="hwcae_encoder", hls_config=hcfg, **backend.convert_kwargs(cfg))
    forced = []
    for layer in hls_model.get_layers():
        want = types.get(layer.name)
        if want is None:
            continue
        p = layer.get_output_variable().type.precision
        if (p.width, p.integer, p.signed) != want:
            forced.append((layer.name, str(p), _type_str(*want)))
            p.width, p.integer, p.signed = want
    latent_layer = _latent_layer(hls_model, latent_quant.name)
    proj = Project(out_dir, backend.name, hls_model, latent_layer, forced)
    hls_model.write()
    if compile:
        t0 = time.time()
        hls_model.compile()
        proj.compiled, proj.compile_s = True, time.time() - t0
    return proj


def _latent_layer(model, latent_quant: str) -> str:
    """The hls4ml layer that writes the latent word: the latent Quant's own activation layer, or
    (where hls4ml absorbed that Quant into the head) the first layer above the codeword search
    that is not the search itself or a reshape."""
    names = [layer.name for layer in model.get_layers()]
    if f"{latent_quant}_act" in names:
        return f"{latent_quant}_act"
    search = next(la for la in model.get_layers() if la.class_name == "VQArgmax")
    layer = search.get_input_node().get_input_node()  # above the argmax's score conv
    while layer.class_name == "Reshape":
        layer = layer.get_input_node()
    return layer.name


def predict(proj: Project, x_codes_norm: np.ndarray, batch: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """C simulation: (latent values (N, D, L), indices (N, L)) for normalised quantised input (N, 4, 64)."""
    n = len(x_codes_norm)
    lat, idx = [], []
    for i in range(0, n, batch):
        xb = x_codes_norm[i:i + batch].transpose(0, 2, 1)  # channels last; dense: flattened sample-major
        xb = np.ascontiguousarray(xb.reshape(len(xb), *proj.model.get_input_variables()[0].shape), np.float64)
        y, trace = proj.model.trace(xb)
        positions = np.asarray(y).reshape(len(xb), -1)
        idx.append(positions)
        # the latent is channels-last in the firmware: (N, L, D) -> (N, D, L)
        lat.append(np.asarray(trace[proj.latent_layer]).reshape(len(xb), positions.shape[1], -1).transpose(0, 2, 1))
    return np.concatenate(lat), np.concatenate(idx).astype(np.int64)
