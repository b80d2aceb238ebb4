"""``base:`` in a design YAML: w6a8 / w4a8 / w16a16 / w8a10 hold only what differs from w8a8, and each
still means exactly the design its committed checkpoint was fine-tuned with; a bad base is one line."""
from __future__ import annotations

from pathlib import Path

import pytest

from hwcae.model.checkpoint import load_checkpoint
from hwcae.quantize.design import DEFAULT_DESIGNS, design_from_dict, load_design, qat_checkpoint
from tests.robustness.conftest import ROOT, assert_refused, run_cli


@pytest.mark.parametrize("name", DEFAULT_DESIGNS)
def test_layered_design_is_the_one_its_checkpoint_holds(name):
    stored = design_from_dict(load_checkpoint(ROOT / qat_checkpoint(name))["design"])
    assert load_design(name) == stored


def test_a_variant_keeps_its_base_and_says_what_differs():
    base, v = load_design("w8a8"), load_design("w6a8")
    assert (v.name, v.weight_bits) == ("w6a8", 6)
    assert v.model_dump(exclude={"name", "description", "weight_bits"}) == base.model_dump(exclude={"name", "description", "weight_bits"})
    assert load_design("w16a16").activation_range == "stats" != base.activation_range  # a value the variant replaces


@pytest.mark.parametrize("text, words", [("base: nosuch\nname: v\n", ("unknown name", "nosuch")),
                                         ("base: c.yaml\nname: v\n", ("leads back",))])
def test_bad_design_base_is_one_line(text, words, tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    rc, _, err = run_cli(capsys, "qat", "--design", path, "--out", tmp_path / "q.pt", "--data", "missing.npz")
    assert_refused(rc, err, *words)
    assert not Path(tmp_path / "q.pt").exists()
