"""Save and load a :class:`~hwcae.fixedpoint.graph.FixedPointModel` as one ``.npz`` (no pickle).

The graph (every operation's fields but its arrays) is one JSON string; weights, biases and the
codebook are integer arrays beside it. ``format`` and ``version`` are checked on load: an older
``weights.npz`` or a foreign file is refused in one line.
"""
from __future__ import annotations

import json
import os

import numpy as np

from hwcae.errors import HwcaeError
from hwcae.fixedpoint.gain import GainSpec
from hwcae.fixedpoint.graph import Add, Conv, FixedPointModel, MaxPool, Quant, Reshape, Search, Word

FORMAT = "hwcae-fixedpoint"
VERSION = 2  # version 1: the untyped weights.npz of hwcae <= 0.1 (a dict of layers by name)
_OPS = {"conv": Conv, "quant": Quant, "add": Add, "maxpool": MaxPool, "reshape": Reshape}
_NAMES = {cls: name for name, cls in _OPS.items()}


def _op_json(op) -> dict:
    if isinstance(op, Conv):
        return {"op": "conv", "name": op.name, "src": op.src, "dst": op.dst, "w_exp": op.w_exp,
                "w_bits": op.w_bits, "in_exp": op.in_exp, "groups": op.groups, "shares": op.shares}
    d = {"op": _NAMES[type(op)], **{k: v for k, v in op.__dict__.items()}}
    if isinstance(op, Quant):
        d["word"] = op.word.__dict__
    return d


def to_arrays(model: FixedPointModel) -> dict[str, np.ndarray]:
    """The model as named arrays (what :func:`save` writes)."""
    graph = {"encoder_kind": model.encoder_kind, "input_scale_uv": model.input_scale_uv, "input": model.input.__dict__,
             "bias_bits": model.bias_bits, "gain": None if model.gain is None else model.gain.as_dict(),
             "search": {"exp": model.search.exp, "bits": model.search.bits},
             "ops": [_op_json(op) for op in model.ops]}
    arrays = {"format": np.array(FORMAT), "version": np.array(VERSION), "graph": np.array(json.dumps(graph)),
              "codebook": np.asarray(model.search.codebook, np.int64)}
    for c in model.convs():  # shared weights are stored once, under the layer that owns them
        if not c.shares:
            arrays[f"w:{c.name}"] = np.asarray(c.w, np.int64)
        arrays[f"b:{c.name}"] = np.asarray(c.b, np.int64)
    return arrays


def save(model: FixedPointModel, path: str | os.PathLike) -> None:
    """Write ``path`` atomically (temp file, then rename)."""
    from hwcae.fileio import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **to_arrays(model))


def _op(d: dict, arrays: dict):
    d = dict(d)
    kind = d.pop("op")
    if kind == "conv":
        return Conv(w=arrays[f"w:{d.get('shares') or d['name']}"], b=arrays[f"b:{d['name']}"], **d)
    if kind == "quant":
        return Quant(**{**d, "word": Word(**d["word"])})
    if kind == "add":
        return Add(srcs=tuple(d["srcs"]), dst=d["dst"])
    return _OPS[kind](**d)


def from_arrays(z: dict, where: str = "the file") -> FixedPointModel:
    """Inverse of :func:`to_arrays`; raises :class:`HwcaeError` on anything else."""
    if "format" not in z or str(z["format"]) != FORMAT:
        raise HwcaeError(f"{where} is not an hwcae fixed-point model (an older weights.npz? re-run make hls)")
    if int(z["version"]) != VERSION:
        raise HwcaeError(f"{where} is fixed-point format version {int(z['version'])}; this hwcae reads "
                         f"version {VERSION}: re-run make hls")
    try:
        g = json.loads(str(z["graph"]))
        return FixedPointModel(
            encoder_kind=g["encoder_kind"], input_scale_uv=float(g["input_scale_uv"]), input=Word(**g["input"]),
            ops=[_op(d, z) for d in g["ops"]], search=Search(z["codebook"], **g["search"]),
            bias_bits=int(g["bias_bits"]), gain=None if g["gain"] is None else GainSpec(**g["gain"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise HwcaeError(f"{where}: damaged fixed-point model ({exc.__class__.__name__}: {exc})") from None


def load(path: str | os.PathLike) -> FixedPointModel:
    try:
        with np.load(path, allow_pickle=False) as f:
            z = dict(f)
    except Exception as exc:
        raise HwcaeError(f"cannot read fixed-point model {path}: {exc.__class__.__name__}") from None
    return from_arrays(z, str(path))
