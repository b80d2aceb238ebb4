"""``base:`` in an arch YAML: a variant holds only what differs; the merge is what each shipped sweep
point meant (its full spelling before ``base:`` existed), and bad chains are one line, refused early."""
from __future__ import annotations

import pytest

from hwcae.config import merged
from hwcae.errors import HwcaeError
from hwcae.model.config import load_arch
from tests.robustness.conftest import assert_refused, run_cli


def test_merge_keeps_base_keys_and_replaces_values_and_lists():
    base = {"a": 1, "enc": {"x": 1, "y": [1, 2]}, "z": {"k": 0}}
    assert merged(base, {"enc": {"y": [3]}, "a": 2}) == {"a": 2, "enc": {"x": 1, "y": [3]}, "z": {"k": 0}}
    assert base["enc"]["y"] == [1, 2]  # the base itself is not changed


def test_sweep_points_are_their_base_plus_what_they_write():
    d, r = load_arch("default").model_dump(), load_arch("rd-l4").model_dump()
    assert (r["encoder"]["positions"], r["encoder"]["latent_dim"], r["train"]["epochs"]) == (4, 8, 20)
    for section in ("decoder", "vq", "gain"):
        assert r[section] == d[section]
    assert r["encoder"]["hidden"] == d["encoder"]["hidden"] and r["name"] == "rd-l4"
    assert {k: v for k, v in r["train"].items() if k != "epochs"} == {k: v for k, v in d["train"].items() if k != "epochs"}
    p, pl = load_arch("paper").model_dump(), load_arch("paper-rd-l1").model_dump()
    assert [b["pool"] for b in pl["encoder"]["blocks"]] == [8, 8] and pl["decoder"]["linear_skip"]
    assert pl["encoder"]["channels"] == p["encoder"]["channels"] and pl["input_scale_uv"] == p["input_scale_uv"]


@pytest.mark.parametrize("text, words", [
    ("base: nosuch\nname: v\n", ("unknown name", "nosuch")),
    ("base: [default]\nname: v\n", ("base", "must be the name")),
    ("base: c.yaml\nname: v\n", ("leads back",)),
])
def test_bad_base_is_one_line(text, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(HwcaeError):
        load_arch("c.yaml")
    rc, _, err = run_cli(capsys, "train", "--config", "c.yaml", "--out", "m.pt", "--data", "missing.npz")
    assert_refused(rc, err, *words)
    assert not (tmp_path / "m.pt").exists()


def test_a_bad_value_in_a_variant_is_told_against_the_variant(tmp_path):
    (tmp_path / "v.yaml").write_text("base: default\nname: v\ndescription: d\nvq: {codebook_size: 0}\n")
    with pytest.raises(HwcaeError, match=r"v\.yaml: vq\.codebook_size"):
        load_arch(str(tmp_path / "v.yaml"))


def test_a_base_given_as_a_path_is_relative_to_the_file_naming_it(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text("base: default\nname: b\ndescription: d\nvq: {codebook_size: 64}\n")
    (tmp_path / "sub" / "v.yaml").write_text("base: b.yaml\nname: v\ndescription: d\nencoder: {positions: 8}\n")
    monkeypatch.chdir(tmp_path)  # not the folder of the files
    a = load_arch("sub/v.yaml")
    assert (a.name, a.vq.codebook_size, a.encoder.positions, a.encoder.hidden) == ("v", 64, 8, [64, 64])
