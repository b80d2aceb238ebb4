"""Compress a long multichannel recording to an ``.hwc`` container in bounded memory.

Per chunk of the recording (with overlap, :class:`hwcae.spikes.readers.ChunkPlan`): band-pass,
detect per channel against a robust noise threshold, align, cut the 4 nearest channels, and encode
with the bit-accurate fixed-point reference encoder (what the chip computes). Chunks run in
parallel, on local processes (joblib) or on a Dask cluster (``scheduler="tcp://host:port"``); the
results come back in recording order and are entropy-coded and appended to the container, so the
file is identical whichever way the work was spread. At most ``2 x workers`` chunks are in flight.
"""
from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from hwcae.errors import HwcaeError
from hwcae.fixedpoint.graph import FixedPointModel
from hwcae.spikes.readers import ChunkPlan


def encode_chunk(plan: ChunkPlan, model: FixedPointModel, start: int) -> tuple:
    """(peak frames, best channels, symbols (N, S): codeword indices then the gain code if any,
    (worker pid, its peak RSS in kB)) of the chunk at ``start``."""
    from hwcae.fixedpoint.reference import ReferenceEncoder

    snippets, frames, chans = plan.spikes(start)
    if len(snippets) == 0:
        idx = np.zeros((0, model.symbols_per_spike), np.int64)
    else:
        idx = ReferenceEncoder(model).encode_symbols(snippets)
    return frames, chans, idx, (os.getpid(), peak_rss_kb())


def peak_rss_kb() -> int:
    """This process's peak resident memory (kB): Linux's VmHWM, which (unlike ``ru_maxrss``) does not
    carry over the parent's peak into a forked-then-exec'd worker."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover (not Linux)
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _local(plan, fp, starts, jobs: int) -> Iterator:
    if jobs == 1:
        for s in starts:
            yield encode_chunk(plan, fp, s)
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=jobs, return_as="generator", pre_dispatch="2*n_jobs")(
        delayed(encode_chunk)(plan, fp, s) for s in starts)


def _dask(plan, fp, starts, address: str) -> Iterator:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover (a declared dependency)
        raise HwcaeError("--scheduler needs dask.distributed (pip install 'dask[distributed]')") from None
    try:
        client = Client(address, timeout="10s")
    except Exception as exc:
        raise HwcaeError(f"cannot reach the Dask scheduler at {address}: {str(exc).splitlines()[0][:120]}") from None
    try:
        window = 2 * max(1, sum(client.nthreads().values()))
        plan_f, fp_f = client.scatter(plan, broadcast=True), client.scatter(fp, broadcast=True)
        pending = []
        for s in starts:  # keep `window` chunks in flight, collect them in recording order
            pending.append(client.submit(encode_chunk, plan_f, fp_f, s, pure=False))
            if len(pending) >= window:
                yield pending.pop(0).result()
        for f in pending:
            yield f.result()
    finally:
        client.close()


@dataclass
class StreamResult:
    spikes: int
    bytes: int
    duration_s: float
    wall_s: float
    channels: int
    peak_rss_mb: float  # this process plus the peak of each worker process (an upper bound)
    worker_peak_rss_mb: list  # each worker process's own peak

    @property
    def x_realtime(self) -> float:
        return self.duration_s / max(self.wall_s, 1e-9)

    @property
    def spikes_per_s(self) -> float:
        return self.spikes / max(self.wall_s, 1e-9)

    def as_dict(self) -> dict:
        return {**self.__dict__, "x_realtime": self.x_realtime, "spikes_per_s": self.spikes_per_s}


def compress_recording(plan: ChunkPlan, codec, out: str | os.PathLike, *, coder: str | None = None, jobs: int = 1,
                       scheduler: str | None = None, progress: bool = False) -> StreamResult:
    """Stream ``plan``'s recording through ``codec`` (a QAT :class:`~hwcae.stream.codec.Codec`; ``coder`` None: its default) into ``out``.

    ``out`` is written to a temporary file and renamed when complete.
    """
    from hwcae.codec import container
    from hwcae.fileio import atomic_path

    if codec.fixed_point is None:
        raise HwcaeError("compressing a recording runs the chip's fixed-point encoder: "
                         "give a QAT checkpoint (models/qat-<design>.pt)")
    entropy_coder = codec.bitstream.coder(coder)
    fp = codec.fixed_point
    starts = plan.starts
    results = _dask(plan, fp, starts, scheduler) if scheduler else _local(plan, fp, starts, max(1, jobs))
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(starts), desc="compress", unit="chunk")
    t0 = time.perf_counter()
    n_frames_done = n_spikes = 0
    worker_rss_kb: dict[int, int] = {}
    try:  # an error or an interrupt (SIGTERM, see hwcae.stream.signals) removes the temporary file
        with atomic_path(out) as tmp, open(tmp, "wb") as fh:
            writer = container.Writer(fh, entropy_coder, codec.hash, codec.fixed_point.symbols_per_spike,
                                      fs_hz=plan.fs_hz)
            for frames, chans, idx, (pid, rss_kb) in results:
                worker_rss_kb[pid] = max(worker_rss_kb.get(pid, 0), rss_kb)
                writer.add(idx, frames, chans)
                n_spikes += len(idx)
                n_frames_done = min(plan.n_frames, n_frames_done + plan.step)
                if bar is not None:
                    dt = time.perf_counter() - t0
                    bar.set_postfix(spikes=n_spikes, spikes_s=f"{n_spikes / dt:,.0f}",
                                    x_rt=f"{n_frames_done / plan.fs_hz / dt:.2f}")
                    bar.update(1)
            n = writer.close()
            size = fh.tell()
    finally:  # the progress line ends before any message that follows
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - t0
    worker_rss_kb.pop(os.getpid(), None)  # chunks run in this process (jobs=1) count once
    own_kb = peak_rss_kb()
    rss_mb = (own_kb + sum(worker_rss_kb.values())) / 1024.0
    return StreamResult(n, size, plan.n_frames / plan.fs_hz, wall, int(plan.table.shape[0]), rss_mb,
                        [round(v / 1024.0, 1) for v in worker_rss_kb.values()])
