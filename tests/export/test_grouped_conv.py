"""The seed's block form through the hardware path: grouped convolutions and one block applied
twice with shared weights (typed model, NumPy reference, QONNX, both HLS backends, cost)."""
import numpy as np
import pytest
import torch

from hwcae.fixedpoint import io as fixedpoint_io
from hwcae.fixedpoint.reference import ReferenceEncoder, grouped_conv1d
from hwcae.quantize.extract import extract
from hwcae.quantize.qat import load_qat


def test_grouped_conv1d_equals_torch():
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (5, 16, 8)).astype(np.float64)  # (N, L, C) channels last
    w = rng.integers(-127, 128, (12, 2, 3))  # 4 groups: 8 inputs / 4, 12 outputs / 4
    b = rng.integers(-1000, 1000, 12)
    want = torch.nn.functional.conv1d(torch.tensor(x.transpose(0, 2, 1)), torch.tensor(w, dtype=torch.float64),
                                      torch.tensor(b, dtype=torch.float64), padding=1, groups=4)
    np.testing.assert_array_equal(grouped_conv1d(x, w, b, 4), want.numpy().transpose(0, 2, 1))


def test_typed_model_groups_and_shared_weights(tiny_grouped_qat, tiny_set, tmp_path):
    from hwcae.verify.checks import brevitas_codes

    model = load_qat(tiny_grouped_qat)[0]
    fp = extract(model.encoder)
    convs = {c.name: c for c in fp.convs()}
    assert convs["block0.reduce"].groups == 2 and convs["block0.reduce"].w.shape == (4, 4, 1)
    assert convs["block1.mid"].shares == "block0.mid" and not convs["block0.mid"].shares
    assert np.array_equal(convs["block1.mid"].w, convs["block0.mid"].w)
    # each use's bias is quantised at its own input's scale, so it is exported from its own copy of
    # the block (Brevitas' export handler keeps a module's first bias scale for every later call)
    view, _ = model.encoder.export_view()
    assert view.blocks[0] is not view.blocks[1] and model.encoder.blocks[0] is model.encoder.blocks[1]
    for a, b in zip(view.blocks[0].parameters(), view.blocks[1].parameters()):
        assert torch.equal(a, b)
    # MACs count each output's own group only; shared weights are stored once
    assert fp.macs() == sum(c.cout * c.w.shape[1] * c.kernel * fp.shapes[c.dst][0] for c in fp.convs()) + 16 * 4 * 16
    own = [c for c in fp.convs() if not c.shares]
    assert fp.weight_bits() == sum(c.w.size * c.w_bits for c in own) + fp.search.codebook.size * fp.search.bits
    fixedpoint_io.save(fp, tmp_path / "fp.npz")
    with np.load(tmp_path / "fp.npz") as z:
        assert "w:block0.mid" in z and "w:block1.mid" not in z and "b:block1.mid" in z
    back = fixedpoint_io.load(tmp_path / "fp.npz")
    assert [(c.name, c.groups, c.shares) for c in back.convs()] == [(c.name, c.groups, c.shares) for c in fp.convs()]
    lat, idx = ReferenceEncoder(back).encode(tiny_set.spikes)
    blat, bidx = brevitas_codes(model.encoder, tiny_set.spikes)
    assert np.array_equal(lat, blat) and np.array_equal(idx, bidx)


def test_cost_counts_groups_and_shared_weights_once(tiny_grouped_qat):
    from hwcae.api import estimate_cost
    from hwcae.errors import HwcaeError
    from hwcae.rtl.schedule import lower

    r = estimate_cost(tiny_grouped_qat)  # the RTL engine by default: falls back, and says so
    assert "grouped convolutions" in r["datapath_note"] and "rtl" not in r
    rows = {row["layer"]: row for row in r["layers"]}
    assert rows["block0.mid"]["macs"] == 4 * 2 * 3 * 64  # cout x (cin / groups) x kernel x positions (before its pool)
    assert rows["block1.mid"]["sram_bits"] == 4 * 24  # bias only: weights stored once
    assert rows["block0.mid"]["sram_bits"] == 4 * 2 * 3 * 8 + 4 * 24
    with pytest.raises(HwcaeError, match="grouped convolution"):
        lower(extract(load_qat(tiny_grouped_qat)[0].encoder))


@pytest.mark.timeout(600)
def test_grouped_shared_design_bit_exact_both_backends(tiny_grouped_qat, tiny_set, tmp_path):
    from hwcae.verify.design import all_exact, verify_design

    report = verify_design(tiny_grouped_qat, tiny_set.spikes[:200], out_root=tmp_path, progress=lambda *_: None)
    assert all_exact(report) and report["qonnx_vs_brevitas"]["index_exact"] == 1.0
    root = tmp_path / "tiny-grouped-w8a8"
    for backend in ("vitis", "catapult"):
        code = next((root / backend / "firmware").glob("hwcae_encoder.cpp")).read_text()
        calls = [line for line in code.splitlines() if "nnet::grouped_conv_1d<" in line]
        assert len(calls) == 6, calls  # 3 grouped convs x 2 uses
        weights = [line.split("(")[1].split(",")[2].strip() for line in calls]
        assert weights[:3] == weights[3:] and len(set(weights)) == 3  # the second use reads the first's arrays
        files = {p.stem for p in (root / backend / "firmware" / "weights").glob("w*.h")}
        assert set(weights) <= files and len(files) == 3 + 3  # the grouped three, stem, head, codebook: no copies
