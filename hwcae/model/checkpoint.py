"""Checkpoint files: a ``.pt`` with weights and everything needed to rebuild and trust them,
plus a human-readable ``.json`` card beside it.

The ``.pt`` is a plain dict (loaded with ``weights_only=True``): ``format``, ``version``, ``kind``
(``float`` or ``qat``), ``arch`` (the architecture YAML as a dict), ``design`` (the fixed-point
design, QAT only), ``state_dict``, ``input_scale_uv``, ``index_counts`` ((L, K) codeword usage on
training data) and ``index_transitions`` ((L-1, K, K) uint8 counts of consecutive index pairs, scaled
so the largest is at most 255: :func:`hwcae.codec.statistics.pair_table`),
both for the entropy coders, ``data``, ``seed``, ``metrics``, ``command`` and
``content_hash`` (sha256 over the weights, which the bitstream container records).
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import torch

from hwcae.errors import HwcaeError
from hwcae.fileio import atomic_path, write_text_atomic

FORMAT = "hwcae-checkpoint"
VERSION = 1


def content_hash(state_dict: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name]
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def save_checkpoint(path: str | os.PathLike, payload: dict, *, card: bool = True) -> Path:
    """Write ``payload`` (must hold state_dict, arch, kind) atomically, and its JSON card."""
    payload = dict(payload, format=FORMAT, version=VERSION)
    payload["content_hash"] = content_hash(payload["state_dict"])
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    if card:
        meta = {k: v for k, v in payload.items() if k not in ("state_dict", "index_counts", "index_transitions")}
        meta["file"] = path.name
        meta["file_bytes"] = path.stat().st_size
        write_text_atomic(path.with_suffix(".json"), json.dumps(_jsonable(meta), indent=2) + "\n")
    return path


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> dict:
    """Load and check a checkpoint; missing, truncated or foreign files are one clear line."""
    path = Path(path)
    if not path.is_file():
        raise HwcaeError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError, ValueError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise HwcaeError(f"{path} is not a readable checkpoint (truncated or corrupt?): {msg[:120]}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise HwcaeError(f"{path} is not an hwcae checkpoint (no '{FORMAT}' marker)")
    if payload.get("version") != VERSION:
        raise HwcaeError(f"{path}: checkpoint version {payload.get('version')} is not supported (want {VERSION})")
    if kind is not None and payload.get("kind") != kind:
        raise HwcaeError(f"{path} is a {payload.get('kind')} checkpoint, expected {kind}")
    if content_hash(payload["state_dict"]) != payload.get("content_hash"):
        raise HwcaeError(f"{path}: weights do not match their content hash (file altered?)")
    return payload


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
