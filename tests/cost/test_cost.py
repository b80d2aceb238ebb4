import math

import pytest

from hwcae.cost.estimate import Budget, Layer, estimate, layer_cost
from hwcae.cost.tech import load_tech
from hwcae.errors import HwcaeError


def test_hand_computed_layer():
    # 2 input channels, 3 outputs, kernel 3, 4 positions, 4-bit weights, 8-bit inputs, 12-bit bias
    layer = Layer("l", 2, 3, 3, 4, w_bits=4, in_bits=8, bias_bits=12, out_bits=8)
    assert layer.macs == 2 * 3 * 3 * 4 == 72
    assert layer.acc_bits == 4 + 8 + math.ceil(math.log2(6)) + 1 == 16
    tech = load_tech("45nm")
    c = layer_cost(layer, tech, reuse=2)
    assert c["multipliers"] == 9 and c["cycles"] == 8
    assert c["sram_bits"] == 2 * 3 * 3 * 4 + 3 * 12 == 108
    e_mac = 0.0031 * 4 * 8 + 0.0031 * 16
    assert c["energy_compute_pj"] == pytest.approx(72 * e_mac)
    assert c["energy_memory_pj"] == pytest.approx(72 * 4 * 0.156 + 0.01 * (3 * 4 * 8 + 2 * 4 * 8))
    assert c["gates_ge"] == pytest.approx(9 * (7 * 32 + 7 * 16) + 6 * 3 * 4 * 8)
    assert layer_cost(layer, tech, reuse=1)["energy_memory_pj"] < c["energy_memory_pj"]  # wired-in weights


def test_tech_scaling_and_validation(tmp_path):
    ref, t65 = load_tech("45nm"), load_tech("65nm")
    assert t65.mult_pj_per_bit2 == pytest.approx(ref.mult_pj_per_bit2 * 65 / 45 * (1.2 / 0.9) ** 2)
    assert t65.ge_area_um2 == 1.44  # set by the file, not scaled
    bad = tmp_path / "x.yaml"
    bad.write_text("node: x\nfeature_nm: 10\nsupply_v: 0.7\nsources: {a: b}\n")
    with pytest.raises(HwcaeError, match="reference node"):
        load_tech(str(bad))
    bad.write_text("node: x\nscale_from: 45nm\nfeature_nm: -3\nsupply_v: 0.7\nsources: {a: b}\n")
    with pytest.raises(HwcaeError, match="feature_nm"):
        load_tech(str(bad))
    bad.write_text("node: x\nscale_from: 45nm\nfeature_nm: 10\nsupply_v: 0.7\nsources: {}\n")
    with pytest.raises(HwcaeError, match="sources"):
        load_tech(str(bad))


def _layers(w_bits):
    return [Layer("a", 16, 16, 3, 64, w_bits, 8, 16, 8), Layer("b", 16, 16, 1, 16, w_bits, 8, 16, 8)]


def test_monotonic_sanity():
    tech = load_tech("65nm")
    small = estimate(_layers(4), tech, Budget(channels=64), 112)
    wide = estimate(_layers(8), tech, Budget(channels=64), 112)
    assert wide["gates_ge"] > small["gates_ge"] and wide["energy_per_spike_pj"] > small["energy_per_spike_pj"]
    totals = [estimate(_layers(8), tech, Budget(channels=c), 112)["power_per_channel_uw"] * c for c in (64, 256, 1024)]
    assert totals[0] < totals[1] < totals[2]  # more channels -> more power
    r = estimate(_layers(8), tech, Budget(channels=64), 112)
    assert r["raw_spikes_power_per_channel_uw"] > r["power_breakdown_uw"]["transmission_uw"]


@pytest.mark.parametrize("budget, binding", [
    (Budget(power_budget_mw=0.2, clock_hz=1e9), "power"),
    (Budget(link_bps=1e4, clock_hz=1e9, power_budget_mw=1e6), "bandwidth"),
    (Budget(clock_hz=1e5, power_budget_mw=1e6, instances=1), "throughput"),
    (Budget(area_budget_mm2=1e-6), "area"),
])
def test_capacity_hits_the_binding_limit(budget, binding):
    r = estimate(_layers(8), load_tech("65nm"), budget, 112)
    assert r["binding_limit"] == binding
    lim = r["limits"][binding]
    assert r["channel_capacity"] == int(max(0.0, lim))
    # at that capacity the binding resource is (just) within budget
    if binding == "power":
        leak_share = r["leakage_uw"] / r["instances"] * budget.rate_hz / r["spikes_per_s_per_instance"]
        per = (r["energy_dynamic_pj"] * budget.rate_hz + budget.rate_hz * 112 * budget.radio_pj_per_bit) * 1e-6 + leak_share
        n = r["channel_capacity"]
        assert n * per <= budget.power_budget_mw * 1e3 < (n + 1) * per
    if binding == "throughput":
        assert r["channel_capacity"] * budget.rate_hz <= r["spikes_per_s_per_instance"]
    if binding == "area":
        assert r["channel_capacity"] == 0 and r["area_mm2"] > budget.area_budget_mm2


def test_econ_t_within_factor_two_on_energy():
    from hwcae.cost.validate import econ_t_check

    v = econ_t_check()
    assert 0.5 <= v["energy_ratio"] <= 2.0, v
    assert v["macs"] == 27 * 8 * 16 + 128 * 16


def test_cost_cli_json(each_qat, tmp_path):
    import json

    from hwcae.cli import main

    out = tmp_path / "c.json"
    assert main(["cost", "--checkpoint", str(each_qat), "--tech", "28nm", "--channels", "256", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    for k in ("gates_ge", "sram_bits", "macs_per_spike", "energy_per_spike_pj", "power_per_channel_uw",
              "channel_capacity", "binding_limit"):
        assert k in r
    from hwcae.model.cae import CAE, count_encoder_macs
    from hwcae.quantize.qat import load_qat

    assert r["macs_per_spike"] == count_encoder_macs(CAE(load_qat(each_qat)[1]))
    gain = [row for row in r["layers"] if row["layer"] == "gain stage"]
    if load_qat(each_qat)[1].gain is None:  # the conv test arch has no gain stage, the dense one has
        assert not gain
    else:  # a barrel shifter and a leading-one detector: no MACs, no cycles, tens of gates
        assert len(gain) == 1 and gain[0]["macs"] == 0 and gain[0]["cycles"] == 0
        assert 10 < gain[0]["gates_ge"] < 0.03 * r["gates_ge"]  # (the 16-lane engine of a tiny design: ~28 k GE)
