import pytest

from hwcae.errors import HwcaeError
from hwcae.quantize.design import load_design

GOOD = "name: t\narch: default\n"


@pytest.mark.parametrize("extra, message", [
    ("colour: red\n", "colour"),
    ("weight_bits: 1\n", "weight_bits"),
    ("weight_bits: 40\n", "weight_bits"),
    ("bias_bits: 40\naccumulator_bits: 32\n", "bias_bits"),
    ("rounding: floor\n", "rounding"),
    ("overflow: wrap\n", "overflow"),
    ("qat: {epochs: 2, momentum: 0.9}\n", "momentum"),
    ("layers: {stem: {weights: 99}}\n", "weights"),
])
def test_bad_designs_are_one_line_errors(tmp_path, extra, message):
    p = tmp_path / "d.yaml"
    p.write_text(GOOD + extra)
    with pytest.raises(HwcaeError, match=message) as exc:
        load_design(str(p))
    assert "\n" not in str(exc.value)


def test_default_designs_load():
    for name in ("w16a16", "w8a8", "w8a10", "w6a8", "w4a8", "hw-tiny"):
        d = load_design(name)
        assert d.name == name
        assert d.input_frac_bits(256.0) >= 0


def test_input_range_must_be_power_of_two_of_scale(tmp_path):
    p = tmp_path / "d.yaml"
    p.write_text(GOOD + "input: {bits: 12, range_uv: 500}\n")
    with pytest.raises(ValueError, match="power of two"):
        load_design(str(p)).input_frac_bits(256.0)


def test_per_layer_override():
    d = load_design("w8a8").model_copy(update={"layers": {"stem": {"weights": 4}}})
    from hwcae.quantize.design import LayerBits

    d = d.model_copy(update={"layers": {"stem": LayerBits(weights=4)}})
    assert d.bits_for("stem", "weights") == 4 and d.bits_for("head", "weights") == 8


def test_overrides_name_layers_of_the_architecture():
    import torch

    from hwcae.errors import HwcaeError
    from hwcae.model.config import load_arch
    from hwcae.quantize.design import LayerBits
    from hwcae.quantize.build import make_quant_encoder

    arch = load_arch("tiny-dense")
    d = load_design("w8a8").model_copy(update={"arch": arch.name, "layers": {"fc1": LayerBits(weights=4)}})
    q = make_quant_encoder(arch, d, torch.zeros(16, 2))
    assert int(q.fcs[1].quant_weight().bit_width) == 4 and int(q.fcs[0].quant_weight().bit_width) == 8
    with pytest.raises(HwcaeError, match=r"overrides for \['stem'\].*fc0, fc1, head"):
        make_quant_encoder(arch, d.model_copy(update={"layers": {"stem": LayerBits(weights=4)}}), torch.zeros(16, 2))
