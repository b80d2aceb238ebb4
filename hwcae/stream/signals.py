"""SIGTERM unwinds like Ctrl-C: a verb stopped by ``kill`` or a job scheduler's time limit raises
:class:`Terminated` (a ``KeyboardInterrupt``) in the main thread, so :func:`hwcae.fileio.atomic_path`
removes its temporary file and no partial or empty output is left behind (the default action would
end the process on the spot). The command line reports it as ``hwcae: interrupted``."""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived."""


def _raise(signum, frame):
    raise Terminated(f"signal {signum}")


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old if old is not None else signal.SIG_DFL)
