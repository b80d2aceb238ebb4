"""Atomic file writing: write to a temporary file beside the target, then rename; and the one rule
every output path of the command line obeys (:func:`check_outputs`).

A crash or an error half-way never leaves a half-written artifact, and an existing file is
replaced only once the new one is complete.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from hwcae.errors import HwcaeError


def _why(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, force: bool = True) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``target`` on success.

    The temporary name keeps the target's suffix, so libraries that append one (``np.savez``)
    write exactly where asked. With ``force=False`` an existing target is an error. A target that
    cannot be written (a folder, under a file, a read-only place) is one HwcaeError line.
    """
    target = Path(target)
    if not force and target.exists():
        raise HwcaeError(f"{target} exists; pass --force to overwrite it")
    if target.is_dir():
        raise HwcaeError(f"cannot write {target}: it is a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    except OSError as exc:
        raise HwcaeError(f"cannot write {target}: {_why(exc)}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; give the file ordinary permissions
        try:
            os.replace(tmp_path, target)
        except OSError as exc:
            raise HwcaeError(f"cannot write {target}: {_why(exc)}") from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _check_one(out: Path, force: bool, inputs: list[Path]) -> None:
    if any(_same_file(out, i) or out.resolve() == i.resolve() for i in inputs):
        raise HwcaeError(f"{out} is also an input of this command; write the output elsewhere")
    if out.is_dir():
        raise HwcaeError(f"{out} is a folder; give a file name")
    anc = out.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise HwcaeError(f"cannot write {out}: {anc} is a file, not a folder")
    try:  # a real probe: permission bits do not tell root, read-only mounts or /proc apart
        fd, probe = tempfile.mkstemp(prefix=".hwcae-probe.", dir=anc)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise HwcaeError(f"cannot write {out}: folder {anc} is not writable ({_why(exc)})") from None
    if out.exists():
        if not force:
            raise HwcaeError(f"{out} exists; pass --force to overwrite it")
        if not out.is_file():
            raise HwcaeError(f"{out} exists and is not a regular file")
        if not out.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise HwcaeError(f"{out} is read-only; make it writable or write elsewhere")


def check_outputs(outputs: Iterable[str | os.PathLike | None], *, force: bool = False,
                  inputs: Iterable[str | os.PathLike | None] = ()) -> list[Path]:
    """The output rule of every verb, checked before any work: each output (None: not asked for)
    must not be one of ``inputs`` or another output, must not be a folder or lie under a file, its
    folder must be writable, and an existing one is replaced only with ``force`` (never a read-only
    one). Returns the outputs as paths; any violation is one HwcaeError line."""
    outs = [Path(o) for o in outputs if o is not None]
    ins = [Path(i) for i in inputs if i is not None]
    seen: set[Path] = set()
    for out in outs:
        key = out.resolve()
        if key in seen:
            raise HwcaeError(f"{out} is named twice as an output (a checkpoint and its .json card cannot share a name)")
        seen.add(key)
        _check_one(out, force, ins)
    return outs


def json_text(obj) -> str:
    """Strict JSON (indented, newline-terminated): NaN and infinities become null, which every JSON
    reader accepts (Python's json would write the non-standard NaN / Infinity)."""
    import json
    import math

    import numpy as np

    def clean(x):
        if isinstance(x, np.generic | np.ndarray):  # NumPy scalars and arrays as plain numbers and lists
            x = x.tolist()
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj), indent=2, allow_nan=False, default=str) + "\n"
