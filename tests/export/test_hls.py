"""A tiny design through QONNX export, conversion, C-sim compile and verification, both backends."""
import numpy as np
import pytest

from hwcae.export import qonnx_export
from hwcae.quantize.extract import extract
from hwcae.quantize.qat import load_qat
from hwcae.verify.checks import brevitas_codes, compare, edge_inputs, qonnx_codes


def test_qonnx_executor_equals_brevitas(each_qat, tiny_set, tmp_path):
    model, _, design, _ = load_qat(each_qat)
    qonnx_export.export(model.encoder, tmp_path / "e.onnx")
    x = np.concatenate([tiny_set.spikes, edge_inputs(design.input.range_uv)])
    onnx = qonnx_export.cleaned(tmp_path / "e.onnx")
    r = compare(brevitas_codes(model.encoder, x), qonnx_codes(model.encoder, onnx, extract(model.encoder), x))
    assert r["index_exact"] == 1.0 and r["latent_exact"] == 1.0, r


@pytest.mark.timeout(600)
def test_tiny_design_convert_compile_verify_both_backends(each_qat, tiny_set, tmp_path):
    from hwcae.verify.design import all_exact, summary_rows, verify_design

    name = load_qat(each_qat)[2].name
    report = verify_design(each_qat, tiny_set.spikes[:300], out_root=tmp_path, progress=lambda *_: None)
    assert all_exact(report) and report["qonnx_vs_brevitas"]["index_exact"] == 1.0
    rows = summary_rows(report)
    assert [r["backend"] for r in rows] == ["Vitis", "Catapult"]
    for r in rows:
        assert r["csim_compiled"]
        assert r["index_exact"] == 1.0 and r["latent_exact"] == 1.0 and r["brevitas_exact"] == 1.0, r
        assert (tmp_path / name / r["backend"].lower() / "firmware").is_dir()
    assert (tmp_path / name / "fixedpoint.npz").is_file() and (tmp_path / name / "verify.json").is_file()
