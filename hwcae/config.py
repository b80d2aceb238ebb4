"""Loading YAML configuration files into validated pydantic models.

Every configuration (model architecture, fixed-point design, HLS settings, technology node) is
data: a YAML file checked on load. Unknown keys and out-of-range values are one-line errors.

Validation is strict: values are never coerced (``weight_bits: "8"`` or ``epochs: 6.5`` is an
error, an integer is accepted where a float is asked), numbers must be finite (``.nan`` / ``.inf``
are refused), a key may appear only once in a mapping, mapping keys are strings, and a file must
be UTF-8 text of at most :data:`MAX_CONFIG_BYTES`. Lists are accepted where a pair (tuple) is asked.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TypeVar

import pydantic
import yaml

from hwcae.errors import HwcaeError

M = TypeVar("M", bound=pydantic.BaseModel)
MAX_CONFIG_BYTES = 1 << 20  # 1 MiB: every shipped config is a few KiB


class Strict(pydantic.BaseModel):
    """Base for config models: unknown keys are errors, values are not coerced, numbers are finite."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _brief(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def one_line(exc: pydantic.ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        got = "" if err["type"].startswith(("value_error", "missing", "extra_forbidden")) else f" (got {_brief(err.get('input'))})"
        parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}{got}")
    return "; ".join(parts).replace("\n", " ")


def _plain(x, where: str = "") -> None:
    """Refuse what JSON cannot say without coercion: non-string keys, dates, bytes, sets, NaN/Inf."""
    if isinstance(x, dict):
        for k, v in x.items():
            if not isinstance(k, str):
                raise HwcaeError(f"{where or '(top level)'}: key {_brief(k)} must be a string")
            _plain(v, f"{where}.{k}" if where else k)
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            _plain(v, f"{where}.{i}" if where else str(i))
    elif isinstance(x, float) and not math.isfinite(x):
        raise HwcaeError(f"{where or '(top level)'}: {x} is not a finite number")
    elif not (x is None or isinstance(x, (str, bool, int, float))):
        raise HwcaeError(f"{where or '(top level)'}: unsupported value {_brief(x)} ({type(x).__name__}); "
                         "use strings, numbers, booleans, lists and mappings")


def parse(model: type[M], data: object, source: str) -> M:
    """Validate plain data (from YAML or a checkpoint) as ``model`` in pydantic's strict JSON mode."""
    try:
        _plain(data)
    except HwcaeError as exc:
        raise HwcaeError(f"{source}: {exc}") from None
    try:
        return model.model_validate_json(json.dumps(data), strict=True)
    except pydantic.ValidationError as exc:
        raise HwcaeError(f"{source}: {one_line(exc)}") from None


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key repeated in one mapping is an error (PyYAML keeps
    the last silently). Merge keys (``<<: *anchor``) still override as YAML defines."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    repeated = key in seen
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if repeated:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep)


def safe_load(text: str, source: str):
    """YAML text -> plain data with :class:`UniqueKeyLoader`; a syntax error or a repeated key is one line."""
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or ""
        detail = f": {problem}" if str(problem).startswith("duplicate key") else ""
        raise HwcaeError(f"{source}: not valid YAML{where}{detail}") from None
    except RecursionError:
        raise HwcaeError(f"{source}: not valid YAML (nested too deeply)") from None


def read_config_text(path: str | os.PathLike) -> str:
    """A config file's text: it must exist, be at most MAX_CONFIG_BYTES and be UTF-8."""
    path = Path(path)
    if not path.is_file():
        raise HwcaeError(f"config file not found: {path}")
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise HwcaeError(f"{path}: {size:,} bytes is too large for a config file (at most {MAX_CONFIG_BYTES:,})")
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HwcaeError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise HwcaeError(f"{path}: cannot read ({exc.strerror or exc.__class__.__name__})") from None


def read_mapping(path: str | os.PathLike) -> dict:
    """A config file's top-level mapping (read, UTF-8 and YAML checks as :func:`read_config_text` and
    :func:`safe_load`); anything else at the top level is one HwcaeError line."""
    data = safe_load(read_config_text(path), str(path))
    if not isinstance(data, dict):
        raise HwcaeError(f"{path}: expected a mapping at the top level")
    return data


def load_yaml(model: type[M], path: str | os.PathLike) -> M:
    """Read ``path`` and validate it as ``model``; any problem is one HwcaeError line."""
    return parse(model, read_mapping(path), str(path))


def merged(base: dict, over: dict) -> dict:
    """``over`` laid on ``base``: mappings merge key by key (recursively), anything else is replaced."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _layers(name_or_path: str, folder: Path) -> list[tuple[Path, dict]]:
    """(path, data) of the file a name means, then of its ``base:`` and that one's (no cycles). A base
    that is a path (not a bare name) is taken relative to the file that names it."""
    layers: list[tuple[Path, dict]] = []
    path = resolve(name_or_path, folder)
    while True:
        data = read_mapping(path)
        layers.append((path, data))
        base = data.pop("base", None)
        if base is None:
            return layers
        if not isinstance(base, str):
            raise HwcaeError(f"{path}: base: must be the name or path of another file (got {_brief(base)})")
        nxt = resolve(base, folder)
        nxt = nxt if nxt.is_absolute() or nxt.parent == folder else path.parent / nxt
        if any(nxt.resolve() == p.resolve() for p, _ in layers):
            raise HwcaeError(f"{path}: base: {base!r} leads back to {nxt}")
        path = nxt


def layered_files(name_or_path: str, folder: Path) -> list[Path]:
    """The files a layered config is read from: the one named first, then its bases in turn."""
    return [p for p, _ in _layers(name_or_path, folder)]


def load_layered(model: type[M], name_or_path: str, folder: Path) -> M:
    """Like :func:`load_yaml`, but a file may say ``base: <name or path>``: it is then what it writes
    laid on that file (:func:`merged`: nested mappings merge, values and lists replace), so a variant
    holds only what differs. Validated once, as merged; a missing base or a cycle is one line."""
    layers = _layers(name_or_path, folder)
    data: dict = {}
    for _, layer in reversed(layers):
        data = merged(data, layer)
    return parse(model, data, str(layers[0][0]))


def resolve(name_or_path: str, folder: Path, suffix: str = ".yaml") -> Path:
    """A bare name (``default``) means ``folder/default.yaml``; anything else is a path."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.parent != Path("."):
        return p
    candidate = folder / f"{name_or_path}{suffix}"
    if not candidate.is_file():
        known = ", ".join(sorted(f.stem for f in folder.glob(f"*{suffix}")))
        raise HwcaeError(f"unknown name {name_or_path!r}; known: {known}")
    return candidate
