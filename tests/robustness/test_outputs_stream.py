"""The output rule (hwcae.fileio.check_outputs) for compress, decompress (.npz and .nwb), adapt and
report: an existing output needs --force, an output is never an input (``compress X.npz X.npz
--force`` used to replace its own input), never a folder, under a file or in an unwritable place;
each refusal comes before any work, in one line, with every file as it was. A compress killed by
SIGTERM leaves neither its output nor a temporary file."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.robustness.conftest import ROOT, snapshot, waveforms, write_npz
from tests.robustness.test_recordings import FS, recording

QAT = ROOT / "models/qat-w8a8.pt"


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_npz(tmp_path / "s.npz", spikes=waveforms(40))
    recording(FS // 2).tofile(tmp_path / "rec.bin")
    (tmp_path / "f.pt").write_bytes((ROOT / "models/float.pt").read_bytes())
    (tmp_path / "x.hwc").write_bytes(b"HWC1 not really")
    for name in ("old.hwc", "old.npz", "old.nwb", "old.pt", "old.json", "plain.txt"):
        (tmp_path / name).write_text(f"precious {name}\n")
    (tmp_path / "dir").mkdir()
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep/report.json").write_text("{}\n")
    return tmp_path


RAW = ["--fs", str(FS), "--channels", "4"]


def verbs(out: str) -> dict:
    return {"compress": ["compress", "s.npz", out, "--checkpoint", "f.pt"],
            "compress-rec": ["compress", "rec.bin", out, "--checkpoint", QAT, *RAW],
            "decompress": ["decompress", "x.hwc", "--checkpoint", "f.pt", "--out", out],
            "decompress-nwb": ["decompress", "x.hwc", "--checkpoint", "f.pt", "--out", out, "--format", "nwb", "--fs", "3e4"],
            "adapt": ["adapt", "s.npz", "--from", "f.pt", "--out", out],
            "report": ["report", "--data", "s.npz", "--checkpoint", "f.pt", "--out", out]}


OLD = {"compress": "old.hwc", "compress-rec": "old.hwc", "decompress": "old.npz", "decompress-nwb": "old.nwb",
       "adapt": "old.pt", "report": "rep"}
INPUT = {"compress": "s.npz", "compress-rec": "rec.bin", "decompress": "x.hwc", "decompress-nwb": "x.hwc", "adapt": "f.pt",
         "report": None}
CASES = [  # (output, extra arguments, words of the error)
    ("{old}", [], "exists; pass --force"),
    ("{input}", ["--force"], "is also an input"),
    ("dir", [], "is a folder"),
    ("plain.txt/x.out", [], "plain.txt is a file, not a folder"),
    ("plain.txt/a/b/x.out", ["--force"], "plain.txt is a file, not a folder"),
    ("/proc/hwcae-test.out", [], "is not writable"),
]
ALL = [(verb, *case) for verb in OLD for case in CASES
       if not (case[0] == "{input}" and INPUT[verb] is None) and not (verb == "report" and case[0] == "dir")]


@pytest.mark.parametrize("verb, out, extra, words", ALL, ids=[f"{v}:{o}{''.join(e)}" for v, o, e, _ in ALL])
def test_output_rule(verb, out, extra, words, work, refused):
    out = out.format(old=OLD[verb], input=INPUT[verb])
    before = snapshot(work)
    refused([*verbs(out)[verb], *extra], words)
    assert snapshot(work) == before


@pytest.mark.parametrize("verb", sorted(OLD))
def test_read_only_output_is_kept_even_with_force(verb, work, refused):
    target = work / ("ro" if verb == "report" else "ro.out")
    if verb == "report":
        target.mkdir()
        (target / "index.html").write_text("keep me\n")
        os.chmod(target / "index.html", 0o444)
    else:
        target.write_text("keep me\n")
        os.chmod(target, 0o444)
    refused([*verbs(target.name)[verb], "--force"], "read-only")
    assert (target / "index.html" if verb == "report" else target).read_text() == "keep me\n"


def test_adapt_card_is_never_the_checkpoint_or_an_existing_file(work, refused):
    refused(verbs("new.json")["adapt"], "cannot be named .json")
    (work / "new.json").write_text("a card from elsewhere\n")
    refused(verbs("new.pt")["adapt"], "new.json exists")
    assert (work / "new.json").read_text() == "a card from elsewhere\n" and not (work / "new.pt").exists()


def test_compress_never_replaces_its_own_input(work, refused):
    before = (work / "s.npz").read_bytes()
    refused(["compress", "s.npz", "s.npz", "--checkpoint", "f.pt", "--force"], "is also an input")
    refused(["compress", "s.npz", "f.pt", "--checkpoint", "f.pt", "--force"], "is also an input")
    refused(["compress", "s.npz", "o.hwc", "--checkpoint", "f.pt", "--json", "s.npz", "--force"], "is also an input")
    assert (work / "s.npz").read_bytes() == before


def test_force_replaces_an_existing_compress_output(work, cli):
    rc, _, err = cli(*verbs("old.hwc")["compress"], "--force")
    assert rc == 0, err
    assert (work / "old.hwc").read_bytes()[:4] == b"HWC1"


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.startswith("out"))


def test_sigterm_during_compress_leaves_nothing(work, cli, monkeypatch):
    """In this process: SIGTERM arrives while the second chunk is encoded; the run unwinds like Ctrl-C."""
    import hwcae.stream.compress as sc

    real, calls = sc.encode_chunk, []

    def encode_then_term(*a):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*a)

    monkeypatch.setattr(sc, "encode_chunk", encode_then_term)
    handler = signal.getsignal(signal.SIGTERM)
    rc, _, err = cli("compress", "rec.bin", "out.hwc", "--checkpoint", QAT, *RAW, "--chunk-s", "0.1")
    assert rc == 130 and "hwcae: interrupted" in err and "Traceback" not in err, err
    assert _leftovers(work) == [] and len(calls) == 2
    assert signal.getsignal(signal.SIGTERM) is handler  # the verb put the old handler back


def test_sigterm_from_outside_leaves_no_temporary_file(work):
    """A real process killed by SIGTERM (as a job scheduler does) while it writes its output."""
    code = ("import time, hwcae.stream.compress as sc; real = sc.encode_chunk\n"
            "sc.encode_chunk = lambda *a: (time.sleep(0.5), real(*a))[1]\n"
            "from hwcae.cli import main; raise SystemExit(main(%r))"
            % ["compress", "rec.bin", "out.hwc", "--checkpoint", str(QAT), *RAW, "--chunk-s", "0.05"])
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".out.") for p in work.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.splitlines()[-1] == "hwcae: interrupted" and "Traceback" not in err, err
    assert _leftovers(work) == []
    assert np.fromfile(work / "rec.bin", "<i2").size == FS // 2 * 4  # the input is untouched
