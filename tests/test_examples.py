"""The README's Python example runs as written, on a tiny spike set."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_python_api_example_runs(tiny_npz):
    r = subprocess.run([sys.executable, "examples/python_api.py", str(tiny_npz)], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout
    assert "symbols (" in out and "container:" in out and "MACs/spike" in out and "uW/channel" in out
    assert "brevitas_vs_reference: indices 100.00% identical, latent codes 100.00%" in out
    assert "qonnx_vs_brevitas: indices 100.00% identical" in out


def test_api_round_trip_on_the_tiny_set(tiny_set, tiny_qat, tmp_path):
    """The API's functions agree with the library underneath: generation is deterministic, a QAT
    model's symbols go through a file and back unchanged, and decode is what decompress returns."""
    import numpy as np

    import hwcae

    again = hwcae.generate_spikes("tiny")
    assert np.array_equal(again.spikes, tiny_set.spikes)
    model = hwcae.load_model(tiny_qat)
    sym = hwcae.encode(model, tiny_set.spikes)
    size = hwcae.compress(model, tiny_set.spikes, tmp_path / "t.hwc")
    assert size == (tmp_path / "t.hwc").stat().st_size
    rec, decoded = hwcae.decompress(tiny_qat, tmp_path / "t.hwc")  # a path works as well as a loaded model
    assert np.array_equal(decoded.indices, sym) and np.allclose(rec, hwcae.decode(model, sym))
    fp = hwcae.fixed_point_model(tiny_qat)
    assert fp.symbols_per_spike == sym.shape[1]
