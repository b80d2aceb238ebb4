"""Quiet by default: what the libraries print while a design is built (hls4ml's topology dumps,
Brevitas and qonnx warnings) goes to a log file beside the build, not to the user's terminal;
``--verbose`` shows it."""
from __future__ import annotations

import contextlib
import warnings
from pathlib import Path


@contextlib.contextmanager
def library_output(log: Path | None, verbose: bool = False):
    """Inside: Python-level stdout, stderr and warnings go to ``log`` (appended), unless ``verbose``."""
    if verbose:
        yield
        return
    log = Path(log) if log is not None else None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
    with open(log if log is not None else "/dev/null", "a") as fh, contextlib.redirect_stdout(fh), \
            contextlib.redirect_stderr(fh), warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda msg, cat, fname, line, file=None, text=None: fh.write(
            f"{fname}:{line}: {cat.__name__}: {msg}\n")
        yield
