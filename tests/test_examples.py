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
