import json

from hwcae.cli import main


def test_compare_table_keys(tiny_qat, tiny_checkpoint, tiny_npz, tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["compare", "--data", str(tiny_npz), "--float", str(tiny_checkpoint), "--qat", str(tiny_qat),
                 "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 2
    for k in ("design", "sndr_db_mean", "sndr_clean_db_mean", "cr_fixed", "index_agreement", "weight_bits", "macs"):
        assert k in rows[0] and k in rows[1]
    assert rows[1]["weight_bits"] < rows[0]["weight_bits"]  # 8-bit weights vs float32
    assert 0.0 <= rows[1]["index_agreement"] <= 1.0
    assert out.with_suffix(".png").stat().st_size > 1000
    assert "saturation (tiny-w8a8)" in capsys.readouterr().out


def test_eval_takes_a_qat_checkpoint(tiny_qat, tiny_npz, tmp_path):
    out = tmp_path / "e.json"
    assert main(["eval", "--data", str(tiny_npz), "--checkpoint", str(tiny_qat), "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["model"] == "tiny" and r["design"] == "tiny-w8a8" and r["cr_bytes"] > 0 and r["sndr_db_mean"] == r["sndr_db_mean"]  # not NaN


def test_compare_defaults_to_every_committed_design(tiny_npz, tmp_path, monkeypatch):
    """Without --qat, compare takes models/qat-<design>.pt of every default design (what make qat writes)."""
    from pathlib import Path

    from hwcae.quantize.design import DEFAULT_DESIGNS

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    out = tmp_path / "c.json"
    assert main(["compare", "--data", str(tiny_npz), "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["design"] for r in rows[1:]] == DEFAULT_DESIGNS



def test_design_checkpoints_names_the_missing_one(tmp_path, monkeypatch):
    import pytest

    from hwcae.errors import HwcaeError
    from hwcae.quantize.design import design_checkpoints

    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "qat-w8a8.pt").write_bytes(b"x")
    assert design_checkpoints(["w8a8"]) == {"w8a8": "models/qat-w8a8.pt"}
    with pytest.raises(HwcaeError, match=r"no QAT checkpoint for design w8a10: models/qat-w8a10.pt \(make qat"):
        design_checkpoints(["w8a8", "w8a10"])
    assert design_checkpoints(["w4a8"], "models/qat-w8a8.pt") == {"w4a8": "models/qat-w8a8.pt"}
    with pytest.raises(HwcaeError, match="design w4a8: other.pt"):
        design_checkpoints(["w4a8"], "other.pt")
