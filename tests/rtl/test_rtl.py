"""The open RTL flow: generated Verilog, Verilator simulation and Yosys synthesis, bit for bit against
the NumPy reference (tiny designs; `make rtl` measures the real ones)."""
import shutil
import subprocess

import numpy as np
import pytest

from hwcae.errors import HwcaeError
from hwcae.fixedpoint.graph import Add, Conv, FixedPointModel, MaxPool, Quant, Reshape, Search, Word
from hwcae.fixedpoint.reference import ReferenceEncoder
from hwcae.rtl import simulate
from hwcae.rtl.flow import compare_sim
from hwcae.rtl.schedule import lower
from hwcae.rtl.verilog import SOURCES, write_verilog

needs_tools = pytest.mark.skipif(not (shutil.which("verilator") and shutil.which("yosys")),
                                 reason="verilator / yosys not installed (make rtl-tools)")


def every_op_model(seed: int = 0) -> FixedPointModel:
    """A small random design with every operation the datapath runs: a padded 3-tap conv, a residual
    (requantised skip + add + ReLU), max pooling, a left-shifting requantiser, a reshape and a search
    whose codebook has duplicate rows (ties)."""
    rng = np.random.default_rng(seed)
    inp = Word(8, True, -2)

    def conv(name, src, cout, cin, k, in_exp):
        return Conv(name, src, f"{name}.acc", rng.integers(-16, 16, (cout, cin, k)), -3, 5,
                    rng.integers(-300, 300, cout), in_exp)

    cb = rng.integers(-32, 32, (16, 16))
    cb[5] = cb[3]  # a tie: index 3 must win
    ops = [conv("c0", "input", 6, 4, 3, -2), Quant("c0", "c0.acc", "c0", Word(7, False, -2), relu=True),
           conv("c1", "c0", 6, 6, 1, -2), Quant("skip", "c0", "skip", Word(6, True, -1)),
           Quant("skip", "c1.acc", "branch", Word(6, True, -1)), Add(("skip", "branch"), "sum"),
           Quant("add", "sum", "a", Word(7, False, -1), relu=True), MaxPool("a", "pool", 2),
           Quant("up", "pool", "up", Word(9, True, -3)), conv("head", "up", 4, 6, 1, -3),
           Quant("latent", "head.acc", "lat.flat", Word(6, True, -2)), Reshape("lat.flat", "latent", 8)]
    return FixedPointModel("conv", 1.0, inp, ops, Search(cb, -2, 6), bias_bits=16)


def _inputs(model, n=150, seed=1):
    rng = np.random.default_rng(seed)
    full = model.adc[1]
    x = rng.normal(0, full / 3, (n, 4, 64))
    x[:5] = [np.zeros((4, 64)), np.full((4, 64), full), np.full((4, 64), -2 * full),
             np.full((4, 64), 2 * full), rng.uniform(-full, full, (4, 64))]
    return x


def _simulate(model, lanes, tmp_path):
    prog = lower(model, lanes)
    write_verilog(prog, "test", tmp_path)
    ref = ReferenceEncoder(model)
    x = _inputs(model)
    return prog, ref.quantize_input(x), ref.encode(x)


@needs_tools
@pytest.mark.parametrize("lanes", [1, 4, 16])
def test_every_operation_is_bit_exact_in_verilator(tmp_path, lanes):
    model = every_op_model()
    prog, codes, expect = _simulate(model, lanes, tmp_path)
    sim = simulate.run(simulate.build(prog, tmp_path), prog, codes, tmp_path)
    res = compare_sim(expect, sim)
    assert res["spikes_all_exact"] == 1.0, res
    assert (expect[1] == 3).any() and not (expect[1] == 5).any()  # the tied pair was hit: the lower index won
    # cycles: every spike takes the same, and more lanes take fewer
    assert set(sim["cycles"].tolist()) == {prog.cycles_per_spike()}  # the cost model's cycle count is exact
    if lanes == 16:
        assert sim["cycles"][0] < 0.5 * _cycles_one_lane(model, tmp_path / "one")


