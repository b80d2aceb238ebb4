"""Shared helpers of the robustness tests: run the CLI in-process, check that a refusal is one line
on stderr with the error exit status and no traceback, and that no file was written or changed."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from hwcae.cli import EXIT_ERROR, main

ROOT = Path(__file__).resolve().parents[2]


def waveforms(n: int, *, peak: int = 24, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """n plausible 4-channel spikes in uV (trough of channel 0 at ``peak``), float32 (n, 4, 64)."""
    rng = np.random.default_rng(seed)
    t = np.arange(64)
    shape = -120.0 * np.exp(-0.5 * ((t - peak) / 2.0) ** 2) + 30.0 * np.exp(-0.5 * ((t - peak - 8) / 4.0) ** 2)
    amp = np.array([1.0, 0.6, 0.4, 0.3])[None, :, None] * rng.uniform(0.7, 1.3, (n, 1, 1))
    return (scale * (shape * amp + rng.normal(0, 4.0, (n, 4, 64)))).astype(np.float32)


def write_npz(path: Path, **arrays) -> Path:
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its content hash (to show nothing was written or changed)."""
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_refused(rc: int, err: str, *needles: str) -> str:
    """Exit status EXIT_ERROR, exactly one line on stderr (``hwcae: error: ...``), no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == EXIT_ERROR, (rc, err)
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("hwcae: error:"), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def cli(capsys):
    """cli(*argv) -> (exit status, stdout, stderr) of ``hwcae argv``, run in this process."""
    return lambda *argv: run_cli(capsys, *argv)


@pytest.fixture
def refused(cli):
    """refused(argv, *needles): the command is refused in one line naming every needle; returns the line."""
    def check(argv, *needles):
        rc, _, err = cli(*argv)
        return assert_refused(rc, err, *needles)
    return check


@pytest.fixture
def spikes_npz(tmp_path) -> Path:
    """40 aligned plausible spikes."""
    return write_npz(tmp_path / "spikes.npz", spikes=waveforms(40))
