"""hwcae explore on a tiny space (tiny dense encoders, the tiny built-in set): end to end, resume,
a Dask LocalCluster, export -> hwcae qat -> the RTL simulation (Verilator) of the exported design,
failures recorded per trial, bad spaces as one line."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hwcae.cli import main

TINY = {
    "name": "tiny-study", "seed": 3, "population": 2,
    "data": {"train": "synth:tiny", "train_spikes": 300, "val": "synth:tiny", "val_spikes": 120, "check_spikes": 40,
             "quality": ["synth:tiny"], "quality_spikes": 100},
    "recipe": {"float_epochs": 1, "qat_epochs": 0, "min_sndr_db": -50.0},
    "architecture": {"base": "tiny-dense", "depth": [1], "width": [4, 8], "positions": [8], "latent_dim": [2],
                     "codebook_size": [8, 16]},
    "bits": {"input": [10, 12], "weights": [4, 6], "activations": [6, 8], "latent": [8], "codebook": [8]},
    "hardware": {"lanes": [2, 4], "clock_mhz": [20.0], "node": ["65nm", "28nm"]},
    "committed": {"designs": []},
}


def _space(tmp_path, **over) -> Path:
    d = json.loads(json.dumps(TINY))
    for k, v in over.items():
        d[k] = {**d[k], **v} if isinstance(v, dict) else v
    p = tmp_path / "space.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def _front(out: Path) -> list:
    data = json.loads((out / "front.json").read_text())
    return [(r["id"], round(r["sndr_db"], 6), round(r["uw_per_channel"], 6), round(r["area_mm2"], 8)) for r in data["front"]]


def _params(out: Path) -> list:
    rows = json.loads((out / "front.json").read_text())["trials"]
    return [(r["id"], r["encoder"], r["bits"], r["lanes"], r["node"], round(r["sndr_db"] or 0, 6)) for r in rows]


def test_end_to_end_and_resume_gives_the_same_front(tmp_path, capsys):
    space = _space(tmp_path)
    a, b = tmp_path / "straight", tmp_path / "resumed"
    assert main(["explore", "--space", str(space), "--trials", "5", "--out", str(a), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "Pareto front of tiny-study" in text and "| id | sndr_db" in text
    for f in ("front.csv", "front.md", "front.png", "front.json", "trials.csv", "study.journal", "space.yaml"):
        assert (a / f).is_file(), f
    data = json.loads((a / "front.json").read_text())
    assert len(data["trials"]) == 5 and data["front"] and all(r["feasible"] for r in data["front"])
    assert main(["explore", "--space", str(space), "--trials", "3", "--out", str(b), "--no-progress"]) == 0
    assert main(["explore", "--trials", "5", "--out", str(b), "--no-progress"]) == 0  # the space from OUT
    assert _params(a) == _params(b) and _front(a) == _front(b)
    # the HTML report's section reads the front as data (reports/explore/front.json)
    from hwcae.evaluate.report_html import _explore, explore_summary

    shutil.copytree(a, tmp_path / "rep" / "explore")
    section = _explore(explore_summary(tmp_path / "rep"))
    assert "Design-space search" in section and 'src="explore/front.png"' in section and "tiny-study" in section
    assert explore_summary(tmp_path / "nothing") is None and _explore(None) == ""
    # an exported front point round-trips through hwcae qat and the RTL simulation of its encoder
    best = data["front"][0]["id"]
    q, m = tmp_path / "q", tmp_path / "m"
    assert main(["explore", "--out", str(a), "--export", str(best), "--design-dir", str(q), "--models-dir", str(m)]) == 0
    design = q / f"tiny-study-{best}.yaml"
    arch = yaml.safe_load(design.read_text())["arch"]
    assert (m / f"float-{arch}.pt").is_file() and (m / f"float-{arch}.arch.yaml").is_file()
    assert main(["explore", "--out", str(a), "--export", str(best), "--design-dir", str(q), "--models-dir", str(m)]) == 2
    from hwcae.spikes.spikeset import save_spikes
    from hwcae.spikes.sources import load_data

    tiny = load_data("synth:tiny")[0]
    save_spikes(tiny.subset(slice(0, 200)), tmp_path / "d.npz")
    qat = tmp_path / "qat.pt"
    assert main(["qat", "--design", str(design), "--from", str(m / f"float-{arch}.pt"), "--data", str(tmp_path / "d.npz"),
                 "--val", str(tmp_path / "d.npz"), "--out", str(qat)]) == 0
    if shutil.which("verilator"):
        from hwcae.api import build_rtl

        rep = build_rtl(qat, tiny.spikes[:50], out=tmp_path / "rtl", synth=False, progress=lambda *_: None)
        assert rep["rtl_vs_reference"]["spikes_all_exact"] == 1.0


def test_failures_are_recorded_not_fatal(tmp_path, capsys):
    # every QAT'd design falls short of an impossible SNDR floor: each trial fails with its reason
    space = _space(tmp_path, recipe={"min_sndr_db": 99.0})
    assert main(["explore", "--space", str(space), "--trials", "2", "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    rows = json.loads((tmp_path / "o" / "front.json").read_text())["trials"]
    assert [r["state"] for r in rows] == ["FAIL", "FAIL"] and all("did not converge" in r["reason"] for r in rows)
    assert "ran 2 trials (2 failed: did not converge" in capsys.readouterr().out
    code = main(["explore", "--out", str(tmp_path / "o"), "--export", "0"])
    assert code == 2 and "has no design to export (did not converge" in capsys.readouterr().err


def test_interrupted_trial_is_queued_again(tmp_path):
    """A trial killed mid-way is failed as interrupted on the next run and its candidate retried."""
    space, out = _space(tmp_path), tmp_path / "o"
    code = ("import sys, hwcae.explore.trial as t\n"
            "def boom(*a, **k): raise KeyboardInterrupt\n"
            "t.run_trial = boom\nfrom hwcae.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    run = subprocess.run([sys.executable, "-c", code, "explore", "--space", str(space), "--trials", "2", "--out", str(out),
                          "--no-progress"], capture_output=True, text=True)
    assert run.returncode == 130, run.stderr[-2000:]
    assert main(["explore", "--space", str(space), "--trials", "2", "--out", str(out), "--no-progress"]) == 0
    rows = json.loads((out / "front.json").read_text())["trials"]
    assert rows[0]["reason"] == "interrupted" and rows[1]["encoder"] == rows[0]["encoder"]
    assert rows[1]["bits"] == rows[0]["bits"] and sum(r["state"] == "COMPLETE" for r in rows) == 2


def test_local_joblib_processes(tmp_path):
    space, out = _space(tmp_path), tmp_path / "o"
    assert main(["explore", "--space", str(space), "--trials", "3", "--jobs", "2", "--out", str(out), "--no-progress"]) == 0
    rows = json.loads((out / "front.json").read_text())["trials"]
    assert [r["state"] for r in rows] == ["COMPLETE"] * 3
    # trials ran in worker processes, not here (which and how many depends on timing and on loky
    # replacing a worker: one can take all three, or a fresh one the third)
    workers = {str(r["worker"]).rsplit(":", 1)[-1] for r in rows}
    assert workers and str(os.getpid()) not in workers, workers


@pytest.mark.timeout(300)
def test_trials_on_a_dask_local_cluster(tmp_path):
    from distributed import LocalCluster

    from hwcae.explore.study import run_study

    space = _space(tmp_path)
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        res = run_study(str(space), 3, out=tmp_path / "o", scheduler="dask", dask_address=cluster.scheduler_address,
                        progress=False)
    assert len(res) == 3 and {r["number"] for r in res} == {0, 1, 2}
    assert all(r["state"] == "COMPLETE" for r in res), res


@pytest.mark.parametrize("edit, message", [
    ({"bits": {"weights": [1]}}, "bit widths must be 2..24"),
    ({"data": {"quality": ["suite:noise-low"]}}, "the final suite is never searched on"),
    ({"architecture": {"width": {"low": 8, "high": 4}}}, "low 8 is above high 4"),
    ({"hardware": {"node": ["7nm"]}}, "7nm"),
    ({"bogus": 1}, "bogus"),
])
def test_a_bad_space_is_one_line(tmp_path, capsys, edit, message):
    d = json.loads(json.dumps(TINY))
    for k, v in edit.items():
        d[k] = {**d.get(k, {}), **v} if isinstance(v, dict) else v
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    assert main(["explore", "--space", str(tmp_path / "s.yaml"), "--trials", "1", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hwcae: error:") and message in err, err


def test_sqlite_storage_is_shared_by_runs(tmp_path):
    space, url = _space(tmp_path), f"sqlite:///{tmp_path / 'study.db'}"
    for n in (1, 2):
        assert main(["explore", "--space", str(space), "--trials", str(n), "--storage", url, "--out", str(tmp_path / "o"),
                     "--no-progress"]) == 0
    assert len(json.loads((tmp_path / "o" / "front.json").read_text())["trials"]) == 2
    assert not (tmp_path / "o" / "study.journal").exists()


def test_pareto_and_where_a_committed_design_lies():
    from hwcae.explore.front import pareto, place

    def r(i, db, uw, mm2, ok=True):
        return {"id": i, "sndr_db": db, "uw_per_channel": uw, "area_mm2": mm2, "feasible": ok}

    rows = [r(0, 20, 3, 2), r(1, 19, 2, 2), r(2, 18, 3, 3), r(3, 25, 1, 1, ok=False), r(4, 20, 3, 2)]
    front = pareto(rows)
    assert [f["id"] for f in front] == [0, 1]  # 2 dominated, 3 infeasible, 4 a duplicate of 0
    assert place(r("x", 17, 4, 4), front).startswith("dominated by trial 0: +3.00 dB at 0.75x")
    text = place(r("y", 21, 4, 4), front)
    assert text.startswith("on the front") and "the best trial costing no more, 0, is -1.00 dB" in text


def test_committed_points_are_rescored_when_a_checkpoint_changes(tmp_path, monkeypatch):
    """The committed designs' scores are cached per space; re-deriving a checkpoint must not leave
    the old scores in the cache (the key holds the checkpoints' bytes)."""
    import hwcae.explore.front as front
    import hwcae.explore.trial as trial
    import hwcae.model.checkpoint as checkpoint
    from hwcae.explore.space import load_space

    ckpt = tmp_path / "qat-w8a8.pt"
    ckpt.write_bytes(b"first")
    scored = []
    monkeypatch.setattr(front, "qat_checkpoint", lambda d: str(ckpt))
    monkeypatch.setattr(trial, "cost", lambda space, path, hw: {"uw_per_channel": 1.0})
    monkeypatch.setattr(checkpoint, "load_checkpoint", lambda path, kind: Path(path).read_bytes())
    monkeypatch.setattr(trial, "quality", lambda space, model: scored.append(model) or {"s": {"sndr_db": len(scored), "pca_db": 0.0}})
    space = load_space(_space(tmp_path, committed={"designs": ["w8a8"]}))
    out = tmp_path / "out"
    out.mkdir()
    assert front.committed_points(space, out)[0]["sndr_db"] == 1
    assert front.committed_points(space, out)[0]["sndr_db"] == 1 and scored == [b"first"]  # cached
    ckpt.write_bytes(b"second")
    assert front.committed_points(space, out)[0]["sndr_db"] == 2 and scored == [b"first", b"second"]


def test_committed_points_are_rescored_when_an_rtl_build_appears(tmp_path, monkeypatch):
    """The cost uses an RTL build's measured gates where one exists, else the estimate: a build made
    (or removed) after the cache was written must not leave the other figure in it."""
    import hwcae.explore.front as front
    import hwcae.explore.trial as trial
    import hwcae.model.checkpoint as checkpoint
    from hwcae.explore.space import load_space

    ckpt = tmp_path / "qat-w8a8.pt"
    ckpt.write_bytes(b"weights")
    costed = []
    monkeypatch.setattr(front, "qat_checkpoint", lambda d: str(ckpt))
    monkeypatch.chdir(tmp_path)  # the builds are looked for under hls/build, relative to the project root
    monkeypatch.setattr(trial, "cost", lambda space, path, hw: costed.append(path) or {"uw_per_channel": float(len(costed))})
    monkeypatch.setattr(checkpoint, "load_checkpoint", lambda path, kind: None)
    monkeypatch.setattr(trial, "quality", lambda space, model: {"s": {"sndr_db": 1.0, "pca_db": 0.0}})
    space = load_space(_space(tmp_path, committed={"designs": ["w8a8"]}))
    out = tmp_path / "out"
    out.mkdir()
    assert front.committed_points(space, out)[0]["uw_per_channel"] == 1
    assert front.committed_points(space, out)[0]["uw_per_channel"] == 1  # cached
    (tmp_path / "hls" / "build" / "w8a8" / "rtl").mkdir(parents=True)
    (tmp_path / "hls" / "build" / "w8a8" / "rtl" / "synth.json").write_text("{}")
    assert front.committed_points(space, out)[0]["uw_per_channel"] == 2
