"""The external suite's protocol and CLI on a tiny stand-in suite (the real sets: make eval)."""
import json

import numpy as np
import pytest

import hwcae.evaluate.suite as suite_mod
import hwcae.spikes.scene as scene_mod
from hwcae.cli import main
from hwcae.spikes.scene import Suite, scene


@pytest.fixture
def tiny_suite(monkeypatch, tmp_path):
    """Two short sets in place of suite.yaml's (same code path, seconds instead of minutes)."""
    base = scene("tiny").model_dump()
    sets = {"a": {**base, "seeds": (7100, 7102)},
            "b": {**base, "seeds": (7200, 7202), "noise_uv": (12.0, 14.0), "probe": ["tetrode"], "channels": [4]}}
    s = Suite(val_offset=50000, sets=sets)
    monkeypatch.setattr(scene_mod, "suite", lambda: s)
    monkeypatch.setattr(suite_mod, "suite", lambda: s)
    monkeypatch.setenv("HWCAE_CACHE", str(tmp_path / "cache"))
    return s


def test_suite_scores_each_set_on_its_second_half(tiny_suite, tiny_checkpoint):
    from hwcae.evaluate.equal_rate import pca_at_rate
    from hwcae.evaluate.table import baseline_rows, cae_row
    from hwcae.model.checkpoint import load_checkpoint
    from hwcae.spikes.synth import suite_set

    p = load_checkpoint(tiny_checkpoint)
    r = suite_mod.run_suite({"m": p}, split="val", progress=False)
    assert list(r) == ["a", "b"]
    for name in r:  # the same numbers as the table's protocol run by hand on that set
        data = suite_set(name, "val", progress=False)
        fit, score = data.halves()
        assert r[name]["scored_spikes"] == len(score)
        assert r[name]["cae"]["m"]["sndr_clean_db_mean"] == pytest.approx(cae_row(p, score)["sndr_clean_db_mean"])
        pca = baseline_rows(fit, score, r[name]["cae"]["m"]["bits_per_spike"])["pca"]
        assert r[name]["baselines"]["pca"]["sndr_clean_db_mean"] == pytest.approx(pca["sndr_clean_db_mean"])
        e = r[name]["cae"]["m"]["equal_rate"]  # PCA at the model's real .hwc bits, as hwcae eval reads it
        assert e["pca_fixed_db"] == pytest.approx(pca_at_rate(fit, score, 4096 / r[name]["cae"]["m"]["cr_bytes"])["pca_fixed_db"],
                                                  nan_ok=True)
    m = suite_mod.margins(r, "m")
    assert set(m) == {"a", "b"} and all(np.isfinite(list(m.values())))


def test_val_and_final_seeds_differ(tiny_suite):
    from hwcae.spikes.synth import suite_set

    a, b = suite_set("a", "final", progress=False), suite_set("a", "val", progress=False)
    assert len(a) != len(b) or not np.array_equal(a.spikes[:10], b.spikes[:10])


def test_eval_suite_cli_with_rd_margins(tiny_suite, tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "suite.json"
    assert main(["eval", "--suite", "--split", "val", "--sets", "b", "--checkpoint", str(tiny_checkpoint),
                 "--rd", str(tiny_checkpoint), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "external suite, val seeds (1 sets)" in text and "smallest margin" in text
    r = json.loads(out.read_text())
    e = next(iter(r["sets"]["b"]["cae"].values()))["equal_rate"]
    assert f"{e['cae_db'] - e['pca_fixed_db']:+.2f} / {e['cae_db'] - e['pca_coded_db']:+.2f}" in text  # the real-rate block
    assert list(r["sets"]) == ["b"] and r["sets"]["b"]["rd"]["margins"]
    assert main(["eval", "--suite", "--sets", "nope", "--checkpoint", str(tiny_checkpoint)]) == 2
    assert main(["eval", "--suite"]) == 2  # needs a checkpoint
    assert main(["eval", "--rd", str(tiny_checkpoint)]) == 2  # --rd belongs to --suite


def test_data_specs_join_with_plus(tiny_suite):
    from hwcae.spikes.sources import load_data

    a, _ = load_data("suite-val:a")
    b, _ = load_data("suite-val:b")
    ab, desc = load_data("suite-val:a+suite-val:b")
    assert len(ab) == len(a) + len(b) and len(desc["parts"]) == 2
