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
    # each project checks itself from its own folder with g++ only (tb_data from the reference)
    import subprocess

    import pytest

    from hwcae.errors import HwcaeError

    for backend in ("vitis", "catapult"):
        proj = tmp_path / name / backend
        run = subprocess.run(["bash", str(proj / "run_csim.sh")], capture_output=True, text=True)
        assert run.returncode == 0 and run.stdout.strip().startswith(f"PASS: {report['spikes']} of {report['spikes']}"), \
            run.stdout + run.stderr[-2000:]
        assert "global_in[256]" in (proj / "README.md").read_text() and len(list(proj.glob("firmware/*.so"))) == 1
        expected = proj / "tb_data" / "tb_output_predictions.dat"
        lines = expected.read_text().splitlines()
        first = lines[3].split()
        lines[3] = " ".join([str((int(first[0]) + 1) % 2)] + first[1:])  # one index changed
        expected.write_text("\n".join(lines) + "\n")
        run = subprocess.run(["bash", str(proj / "run_csim.sh")], capture_output=True, text=True)
        assert run.returncode == 1 and run.stdout.startswith("FAIL: 1 of") and "line 4" in run.stdout, run.stdout
    assert not (tmp_path / name / "catapult.tar.gz").exists() or (tmp_path / name / "catapult.tar.gz").stat().st_mtime >= \
        (tmp_path / name / "fixedpoint.npz").stat().st_mtime  # the archive, if written, is this build's
    # a project folder made for another design is never overwritten
    (tmp_path / "other").mkdir()
    (tmp_path / name).rename(tmp_path / "other" / "not-this-design")
    import json

    stamp = tmp_path / "other" / "not-this-design" / "vitis" / "hwcae_project.json"
    stamp.write_text(json.dumps({"design": "some-other-design", "backend": "vitis"}))
    with pytest.raises(HwcaeError, match="holds design some-other-design"):
        verify_design(each_qat, tiny_set.spikes[:20], root=tmp_path / "other" / "not-this-design", progress=lambda *_: None)
