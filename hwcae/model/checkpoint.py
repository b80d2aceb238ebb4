"""Checkpoint files: a ``.pt`` with weights and everything needed to rebuild and trust them,
plus a human-readable ``.json`` card beside it.

The ``.pt`` is a plain dict (loaded with ``weights_only=True``): ``format``, ``version``, ``kind``
(``float`` or ``qat``), ``arch`` (the architecture YAML as a dict), ``design`` (the fixed-point
design, QAT only), ``state_dict``, ``input_scale_uv``, ``index_counts`` ((S, K) codeword usage on
training data) and ``index_transitions`` ((L-1, K, K) uint8 counts of consecutive index pairs, scaled
so the largest is at most 255: :func:`hwcae.codec.statistics.pair_table`),
both for the entropy coders, ``data``, ``seed``, ``metrics``, ``command`` and
``content_hash``, which the bitstream container records.

``content_hash`` (``hash_scheme`` 2) covers everything that affects decoding: the kind, the arch and
design, the input scale, the weights and the coders' statistics (:func:`decoding_hash`). Files
written before the scheme existed carry no ``hash_scheme`` and a hash over the weights alone
(:func:`content_hash`); they still load when that hash matches.

On load every key is checked against :data:`SCHEMA` and the weights and statistics against the
architecture's shapes: a file that is not what it claims is one :class:`HwcaeError` line.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import torch

from hwcae.errors import HwcaeError
from hwcae.fileio import atomic_path, write_text_atomic
from hwcae.model.cae import CAE
from hwcae.model.config import Arch, arch_from_dict

FORMAT = "hwcae-checkpoint"
VERSION = 1
HASH_SCHEME = 2
STATS = ("index_counts", "index_transitions")
#: Every key a payload may hold: (types allowed, required).
SCHEMA = {
    "format": ((str,), True), "version": ((int,), True), "kind": ((str,), True), "arch": ((dict,), True),
    "design": ((dict, type(None)), True), "state_dict": ((dict,), True), "input_scale_uv": ((float, int), True),
    "index_counts": ((torch.Tensor,), True), "index_transitions": ((torch.Tensor, type(None)), True),
    "content_hash": ((str,), True), "hash_scheme": ((int,), False), "data": ((dict,), False),
    "seed": ((int,), False), "command": ((str,), False), "metrics": ((dict,), False),
    "float_hash": ((str,), False), "adapt": ((dict,), False),
}


def content_hash(state_dict: dict) -> str:
    """The weights-only hash (files without ``hash_scheme``; also an in-memory model's identity)."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name]
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _tensor_bytes(t) -> bytes:
    a = np.ascontiguousarray(t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t))
    return f"{a.dtype.str}{a.shape}".encode() + a.tobytes()


def decoding_hash(payload: dict) -> str:
    """sha256 over everything that decides what a file decodes to (hash scheme 2)."""
    h = hashlib.sha256()

    def put(tag: str, data: bytes) -> None:
        h.update(tag.encode() + b"\0" + len(data).to_bytes(8, "little") + data)

    put("kind", str(payload["kind"]).encode())
    for key in ("arch", "design"):
        put(key, json.dumps(payload.get(key), sort_keys=True, default=str).encode())
    put("input_scale_uv", repr(float(payload["input_scale_uv"])).encode())
    for name in sorted(payload["state_dict"]):
        put(f"w:{name}", _tensor_bytes(payload["state_dict"][name]))
    for key in STATS:
        t = payload.get(key)
        put(key, b"none" if t is None else _tensor_bytes(t))
    return h.hexdigest()[:16]


def sealed(payload: dict) -> dict:
    """``payload`` as a file holds it: the format marker, version, hash scheme and the content hash of
    what it now holds (an unsaved payload, e.g. an adapted model, then passes :func:`check_loaded`)."""
    payload = dict(payload, format=FORMAT, version=VERSION, hash_scheme=HASH_SCHEME)
    payload["content_hash"] = decoding_hash(payload)
    return payload


def save_checkpoint(path: str | os.PathLike, payload: dict, *, card: bool = True) -> Path:
    """Write ``payload`` (must hold state_dict, arch, kind) atomically, and its JSON card."""
    path = Path(path)
    if card and path.with_suffix(".json") == path:
        raise HwcaeError(f"{path}: a checkpoint cannot be named .json (its card is written there); use .pt")
    payload = sealed(payload)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    if card:
        meta = {k: v for k, v in payload.items() if k not in ("state_dict", *STATS)}
        meta["file"] = path.name
        meta["file_bytes"] = path.stat().st_size
        write_text_atomic(path.with_suffix(".json"), json.dumps(_jsonable(meta), indent=2) + "\n")
    return path


