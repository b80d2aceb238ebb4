"""PCA at a CAE's real rate: the nested curve equals PCA fitted at each k, the coded rate is a real
cross-entropy (never below the scored codes' own entropy), and hwcae eval reports both readings."""
import json
import math

import numpy as np
import pytest

from hwcae.baselines.pca import PCACodec
from hwcae.evaluate.equal_rate import pca_at_rate, pca_curve
from hwcae.evaluate.table import _entropy_columns
from hwcae.metrics import mean_db, sndr_db


def test_curve_is_pca_fitted_at_each_k(tiny_set):
    fit, score = tiny_set.halves()
    curve = pca_curve(fit, score, 8 * 6)
    for k in (1, 3, 6):
        rec = PCACodec(k).fit(fit.spikes).roundtrip(score.spikes)
        assert curve["sndr_db"][k - 1] == pytest.approx(mean_db(sndr_db(score.clean, rec)), abs=1e-6)
        codes = PCACodec(k).fit(fit.spikes).encode(score.spikes)
        assert curve["coded_bits"][k - 1] >= _entropy_columns(codes) - 1e-9  # cross-entropy >= entropy
    assert np.all(np.diff(curve["coded_bits"]) > 0) and curve["fixed_bits"][5] == 48


def test_at_rate_reads_the_curve(tiny_set):
    fit, score = tiny_set.halves()
    curve = pca_curve(fit, score, 40)
    at = pca_at_rate(fit, score, 40)
    assert at["pca_fixed_db"] == pytest.approx(curve["sndr_db"][4])  # 40 bits = 5 coefficients of 8 bits
    assert curve["sndr_db"].min() <= at["pca_coded_db"] <= curve["sndr_db"].max()
    assert math.isnan(pca_at_rate(fit, score, 4)["pca_fixed_db"])  # below one coefficient: no reading


def test_eval_prints_and_keeps_pca_at_the_real_rate(tiny_checkpoint, tiny_npz, tmp_path, capsys):
    from hwcae.cli import main

    out = tmp_path / "e.json"
    assert main(["eval", "--data", str(tiny_npz), "--checkpoint", str(tiny_checkpoint), "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["equal_rate"]["bits_per_spike"] == pytest.approx(4096 / r["cr_bytes"])
    e = r["equal_rate"]
    assert e["vs"] == "clean" and e["cae_db"] == r["sndr_clean_db_mean"]
    assert f"CAE {e['cae_db']:.2f} dB, PCA 8-bit fixed-length {e['pca_fixed_db']:.2f} dB" in capsys.readouterr().out


def test_without_clean_twins_both_are_scored_against_the_input(tiny_checkpoint, tiny_set, tmp_path):
    import dataclasses

    from hwcae.evaluate.table import evaluate
    from hwcae.model.checkpoint import load_checkpoint

    noisy = dataclasses.replace(tiny_set, clean=None)
    r = evaluate(noisy, checkpoint=load_checkpoint(tiny_checkpoint))
    e = r["equal_rate"]
    assert e["vs"] == "input" and e["cae_db"] == r["sndr_db_mean"] and math.isfinite(e["cae_db"])
    assert math.isfinite(e["pca_fixed_db"]) or e["bits_per_spike"] > 8 * 256
