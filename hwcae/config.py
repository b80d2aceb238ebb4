"""Loading YAML configuration files into validated pydantic models.

Every configuration (model architecture, fixed-point design, HLS settings, technology node) is
data: a YAML file checked on load. Unknown keys and out-of-range values are one-line errors.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import pydantic
import yaml

from hwcae.errors import HwcaeError

M = TypeVar("M", bound=pydantic.BaseModel)


class Strict(pydantic.BaseModel):
    """Base for config models: unknown keys are errors, values are not coerced silently."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


def one_line(exc: pydantic.ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse(model: type[M], data: object, source: str) -> M:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise HwcaeError(f"{source}: {one_line(exc)}") from None


def load_yaml(model: type[M], path: str | os.PathLike) -> M:
    """Read ``path`` and validate it as ``model``; any problem is one HwcaeError line."""
    path = Path(path)
    if not path.is_file():
        raise HwcaeError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise HwcaeError(f"{path}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise HwcaeError(f"{path}: expected a mapping at the top level")
    return parse(model, data, str(path))


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
