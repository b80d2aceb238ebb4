"""hwcae from Python: spikes -> bit-accurate fixed-point encoder -> .hwc file -> decoder, then the
design's integer model, its cost and a bit-exactness check. Run from the repository root:

    .venv/bin/python examples/python_api.py                 # the built-in test split (generated once, cached)
    .venv/bin/python examples/python_api.py my_spikes.npz   # your own spike set (spikes: (N, 4, 64) in uV)
    .venv/bin/python examples/python_api.py my_spikes.npz --hls   # also compile both HLS projects (~1 min)
"""
import sys
import tempfile
from pathlib import Path

import numpy as np

import hwcae
from hwcae.metrics import sndr_db

source = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else "synth"
design = "models/qat-w8a8.pt"

spikes = hwcae.load_spikes(source)  # a SpikeSet: .spikes (N, 4, 64) uV, .clean where known
x = spikes.spikes[:500]
model = hwcae.load_model(design)  # a QAT checkpoint encodes with the bit-accurate integer reference
symbols = hwcae.encode(model, x)  # (N, 17): 16 codeword indices + the gain code, what the chip sends
rec = hwcae.decode(model, symbols)  # the off-chip decoder, uV
target = spikes.clean[:500] if spikes.clean is not None else x
print(f"{len(x)} spikes from {source}: symbols {symbols.shape}, SNDR {np.mean(sndr_db(target, rec)):.2f} dB")

with tempfile.TemporaryDirectory() as tmp:
    size = hwcae.compress(model, x, Path(tmp) / "spikes.hwc")  # entropy coded, times and channels included
    back, decoded = hwcae.decompress(model, Path(tmp) / "spikes.hwc")
    assert np.array_equal(decoded.indices, symbols) and np.allclose(back, rec)
    print(f"container: {size} bytes, compression ratio {len(x) * 4 * 64 * 2 / size:.1f} (every byte counted)")

fp = hwcae.fixed_point_model(design)  # the typed integer model every implementation walks
print(f"fixed-point model: {len(fp.convs())} weight layers, {fp.macs():,} MACs/spike, "
      f"{fp.weight_bits():,} weight bits, ADC word {fp.input.bits} bits, latent {fp.latent_positions} x {fp.search.dim}")

cost = hwcae.estimate_cost(design)  # at the operating point, hls/operating_point.yaml (tech=, channels=, ... override)
print(f"cost at {cost['tech']}: {cost['energy_per_spike_pj'] / 1e3:.1f} nJ/spike, {cost['power_per_channel_uw']:.2f} uW/channel, "
      f"capacity {cost['channel_capacity']:,} channels")

with tempfile.TemporaryDirectory() as tmp:
    backends = None if "--hls" in sys.argv else ()  # () builds no HLS project: Brevitas vs reference vs qonnx
    report = hwcae.verify_design(design, x[:200], backends=backends, out=tmp, qonnx_spikes=64, progress=lambda *_: None)
    pairs = {k: v for k, v in report.items() if isinstance(v, dict) and "index_exact" in v}
    pairs.update({f"{k} ({b})": v[k] for b, v in report.items() if isinstance(v, dict) and "reference_vs_csim" in v
                  for k in ("reference_vs_csim", "brevitas_vs_csim")})
    for name, p in pairs.items():
        print(f"{name}: indices {p['index_exact']:.2%} identical, latent codes {p['latent_exact']:.2%}")
