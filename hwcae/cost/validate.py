"""Validation of the estimator against published silicon, and neural-recording chips side by side.

CMS HGCAL ECON-T (Di Guglielmo et al., IEEE TNS 2021, arXiv 2105.01683): an hls4ml + Catapult
encoder ASIC in 65 nm LP, 3.6 mm^2, 2.4 nJ per inference at 40 MHz. Its network (public training
code): Conv2D 8 filters 3x3 on a 4x4x3 input (same padding), flattened 128 -> Dense to the latent
(16 outputs assumed here; the paper's configurations vary), ~6-bit weights, 10-bit inputs, 8-bit
activations, fully parallel (reuse 1). The published area is the whole chip (I/O, control), so
the area ratio is a lower bound of the estimator's error.
"""
from __future__ import annotations

from hwcae.cost.estimate import Budget, Layer, estimate
from hwcae.cost.tech import load_tech

ECON_T = {"energy_per_inference_pj": 2400.0, "area_mm2": 3.6, "power_mw": 95.0, "clock_hz": 40e6, "node": "65nm"}

NEURAL_CHIPS = [  # (chip, node, uW per channel, note) from ../shared/notes/hardware-figures.md
    ("streaming PCA chip (seed paper's group, TBioCAS)", "65 nm", 3.05, "25x at 8 % error"),
    ("Karkare et al. 2011, 64 ch spike compression", "90 nm", 130 / 64, "11.71 -> 1.02 Mb/s"),
    ("Karkare et al. 2013, 16 ch", "65 nm", 75 / 16, "240x"),
    ("Do et al., 128 ch on-chip sorting", "65 nm", 0.175, "sorting, not compression"),
    ("TU Delft 1024-ch spike sorter", "40 nm", 0.074, ">1000x"),
    ("Lemaire et al. 2025 PCA, 49 ch", "28 nm", 534 / 49, "8.8x vs spikes"),
]


def econ_t_check() -> dict:
    """Estimated vs published energy per inference and area for ECON-T's encoder."""
    tech = load_tech("65nm")
    # conv 3x3 over 3 input channels: model it as cin = 3 x 3 (kernel positions folded) x 3 channels
    layers = [Layer("conv3x3 (3->8, 4x4)", 27, 8, 1, 16, 6, 10, 0, 8), Layer("dense 128->16", 128, 16, 1, 1, 6, 8, 0, 8)]
    est = estimate(layers, tech, Budget(clock_hz=ECON_T["clock_hz"], reuse=1, channels=1,
                                        rate_hz=ECON_T["clock_hz"]), bits_per_spike=16 * 8)
    e_inf = est["energy_dynamic_pj"] + est["leakage_uw"] * 1e-6 / ECON_T["clock_hz"] * 1e12
    return {"estimated_energy_pj": e_inf, "published_energy_pj": ECON_T["energy_per_inference_pj"],
            "energy_ratio": e_inf / ECON_T["energy_per_inference_pj"],
            "estimated_area_mm2": est["area_mm2"], "published_area_mm2": ECON_T["area_mm2"],
            "area_ratio": est["area_mm2"] / ECON_T["area_mm2"], "macs": est["macs"], "gates_ge": est["gates_ge"]}
