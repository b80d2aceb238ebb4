"""One operating point (hls/operating_point.yaml) for Vitis, Catapult, the RTL and the cost; the
compression ratio on every footing."""
import math

import pytest

from hwcae.cost.estimate import Budget
from hwcae.errors import HwcaeError
from hwcae.export.backends import BACKENDS
from hwcae.metrics import footings, recording_footings
from hwcae.operating_point import load_operating_point


def test_vitis_catapult_and_cost_read_the_same_clock_and_node():
    op = load_operating_point()
    vitis = BACKENDS["vitis"].convert_kwargs(BACKENDS["vitis"].config())
    catapult = BACKENDS["catapult"].convert_kwargs(BACKENDS["catapult"].config())
    assert vitis["clock_period"] == catapult["clock_period"] == pytest.approx(1e3 / op.clock_mhz)
    assert vitis["part"] == op.fpga_part
    assert catapult["tech"] == "asic" and catapult["asiclibs"] == op.catapult_library
    assert op.node in op.catapult_library  # the cost's node is the ASIC library's node
    b = Budget.at_operating_point()
    assert (b.clock_hz, b.channels, b.rate_hz, b.sample_rate_hz) == (op.clock_hz, op.channels, op.rate_hz, op.sample_rate_hz)
    assert b.lanes is not None and Budget.at_operating_point(lanes=None).lanes is None  # None = hls4ml's datapath
    assert Budget.at_operating_point(channels=7, rate_hz=None).channels == 7


def test_a_bad_operating_point_is_one_line(tmp_path):
    bad = tmp_path / "op.yaml"
    bad.write_text("clock_mhz: 0\n")
    with pytest.raises(HwcaeError, match="clock_mhz"):
        load_operating_point(bad)
    bad.write_text("node: 45nm\nclok_mhz: 20\n")
    with pytest.raises(HwcaeError, match="clok_mhz"):
        load_operating_point(bad)


def test_cost_help_shows_the_operating_point_defaults(capsys):
    from hwcae.cli import main

    with pytest.raises(SystemExit):
        main(["cost", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    op = load_operating_point()
    assert f"(default {op.node})" in out and f"(default {op.channels})" in out and "operating_point.yaml" in out


def test_footings_by_hand():
    f = footings(128, rate_hz=50, sample_rate_hz=30000)
    assert f["cr_snippet16"] == 32 and f["cr_snippet12"] == 24 and f["cr_snippet10"] == 20
    assert f["cr_stream"] == pytest.approx(30000 * 12 / (50 * 128))
    with pytest.raises(ValueError):
        footings(0, rate_hz=50, sample_rate_hz=30000)
    r = recording_footings(1000 * 100, channels=32, duration_s=10, fs_hz=30000, spikes=1000)
    assert r["rate_hz"] == pytest.approx(1000 / 320) and r["bits_per_spike"] == 100
    assert r["cr_stream16"] == pytest.approx(32 * 10 * 30000 * 16 / 1e5)
    assert r["cr_stream10"] == pytest.approx(r["cr_stream16"] * 10 / 16)
    assert recording_footings(0, channels=32, duration_s=10, fs_hz=30000, spikes=0) == {"rate_hz": 0.0}
    assert not math.isnan(r["cr_snippet12"])


@pytest.mark.parametrize("design", ["w6a8", "hw-tiny"])
def test_the_area_limit_uses_the_area_reported(design):
    """The coder tables' ROM is in the area and in the area limit alike (w6a8 was credited a ninth instance)."""
    from hwcae.api import estimate_cost

    r = estimate_cost(f"models/qat-{design}.pt")
    b = r["budget"]
    fit = math.floor(b["area_budget_mm2"] / r["area_mm2"])
    assert r["limits"]["area"] == pytest.approx(fit * r["spikes_per_s_per_instance"] / b["rate_hz"])
    assert r["sram_bits"] >= r["huffman_table_bits"] > 0