def _cycles_one_lane(model, folder):
    folder.mkdir()
    prog, codes, _ = _simulate(model, 1, folder)
    return simulate.run(simulate.build(prog, folder), prog, codes[:2], folder)["cycles"][0]


@needs_tools
def test_a_one_bit_change_in_a_weight_is_caught(tmp_path):
    model = every_op_model()
    prog, codes, expect = _simulate(model, 4, tmp_path)
    exe = simulate.build(prog, tmp_path)
    assert compare_sim(expect, simulate.run(exe, prog, codes, tmp_path))["spikes_all_exact"] == 1.0
    lines = (tmp_path / "weights.hex").read_text().splitlines()
    lines[0] = f"{int(lines[0], 16) ^ (1 << (prog.weight_bits - 2)):x}"  # one bit of lane 0's first weight
    (tmp_path / "weights.hex").write_text("\n".join(lines) + "\n")
    res = compare_sim(expect, simulate.run(exe, prog, codes, tmp_path))  # the ROM is read at simulation start
    assert res["latent_exact"] < 1.0 and res["spikes_all_exact"] < 0.9, res


@needs_tools
def test_generated_verilog_is_lint_clean(tmp_path):
    write_verilog(lower(every_op_model(), 3), "test", tmp_path)
    r = subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", "hwcae_encoder", *SOURCES],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


@needs_tools
def test_a_tiny_qat_design_through_generate_simulate_synthesise(tiny_dense_qat, tiny_set, tmp_path):
    from hwcae.api import build_rtl

    r = build_rtl(tiny_dense_qat, tiny_set.spikes[:40], out=tmp_path, lanes=2, progress=lambda *_: None)
    assert r["rtl_vs_reference"]["spikes_all_exact"] == 1.0 and r["rtl_vs_reference"]["spikes"] > 100
    assert r["rtl_vs_reference"]["gain_code_exact"] == 1.0  # the gain stage runs in the RTL too
    assert r["netlist_vs_reference"]["spikes_all_exact"] == 1.0 and r["netlist_vs_reference"]["spikes"] > 100
    syn = r["synthesis"]
    assert syn["flip_flops"] > 0 and syn["nand2_eq"] > 1000 and syn["logic_levels"] > 10
    assert set(syn["blocks"]) == {"mac_lanes", "requantiser", "search_argmax", "control"}
    assert syn["blocks"]["mac_lanes"]["instances"] == 2
    folder = next(tmp_path.glob("*/rtl"))
    assert {"verify.json", "synth.json", "netlist.v", "README.md", *SOURCES} <= {p.name for p in folder.iterdir()}
    # the cost model takes the measured gates and cycles of this build, and its estimate is within 1.5x
    from hwcae.cost.report import rtl_engine
    from hwcae.cost.tech import load_tech
    from hwcae.quantize.extract import extract
    from hwcae.quantize.qat import load_qat

    fixed = extract(load_qat(tiny_dense_qat)[0].encoder)
    e = rtl_engine(fixed, folder.parent.name, load_tech("65nm"), 2, build_dir=tmp_path)
    assert e["source"].startswith("measured") and e["gates_ge"] == syn["nand2_eq"] and e["cycles"] == r["cycles_per_spike"]
    assert all(1 / 1.5 <= b["measured_over_estimated"] <= 1.5 for b in e["blocks"]), e["blocks"]
    assert rtl_engine(fixed, folder.parent.name, load_tech("65nm"), 3, build_dir=tmp_path)["source"].startswith("estimated")


def test_bad_settings_are_one_line_errors():
    with pytest.raises(HwcaeError, match="lanes"):
        lower(every_op_model(), 0)
    m = every_op_model()
    with pytest.raises(HwcaeError, match="pooling over 4"):
        lower(m.replace(ops=m.ops[:2] + [MaxPool("c0", "pool4", 4), Quant("x", "pool4", "l", Word(6, True, -2)),
                                         Reshape("l", "latent", 6)]), 4)
