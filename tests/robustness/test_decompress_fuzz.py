"""A structure-aware fuzzer of ``hwcae decompress``: valid files (each coder, and one written by
``hwcae compress``) with header and chunk fields changed under valid CRCs, chunk numbers forged,
chunks dropped, duplicated, reordered, cut or spliced from another coder or file, and raw damage.

For every case, through the command line: no traceback, no hang (a time limit per case), and never
wrong spikes reported as good: exit 0 only with exactly the original spikes (times, channels,
symbols, waveforms; the header's sampling rate as 'fs', no 'fs' when it holds none), otherwise exit
2 with one ``hwcae: error:`` line and no output, or with ``--partial`` an output holding only spikes
the file really carried. HWCAE_FUZZ_CASES sets the case count (500 by default), HWCAE_FUZZ_SEED the
seed, and HWCAE_FUZZ_REPORT a JSON file for the outcome counts and every failing case.
"""
from __future__ import annotations

import collections
import json
import os
import re
import signal
import time

import numpy as np
import pytest

from hwcae.cli import EXIT_ERROR, main
from hwcae.codec import container
from tests.robustness import hwc_fuzz
from tests.robustness.conftest import waveforms, write_npz

CASES = int(os.environ.get("HWCAE_FUZZ_CASES", "500"))
SEED = int(os.environ.get("HWCAE_FUZZ_SEED", "0"))
LIMIT_S = 20.0
FS = 30000.0  # the sampling rate in the coders' files (the one compress writes has none)


class Hang(BaseException):
    """A case ran past its time limit (BaseException: no ``except Exception`` in the code swallows it)."""


def _spikes(seed: int, n: int):
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.integers(1, 400, n)) + int(rng.integers(0, 10**6))
    channels = rng.integers(0, 6, n)
    channels[16:32] = 3  # one chunk on a single channel (the one-varint channel mode)
    return waveforms(n, seed=seed), times, channels


@pytest.fixture(scope="module")
def corpus(tiny_checkpoint, tmp_path_factory):
    """(codec, valid files to mutate, donors per file) for the tiny checkpoint."""
    from hwcae.api import load_model

    codec = load_model(tiny_checkpoint)
    spikes, times, channels = _spikes(1, 100)
    symbols = codec.encode(spikes)
    other_spikes, other_times, other_channels = _spikes(2, 60)
    other_symbols = codec.encode(other_spikes)
    bases, donors = [], {}
    for name, coder in codec.coders.items():
        data = container.write(coder, codec.hash, symbols, times, channels, chunk_spikes=16, fs_hz=FS)
        bases.append(hwc_fuzz.Base(name, data, symbols, times, channels, 16, fs=FS))
        donors[name] = {"file": container.write(coder, codec.hash, other_symbols, other_times, other_channels, 16)}
    for name in codec.coders:  # the same spikes under another coder
        donors[name]["coder"] = next(b.data for b in bases if b.name != name)
    root = tmp_path_factory.mktemp("fuzz-base")
    s, t, c = _spikes(3, 300)
    write_npz(root / "s.npz", spikes=s, times=t, channels=c)
    assert main(["compress", str(root / "s.npz"), str(root / "s.hwc"), "--checkpoint", str(tiny_checkpoint)]) == 0
    cli_data = (root / "s.hwc").read_bytes()
    bases.append(hwc_fuzz.Base("cli", cli_data, codec.encode(s), t, c, 256))
    donors["cli"] = {"file": donors[codec.bitstream.default_coder]["file"],
                     "coder": container.write(codec.coders["huffman"], codec.hash, codec.encode(s), t, c)}
    assert np.array_equal(container.read(cli_data, codec.bitstream.coder(None)).indices, bases[-1].symbols)
    for b in bases:
        b.decoded = codec.decode(b.symbols)  # the waveforms a good decode gives
    donor_rows = _rows(other_symbols, other_times, other_channels)  # what every donor "file" holds
    return codec, bases, donors, donor_rows


