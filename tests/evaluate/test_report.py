"""The report on tiny models: every number in report.json, every figure on the page, and the page
opened in headless Chromium with every image loaded (skipped only outside CI when Chromium is absent)."""
import html
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from hwcae.baselines.cs import CSCodec, wavelet_synthesis
from hwcae.spikes.warp import shift, stretch
from hwcae.evaluate.sorting import matched_accuracy

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(tiny_npz, tiny_checkpoint, tiny_qat, tmp_path_factory):
    from hwcae.evaluate.report import Inputs, build

    out = tmp_path_factory.mktemp("report")
    inp = Inputs(data=[str(tiny_npz)], float_checkpoint=str(tiny_checkpoint), rd_checkpoints=[],
                 qat_checkpoints=[str(tiny_qat)], default_design=str(tiny_qat), quick=True, progress=False,
                 seed_pairs={"tiny": (str(tiny_checkpoint), str(tiny_qat)), "absent": ("no.pt", "no-qat.pt")},
                 seed_rd_checkpoints=[str(tiny_checkpoint)])  # stands in for the seed's shape's rate points
    return build(inp, out), out


def test_report_json_holds_what_the_page_shows(report):
    r, out = report
    saved = json.loads((out / "report.json").read_text())
    d = next(iter(saved["data"].values()))
    assert {"rd", "robustness", "sorting", "float_vs_fixed", "codebook_counts", "statements"} <= set(d)
    assert {p["kind"] for p in d["rd"]["cae"]} == {"float", "qat"}
    assert len(d["rd"]["pca"]) == len(d["rd"]["cs"]) == 1  # one float CAE rate -> one baseline point each
    assert d["robustness"]["shift_samples"]["x"][0] == -8 and len(d["robustness"]["shift_samples"]["CAE"]) == 9
    assert 0 < d["sorting"]["original_accuracy"] <= 1
    page = (out / "index.html").read_text()
    for name in saved["figures"].values():
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f'src="{name}"' in page
    for s in d["statements"]:
        assert html.escape(s) in page
    # the seed's-model table: each existing checkpoint (absent ones skipped), then PCA at the same bits
    assert [(x["model"], x["kind"]) for x in d["seed_arch"]] == [("tiny", "float"), ("tiny", "QAT tiny-w8a8"),
                                                                  ("PCA (8 x 8 bit)", "fitted on the first half")]
    assert d["seed_arch"][-1]["bits_per_spike"] <= d["seed_arch"][0]["bits_per_spike"]  # the tiny CAE's 64 bits
    assert all(np.isfinite(x["sndr_db"]) and np.isfinite(x["sndr_channel_db"]) for x in d["seed_arch"])
    assert [c["design"] for c in saved["seed_arch_cost"]] == ["tiny-w8a8"] and "<h2>The seed's own model</h2>" in page
    # the seed's shape's sweep: its points scored against the main sweep's PCA at the same bits, in a line
    seed = d["rd_seed"]
    assert "pca" not in seed and [p["name"] for p in seed["cae"]] == ["tiny"]
    same = next(p for p in d["rd"]["cae"] if p["kind"] == "float")
    assert seed["cae"][0]["sndr_db_mean"] == pytest.approx(same["sndr_db_mean"])  # the same checkpoint twice
    assert seed["margins"][0]["pca"] == pytest.approx(same["sndr_db_mean"] - d["rd"]["pca"][0]["sndr_db_mean"])
    assert any(s.startswith("The seed's shape (paper) vs PCA at the same bits: CR 64 ") for s in d["statements"])
    assert "seed&#x27;s shape tiny" in page or "seed's shape tiny" in page


def test_page_opens_in_headless_chromium(report, tmp_path):
    _, out = report
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (see .ci/run and the Makefile's test target)")
        pytest.skip("chromium not installed (make test installs it where apt-get is available)")
    url = (out / "index.html").as_uri()
    dom = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'a'}", "--virtual-time-budget=5000",
                          "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    n_img = dom.count("<img ")
    assert n_img >= 5 and f"images loaded: {n_img}/{n_img}" in dom, dom[-400:]
    shot = out / "screenshot.png"
    subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'b'}", "--window-size=1280,3000",
                    f"--screenshot={shot}", url], capture_output=True, timeout=120)
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 20_000


