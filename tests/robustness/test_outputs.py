"""One output rule for train, qat, eval, cost, compare and data (hwcae.fileio.check_outputs): an
existing output needs --force, an output is never an input, a folder, under a file or in an
unwritable place; a checkpoint's card never replaces the checkpoint; every refusal comes before
any work, in one line, with every file left as it was."""
from __future__ import annotations

import os

import pytest

from tests.robustness.conftest import ROOT, snapshot, waveforms, write_npz

QAT = ROOT / "models/qat-w8a8.pt"
FLOAT = ROOT / "models/float.pt"


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A folder with spikes, an existing output of each kind and a plain file to put things under."""
    monkeypatch.chdir(tmp_path)
    write_npz(tmp_path / "s.npz", spikes=waveforms(40))
    (tmp_path / "f.pt").write_bytes(FLOAT.read_bytes())  # inputs are copies: a failing rule cannot harm models/
    (tmp_path / "q.pt").write_bytes(QAT.read_bytes())
    for name in ("old.pt", "old.json", "old.png", "plain.txt"):
        (tmp_path / name).write_text(f"precious {name}\n")
    (tmp_path / "dir").mkdir()
    return tmp_path


def verbs(out):
    """The verbs, each writing ``out`` (a checkpoint for train/qat, a JSON file otherwise)."""
    return {
        "train": ["train", "--config", "tiny", "--data", "s.npz", "--val", "s.npz", "--out", out],
        "qat": ["qat", "--design", "w8a8", "--from", "f.pt", "--data", "s.npz", "--val", "s.npz", "--out", out],
        "eval": ["eval", "--data", "s.npz", "--json", out],
        "cost": ["cost", "--checkpoint", "q.pt", "--json", out],
        "compare": ["compare", "--data", "s.npz", "--float", "f.pt", "--qat", "q.pt", "--json", out],
        "data-synth": ["data", "synth", "--preset", "tiny", "--out", out],
    }


CASES = [  # (output, extra arguments, words of the error)
    ("{old}", [], "exists; pass --force"),
    ("dir", [], "is a folder"),
    ("dir", ["--force"], "is a folder"),
    ("plain.txt/x.{ext}", [], "plain.txt is a file, not a folder"),
    ("plain.txt/a/b/x.{ext}", ["--force"], "plain.txt is a file, not a folder"),
    ("{input}", ["--force"], "is also an input"),
    ("/proc/hwcae-test.{ext}", [], "is not writable"),
]
INPUT = {"train": "s.npz", "qat": "f.pt", "eval": "s.npz", "cost": "q.pt", "compare": "q.pt"}
ALL = [(verb, *case) for verb in verbs("x") for case in CASES if verb in INPUT or case[0] != "{input}"]


@pytest.mark.parametrize("verb, out, extra, words", ALL, ids=[f"{v}:{o}{''.join(e)}" for v, o, e, _ in ALL])
def test_output_rule(verb, out, extra, words, work, refused):
    ext = "pt" if verb in ("train", "qat") else "npz" if verb == "data-synth" else "json"
    out = out.format(old="old.json" if ext == "json" else "old.pt", ext=ext, input=INPUT.get(verb))
    before = snapshot(work)
    refused([*verbs(out)[verb], *extra], words)
    assert snapshot(work) == before


@pytest.mark.parametrize("verb", ["train", "qat", "eval", "cost", "compare", "data-synth"])
def test_read_only_output_is_kept_even_with_force(verb, work, refused):
    target = work / "ro.out"
    target.write_text("keep me\n")
    os.chmod(target, 0o444)
    refused([*verbs("ro.out")[verb], "--force"], "read-only")
    assert target.read_text() == "keep me\n"


@pytest.mark.parametrize("verb", ["train", "qat"])
def test_a_checkpoint_card_never_replaces_the_checkpoint(verb, work, refused):
    (work / "X.pt").write_text("checkpoint\n")
    before = snapshot(work)
    refused(verbs("X.json")[verb], "cannot be named .json")
    refused(verbs("old.pt")[verb], "old.pt exists")
    (work / "new.json").write_text("a card from elsewhere\n")
    refused(verbs("new.pt")[verb], "new.json exists")  # the card would be overwritten
    assert snapshot(work) == before | {p: h for p, h in snapshot(work).items() if p.name == "new.json"}


def test_qat_default_outputs_are_not_overwritten(work, refused):
    (work / "models").mkdir()
    (work / "models/qat-w8a8.pt").write_text("earlier run\n")
    refused(["qat", "--design", "w8a8", "--from", "f.pt", "--data", "s.npz", "--val", "s.npz"], "qat-w8a8.pt exists")
    assert (work / "models/qat-w8a8.pt").read_text() == "earlier run\n"


def test_qat_out_is_never_its_float_input(work, refused):
    float_copy = work / "f.pt"
    refused(["qat", "--design", "w8a8", "--from", float_copy, "--data", "s.npz", "--val", "s.npz", "--out", float_copy,
             "--force"], "is also an input")
    assert float_copy.read_bytes() == FLOAT.read_bytes()


def test_train_out_dir_leaves_no_resume(work, refused):
    refused(verbs("dir")["train"], "is a folder")
    assert not (work / "dir.resume").exists() and list((work / "dir").iterdir()) == []


def test_train_keeps_an_interrupted_run_without_resume_or_force(work, refused):
    (work / "m.pt.resume").write_text("state\n")
    refused(verbs("m.pt")["train"], "interrupted run", "--resume")
    assert (work / "m.pt.resume").read_text() == "state\n"


def test_compare_png_beside_the_json(work, refused):
    refused(verbs("old.png")["compare"], "give a .json name")  # the plot would replace the JSON itself
    refused(verbs("old.json")["compare"], "old.json exists")
    (work / "fresh.png").write_text("a plot\n")
    refused(verbs("fresh.json")["compare"], "fresh.png exists")
    assert (work / "fresh.png").read_text() == "a plot\n" and not (work / "fresh.json").exists()


def test_cost_all_out_rules(work, refused):
    refused(["cost", "--all", "--out", "plain.txt"], "is a file")
    (work / "rep").mkdir()
    (work / "rep/summary.json").write_text("[]\n")
    refused(["cost", "--all", "--out", "rep"], "summary.json exists")
    assert (work / "rep/summary.json").read_text() == "[]\n"


@pytest.mark.parametrize("name", ["w8a8-65nm.png", "hw-tiny-28nm.md", "w16a16-180nm.csv"])
def test_cost_all_refuses_to_replace_any_report(name, work, refused):
    """--all used to check summary.json only and overwrote each <design>-<node> report without --force."""
    (work / "rep").mkdir()
    (work / "rep" / name).write_text("my edited report\n")
    before = snapshot(work)
    refused(["cost", "--all", "--out", "rep"], name, "exists; pass --force")
    assert snapshot(work) == before


def test_cost_all_checks_the_files_it_writes():
    """all_outputs names what write_report will write: each default design's name and each node's."""
    import json
    from pathlib import Path

    from hwcae.cli.cost import all_outputs, cost_designs
    from hwcae.cost.report import report_paths
    from hwcae.cost.tech import TECH_DIR, load_tech

    assert cost_designs()[-1] == "paper-w8a8"  # the seed's design point beside the defaults
    written = [p for d in cost_designs() for n in sorted(TECH_DIR.glob("*.yaml"))
               for p in report_paths("rep", json.loads((ROOT / f"models/qat-{d}.json").read_text())["design"]["name"],
                                     load_tech(n.stem).node)]
    assert all_outputs("rep") == [*written, Path("rep/summary.json")] and len(written) >= 15


def test_data_mat_never_writes_onto_its_input(work, refused):
    refused(["data", "mat", "s.npz", "--out", "s.npz", "--force"], "is also an input")


def test_force_replaces_an_existing_output(work, cli):
    rc, _, _ = cli(*verbs("old.json")["cost"], "--force")
    assert rc == 0 and (work / "old.json").read_text().startswith("{")