def load_plain(path: Path, what: str):
    """``torch.load(path, weights_only=True)``: tensors and plain values only, so that loading never
    runs code; a file holding anything else (a pickled object, a function call) or unreadable bytes
    is one HwcaeError line naming ``what`` it should have been."""
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing: one line only
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        m = re.search(r"Unsupported (?:global|operand)[^\n.]*", str(exc))
        why = f" ({m.group(0).strip()})" if m else ""
        raise HwcaeError(f"{path}: refused: the {what} holds objects other than tensors and plain values, and "
                         f"loading it could run code{why}") from None
    except Exception as exc:  # noqa: BLE001 (untrusted bytes: torch.load fails in many ways, all one line)
        msg = (str(exc).splitlines() or [exc.__class__.__name__])[0].split(". ")[0][:120]
        raise HwcaeError(f"{path} is not a readable {what} (truncated or corrupt?): {msg}") from None


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> dict:
    """Load and check a checkpoint; missing, truncated, foreign or inconsistent files are one clear line."""
    path = Path(path)
    if not path.is_file():
        raise HwcaeError(f"checkpoint not found: {path}")
    return check_loaded(load_plain(path, "checkpoint"), str(path), kind)


def check_loaded(payload, source: str, kind: str | None = None) -> dict:
    """Everything :func:`load_checkpoint` checks once the bytes are read (marker, version, schema,
    content hash, shapes, ``kind``), for a file or a payload held in memory (``source`` names it)."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise HwcaeError(f"{source} is not an hwcae checkpoint (no '{FORMAT}' marker)")
    if payload.get("version") != VERSION:
        raise HwcaeError(f"{source}: checkpoint version {payload.get('version')} is not supported (want {VERSION})")
    check_payload(payload, source)
    if kind is not None and payload["kind"] != kind:
        raise HwcaeError(f"{source} is a {payload['kind']} checkpoint, expected {kind}")
    return payload


def check_payload(payload: dict, source: str) -> None:
    """Schema of every key, the content hash, then shapes against the architecture."""
    _check_schema(payload, source)
    scheme = payload.get("hash_scheme")
    if scheme not in (None, HASH_SCHEME):
        raise HwcaeError(f"{source}: unknown hash_scheme {scheme!r} (want {HASH_SCHEME})")
    want = content_hash(payload["state_dict"]) if scheme is None else decoding_hash(payload)
    if want != payload["content_hash"]:
        what = "weights" if scheme is None else "weights, statistics or settings"
        raise HwcaeError(f"{source}: {what} do not match their content hash (file altered?)")
    arch = arch_from_dict(payload["arch"], f"{source}: arch")
    if not math.isclose(float(payload["input_scale_uv"]), arch.input_scale_uv):
        raise HwcaeError(f"{source}: input_scale_uv {payload['input_scale_uv']} differs from the arch's {arch.input_scale_uv}")
    _check_stats(payload, arch, source)
    _check_state(payload, arch, source)


def _check_schema(payload: dict, source: str) -> None:
    unknown = sorted(set(payload) - set(SCHEMA), key=str)
    if unknown:
        raise HwcaeError(f"{source}: unknown checkpoint keys {unknown} (known: {', '.join(SCHEMA)})")
    for key, (types, required) in SCHEMA.items():
        if key not in payload:
            if required:
                raise HwcaeError(f"{source}: checkpoint lacks the key '{key}'")
            continue
        value = payload[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            want = " or ".join("None" if t is type(None) else t.__name__ for t in types)
            raise HwcaeError(f"{source}: checkpoint key '{key}' must be {want}, got {type(value).__name__}")
    if payload["kind"] not in ("float", "qat"):
        raise HwcaeError(f"{source}: kind must be 'float' or 'qat', got {payload['kind']!r}")
    if (payload["kind"] == "qat") != isinstance(payload["design"], dict):
        raise HwcaeError(f"{source}: a {payload['kind']} checkpoint {'needs' if payload['kind'] == 'qat' else 'has no'} design")
    for name, t in payload["state_dict"].items():
        if not isinstance(name, str) or not isinstance(t, torch.Tensor):
            raise HwcaeError(f"{source}: state_dict must map names to tensors ({name!r}: {type(t).__name__})")
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise HwcaeError(f"{source}: weight {name} holds NaN or Inf")
    if not (math.isfinite(payload["input_scale_uv"]) and payload["input_scale_uv"] > 0):
        raise HwcaeError(f"{source}: input_scale_uv must be positive and finite")


def _check_stats(payload: dict, arch: Arch, source: str) -> None:
    k, n_idx = arch.vq.codebook_size, arch.indices_per_spike
    want = {"index_counts": (arch.symbols_per_spike, k), "index_transitions": (n_idx - 1, k, k)}
    for key, shape in want.items():
        t = payload[key]
        if t is None:
            continue
        if tuple(t.shape) != shape or t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
            raise HwcaeError(f"{source}: {key} must be integers of shape {shape} for arch {arch.name!r}, "
                             f"got {str(t.dtype).removeprefix('torch.')} {tuple(t.shape)}")
        if t.numel() and int(t.min()) < 0:
            raise HwcaeError(f"{source}: {key} holds negative counts")


#: A QAT checkpoint's encoder is hwcae.quantize.qcae's Brevitas module, saved under these names
#: (the file format): weight layers ``fcs.i`` + ``head`` (dense) or ``stem``, ``blocks.i.{reduce,mid,expand}``
#: + ``head`` (conv), each with a bias (batch norm folded); the codeword search ``score``; one learned
#: power-of-two scale per activation quantiser.
ACT_SCALE = ".act_quant.fused_activation_quant_proxy.tensor_quant.scaling_impl.value"
BLOCK_LAYERS, BLOCK_ACTS = ("reduce", "mid", "expand"), ("reduce_act", "mid_act", "add_q", "out_act")


def _qat_encoder_state(arch: Arch) -> dict[str, tuple]:
    e = arch.encoder
    if e.kind == "dense":
        layers = [f"fcs.{i}" for i in range(len(e.hidden))] + ["head"]
        acts = ["latent_q"] + [f"acts.{i}" for i in range(len(e.hidden))]
    else:
        blocks = range(len(e.blocks))
        layers = ["stem", *(f"blocks.{i}.{n}" for i in blocks for n in BLOCK_LAYERS), "head"]
        acts = ["latent_q", "stem_act", *(f"blocks.{i}.{n}" for i in blocks for n in BLOCK_ACTS)]
    # every use of a shared block is listed (its weights appear under each block index, as torch saves them)
    shapes = [tuple(m.weight.shape) for _, m in CAE(arch).encoder.named_modules(remove_duplicate=False)
              if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear))]
    k = arch.vq.codebook_size
    want = {"score.weight": (k, arch.vector_dim, 1), "score.bias": (k,), **{a + ACT_SCALE: () for a in acts}}
    for name, shape in zip(layers, shapes):
        want[f"{name}.weight"], want[f"{name}.bias"] = shape, shape[:1]
    return {f"encoder.{n}": s for n, s in want.items()}


def _expected_state(payload: dict, arch: Arch) -> dict[str, tuple]:
    """Names and shapes the state dict must have: the float CAE's, or the float decoder's and the
    Brevitas encoder's (:func:`_qat_encoder_state`)."""
    model = CAE(arch)
    if payload["kind"] == "float":
        return {n: tuple(t.shape) for n, t in model.state_dict().items()}
    return {**_qat_encoder_state(arch), **{f"decoder.{n}": tuple(t.shape) for n, t in model.decoder.state_dict().items()}}


def _check_state(payload: dict, arch: Arch, source: str) -> None:
    mine = {n: tuple(t.shape) for n, t in payload["state_dict"].items()}
    want = _expected_state(payload, arch)
    missing, extra = sorted(set(want) - set(mine)), sorted(set(mine) - set(want))
    if missing or extra:
        raise HwcaeError(f"{source}: weights do not fit arch {arch.name!r}: "
                         + "; ".join(f"{w} {', '.join(v[:3])}{' ...' if len(v) > 3 else ''}"
                                     for w, v in (("missing", missing), ("unexpected", extra)) if v))
    bad = [n for n in want if mine[n] != want[n]]
    if bad:
        raise HwcaeError(f"{source}: weight {bad[0]} has shape {mine[bad[0]]}, arch {arch.name!r} needs {want[bad[0]]}")


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.generic,)):
        return x.item()
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return np.asarray(x).tolist()
    return x