def test_cs_wavelet_basis_and_exact_recovery_of_sparse_signals():
    w = wavelet_synthesis()
    np.testing.assert_allclose(w @ w.T, np.eye(64), atol=1e-9)
    rng = np.random.default_rng(0)
    codec = CSCodec(m=96, coef_bits=16, sparsity=4)
    s = np.zeros((20, 256))
    for row in s:
        row[rng.choice(256, 4, replace=False)] = rng.normal(0, 50, 4)
    codec.fit(np.zeros((2, 4, 64)))  # builds the basis
    x = (s @ codec.psi.T).reshape(20, 4, 64).astype(np.float32)
    codec.fit(x)  # the measurement quantiser's range
    err = np.abs(codec.roundtrip(x) - x).max() / np.abs(x).max()
    assert err < 0.01, err  # 4-sparse in the basis, 96 measurements of 16 bits: recovered


def test_perturbations_and_matching():
    x = np.arange(64, dtype=np.float32)[None, None, :]
    assert shift(x, 3)[0, 0, 10] == 7 and shift(x, -3)[0, 0, 10] == 13 and shift(x, 3)[0, 0, 0] == 0
    np.testing.assert_allclose(stretch(x, 1.0), x)
    assert stretch(x, 2.0)[0, 0, 24 + 10] == pytest.approx(24 + 5)  # twice as wide around the peak sample
    assert matched_accuracy(np.array([0, 0, 1, 1, 2]), np.array([5, 5, 7, 7, 7])) == pytest.approx(0.8)


def test_verdicts_compare_each_cae_point_with_the_baseline_at_the_nearest_rate():
    from hwcae.evaluate.rd import verdicts

    cae = [{"name": "a", "kind": "float", "cr_fixed": 28.4, "sndr_db_mean": 20.0},
           {"name": "b", "kind": "float", "cr_fixed": 36.6, "sndr_db_mean": 19.0},
           {"name": "q", "kind": "qat", "cr_fixed": 36.6, "sndr_db_mean": 18.0}]
    pca = [{"cr_fixed": 36.6, "sndr_db_mean": 17.5}, {"cr_fixed": 28.4, "sndr_db_mean": 18.5},
           {"cr_fixed": 585.0, "sndr_db_mean": 8.0}]
    rows = verdicts({"cae": cae, "pca": pca, "dwt": [], "cs": []})
    assert [r["cae"] for r in rows] == ["a", "b"]  # float points only
    assert rows[0]["pca"] == pytest.approx(1.5) and rows[1]["pca"] == pytest.approx(1.5)  # not 20.0 - 17.5
    assert rows[0]["dwt"] is None


def test_statements_name_the_rates_won_and_lost():
    from hwcae.evaluate.report import _statements

    cae = [{"name": "a", "kind": "float", "cr_fixed": 28.4, "sndr_db_mean": 20.0},
           {"name": "b", "kind": "float", "cr_fixed": 36.6, "sndr_db_mean": 19.0}]
    rd = {"cae": cae, "pca": [{"cr_fixed": 28.4, "sndr_db_mean": 18.5}, {"cr_fixed": 36.6, "sndr_db_mean": 17.5}],
          "dwt": [{"cr_fixed": 28.4, "sndr_db_mean": 21.0}, {"cr_fixed": 36.6, "sndr_db_mean": 8.0}], "cs": []}
    lines = _statements(rd, None)
    assert lines[0] == "CAE vs PCA: better at every rate compared: CR 28 (+1.5 dB), CR 37 (+1.5 dB)."
    assert lines[1] == "CAE vs DWT: better at CR 37 (+11.0 dB); not better at CR 28 (-1.0 dB)."
    assert "does not hold (margins +1.5 dB)" in lines[2]