def _rows(symbols, times, channels) -> collections.Counter:
    return collections.Counter((int(t), int(c), tuple(int(v) for v in k)) for t, c, k in zip(times, channels, symbols))


def _alarm(signum, frame):
    raise Hang()


def run_case(i: int, corpus, cli, tmp_path) -> tuple[str, str]:
    """(outcome, what was done) of case ``i``; an outcome not in OK is a failure."""
    codec, bases, donors, donor_rows = corpus
    rng = np.random.default_rng([SEED, i])
    base = bases[int(rng.integers(len(bases)))]
    data, done, donor = hwc_fuzz.mutate(rng, base, donors[base.name])
    partial = rng.random() < 0.4
    src, out = tmp_path / f"c{i}.hwc", tmp_path / f"c{i}.npz"
    src.write_bytes(data)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, LIMIT_S)
    try:
        rc, _, err = cli("decompress", src, "--checkpoint", "tiny.pt", "--out", out, *(["--partial"] if partial else []))
    except Hang:
        return "hang", " ".join(done)
    except Exception as exc:  # main lets no exception out: any is a traceback for the user
        return f"traceback:{exc.__class__.__name__}", " ".join(done)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    what = " ".join(done) + (" --partial" if partial else "")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if "Traceback" in err:
        return "traceback", what
    if rc == 0:
        if len(lines) > 1 or (lines and not lines[0].startswith("hwcae: warning:")) or not out.is_file():
            return "bad_stderr", what
        with np.load(out) as z:
            same = (np.array_equal(z["times"], base.times) and np.array_equal(z["channels"], base.channels)
                    and np.array_equal(z["indices"], base.symbols))
            same = same and np.allclose(z["spikes"], base.decoded, atol=1e-4)
            fs = 0.0 if re.search(r"header\.fs=-?0\.0\b", what) else base.fs  # a rate set to 0 reads as unknown
            if same and (float(z["fs"]) if "fs" in z.files else 0.0) != fs:
                return "wrong_fs", what
        return ("repaired" if lines else "exact") if same else "silent_loss", what
    if rc != EXIT_ERROR or len(lines) != 1 or not lines[0].startswith("hwcae: error:"):
        return "bad_stderr", what
    if not out.exists():
        return "refused", what
    if not partial:
        return "written_on_error", what
    with np.load(out) as z:
        got = _rows(z["indices"], z["times"], z["channels"])
    allowed = _rows(base.symbols, base.times, base.channels) + (donor_rows if donor else collections.Counter())
    return ("partial" if not got - allowed else "wrong_spikes"), what


OK = {"exact", "repaired", "refused", "partial"}


def test_decompress_fuzz(corpus, cli, tmp_path, monkeypatch):
    import hwcae.api

    monkeypatch.setattr(hwcae.api, "load_model", lambda path: corpus[0])  # the checkpoint is loaded once
    counts, failures, t0 = collections.Counter(), [], time.perf_counter()
    by_family = collections.defaultdict(collections.Counter)  # "chunks.drop", "header.n_spikes", ... -> outcomes
    for i in range(CASES):
        outcome, what = run_case(i, corpus, cli, tmp_path)
        counts[outcome] += 1
        for family in {re.sub(r"[0-9@=#].*", "", w) for w in what.split() if not w.startswith("--")}:
            by_family[family][outcome] += 1
        if outcome not in OK:
            failures.append(f"case {i}: {outcome}: {what}")
        for f in tmp_path.iterdir():
            f.unlink()
    summary = {"cases": CASES, "seed": SEED, "seconds": round(time.perf_counter() - t0, 1), "outcomes": dict(counts),
               "by_family": {k: dict(v) for k, v in sorted(by_family.items())}, "failures": failures}
    if os.environ.get("HWCAE_FUZZ_REPORT"):
        with open(os.environ["HWCAE_FUZZ_REPORT"], "w") as fh:
            json.dump(summary, fh, indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k not in ("failures", "by_family")}))
    assert not failures, "\n".join(failures[:20])
    assert counts["exact"] and counts["refused"] and counts["partial"], counts  # the fuzzer reaches every branch
